//! The node's housekeeping on a real SQLite file: nodes that stopped beating lose their
//! leases to the living, a node taken for dead registers again, and finished work is
//! pruned.

use imipd_store::{Batch, JobDone, NewJob, Node, SqliteStore, Store};
use imipd_worker::{HousekeepingConfig, housekeeping_round};
use std::sync::Arc;

fn job(uid: &str) -> NewJob {
    NewJob {
        user: "bob@example.org".into(),
        spec: "{}".into(),
        idem_key: uid.into(),
        uid: uid.into(),
        sender: "alice@example.org".into(),
        message: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
        decided: None,
        applies: false,
        queue_id: format!("Q-{uid}"),
    }
}

fn node(store: &Arc<dyn Store>) -> HousekeepingConfig {
    let node = Node::this_process("mx.test", None);
    let workers = vec![node.worker("worker-1")];
    store.register_node(&node, &workers).unwrap();
    HousekeepingConfig::new(node, workers, 30 * 86_400)
}

#[tokio::test]
async fn silent_nodes_lose_their_leases_and_a_node_taken_for_dead_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap());
    let me = node(&store);
    let other = node(&store);
    store.enqueue_job(&job("u1")).unwrap();
    store.enqueue_job(&job("u2")).unwrap();
    assert_eq!(
        store.claim_jobs(&other.workers[0], 3600, 1).unwrap().len(),
        1
    );
    assert_eq!(store.claim_jobs(&me.workers[0], 3600, 1).unwrap().len(), 1);

    // Silent for a minute (as the database counts it) is dead; nobody is yet.
    housekeeping_round(&store, &me, false).await;
    assert_eq!(store.nodes().unwrap().len(), 2);
    assert!(store.claim_jobs("w", 60, 10).unwrap().is_empty());

    // Any silence counts: every other node is dead.
    let impatient = HousekeepingConfig {
        dead_after_secs: -1,
        ..me.clone()
    };
    housekeeping_round(&store, &impatient, false).await;
    let ids: Vec<String> = store
        .nodes()
        .unwrap()
        .into_iter()
        .map(|n| n.node.id)
        .collect();
    assert_eq!(
        ids,
        std::slice::from_ref(&me.node.id),
        "the silent node is gone, this one kept"
    );
    let taken = store.claim_jobs("w", 60, 10).unwrap();
    assert_eq!(
        taken.iter().map(|j| j.uid.as_str()).collect::<Vec<_>>(),
        ["u1"],
        "only the silent node's job is due again"
    );

    // The other node finds itself released and registers again.
    housekeeping_round(&store, &other, false).await;
    assert_eq!(store.nodes().unwrap().len(), 2);
}

#[tokio::test]
async fn finished_work_is_pruned_after_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap());
    let me = node(&store);
    let id = store.enqueue_job(&job("u1")).unwrap().unwrap();
    store.claim_jobs(&me.workers[0], 60, 1).unwrap();
    store
        .commit(&Batch {
            job: Some(JobDone {
                job_id: id,
                worker: me.workers[0].clone(),
                outcome: "no_action".into(),
                applied: false,
            }),
            ..Batch::default()
        })
        .unwrap();
    // Within the retention, and when it is not time to prune, the job stays.
    housekeeping_round(&store, &me, true).await;
    let zero = HousekeepingConfig {
        retention_secs: 0,
        ..me.clone()
    };
    housekeeping_round(&store, &zero, false).await;
    assert!(store.job(id).unwrap().is_some());
    housekeeping_round(&store, &zero, true).await;
    assert!(store.job(id).unwrap().is_none());
}
