//! The node registry and pruning, on the database's clock.

use crate::{Node, NodeStatus, Pruned, Result};
use rusqlite::{Connection, params};

pub fn register(conn: &Connection, node: &Node, workers: &[String]) -> Result<()> {
    conn.execute(
        "INSERT INTO nodes (id, host, pid, process, started, heartbeat)
         VALUES (?1, ?2, ?3, ?4, unixepoch(), unixepoch())",
        params![node.id, node.host, node.pid, node.process],
    )?;
    for worker in workers {
        conn.execute(
            "INSERT INTO workers (id, node) VALUES (?1, ?2)",
            params![worker, node.id],
        )?;
    }
    Ok(())
}

/// `false` when the node is no longer registered (another node released it as dead).
pub fn heartbeat(conn: &Connection, node: &str) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE nodes SET heartbeat = unixepoch() WHERE id = ?1",
        [node],
    )? == 1)
}

pub fn list(conn: &Connection) -> Result<Vec<NodeStatus>> {
    Ok(conn
        .prepare(
            "SELECT id, host, pid, process, started, unixepoch() - heartbeat FROM nodes
             ORDER BY started, id",
        )?
        .query_map([], |r| {
            Ok(NodeStatus {
                node: Node {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    process: r.get(3)?,
                },
                started: r.get(4)?,
                silent_secs: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Ends the leases of the nodes' workers, and of workers no node registered (an imipd
/// from before the registry, a node removed already), then removes the nodes.
pub fn release(conn: &Connection, nodes: &[String]) -> Result<u64> {
    let nodes = serde_json::to_string(nodes).unwrap_or_else(|_| "[]".into());
    let mut released = 0;
    for table in ["jobs", "outbox"] {
        released += conn.execute(
            &format!(
                "UPDATE {table} SET lease_until = 0
                 WHERE state = 'running' AND (
                     lease_owner IN (SELECT id FROM workers
                                     WHERE node IN (SELECT value FROM json_each(?1)))
                     OR lease_owner NOT IN (SELECT id FROM workers))"
            ),
            [&nodes],
        )?;
    }
    conn.execute(
        "DELETE FROM nodes WHERE id IN (SELECT value FROM json_each(?1))",
        [&nodes],
    )?;
    Ok(released as u64)
}

pub fn unregister(conn: &Connection, node: &str) -> Result<()> {
    conn.execute("DELETE FROM nodes WHERE id = ?1", [node])?;
    Ok(())
}

/// Removes finished jobs, sent mail and tombstones last touched before `retention_secs`
/// ago. A calendar whose tombstones go no longer accepts tokens from before them.
pub fn prune(conn: &Connection, retention_secs: i64) -> Result<Pruned> {
    let cutoff = "unixepoch() - ?1";
    let jobs = conn.execute(
        &format!("DELETE FROM jobs WHERE state = 'done' AND updated <= {cutoff}"),
        [retention_secs],
    )?;
    let mails = conn.execute(
        &format!("DELETE FROM outbox WHERE state = 'done' AND updated <= {cutoff}"),
        [retention_secs],
    )?;
    conn.execute(
        &format!(
            "UPDATE calendars SET sync_floor = MAX(sync_floor, (
                 SELECT MAX(c.seq) FROM changes c
                 WHERE c.user = calendars.user AND c.calendar_id = calendars.id
                   AND c.deleted = 1 AND c.at <= {cutoff}))
             WHERE EXISTS (
                 SELECT 1 FROM changes c
                 WHERE c.user = calendars.user AND c.calendar_id = calendars.id
                   AND c.deleted = 1 AND c.at <= {cutoff})"
        ),
        [retention_secs],
    )?;
    let tombstones = conn.execute(
        &format!("DELETE FROM changes WHERE deleted = 1 AND at <= {cutoff}"),
        [retention_secs],
    )?;
    Ok(Pruned {
        jobs: jobs as u64,
        mails: mails as u64,
        tombstones: tombstones as u64,
    })
}
