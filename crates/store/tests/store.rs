//! The `Store` contract, run against a real SQLite file. A second backend runs the same cases.

use imipd_store::{
    Completion, Error, JobFilter, JobState, NewJob, NewMail, ObjectWrite, SqliteStore, Store,
};

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    (dir, store)
}

fn job(user: &str, uid: &str, key: &str) -> NewJob {
    NewJob {
        user: user.into(),
        spec: "{}".into(),
        idem_key: key.into(),
        uid: uid.into(),
        sender: "Alice@Example.org".into(),
        message: b"Subject: x\r\n\r\nbody".to_vec(),
    }
}

fn put(uid: &str) -> ObjectWrite {
    ObjectWrite::Put {
        calendar_id: "default".into(),
        uid: uid.into(),
        ics: format!("BEGIN:VCALENDAR\r\nUID:{uid}\r\nEND:VCALENDAR\r\n"),
    }
}

#[test]
fn addresses_resolve_case_insensitively_with_aliases_and_plus_tags() {
    let (_d, s) = open();
    s.create_user("Bob@Example.org", None).unwrap();
    s.add_alias("bob@example.org", "robert@example.net")
        .unwrap();
    let cases = [
        ("bob@example.org", Some("bob@example.org")),
        ("BOB@EXAMPLE.ORG", Some("bob@example.org")),
        ("bob+calendar@example.org", Some("bob@example.org")),
        ("<Robert+x@example.net>", Some("bob@example.org")),
        ("carol@example.org", None),
        ("bob@example.net", None),
    ];
    for (address, want) in cases {
        assert_eq!(
            s.resolve_address(address).unwrap().as_deref(),
            want,
            "resolving {address}"
        );
    }
}

#[test]
fn an_address_belongs_to_one_user() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    s.create_user("carol@example.org", None).unwrap();
    let err = s
        .add_alias("carol@example.org", "BOB@example.org")
        .unwrap_err();
    assert!(matches!(err, Error::AddressTaken { ref owner, .. } if owner == "bob@example.org"));
    assert!(matches!(
        s.create_user("bob@example.org", None),
        Err(Error::AddressTaken { .. })
    ));
    assert!(matches!(
        s.create_user("not-an-address", None),
        Err(Error::InvalidAddress(_))
    ));
    assert!(matches!(
        s.create_user("bob+tag@example.net", None),
        Err(Error::InvalidAddress(_))
    ));
}

#[test]
fn deleting_a_user_frees_its_addresses_and_data() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    s.add_alias("bob@example.org", "b@example.org").unwrap();
    s.write_object("bob@example.org", &put("u1")).unwrap();
    s.delete_user("BOB@example.org").unwrap();
    assert_eq!(s.resolve_address("b@example.org").unwrap(), None);
    assert!(s.list_users().unwrap().is_empty());
    assert!(matches!(
        s.delete_user("bob@example.org"),
        Err(Error::NoSuchUser(_))
    ));
    s.create_user("bob@example.org", None).unwrap();
    assert!(s.objects("bob@example.org").unwrap().is_empty());
}

#[test]
fn default_calendar_exists_and_objects_are_found_by_uid() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let cals = s.calendars("bob@example.org").unwrap();
    assert_eq!(cals.len(), 1);
    assert!(cals[0].is_default);
    s.create_calendar("bob@example.org", "work", "Work")
        .unwrap();
    assert!(matches!(
        s.create_calendar("bob@example.org", "work", "Work"),
        Err(Error::CalendarExists(_))
    ));
    assert!(s.create_calendar("bob@example.org", "../x", "X").is_err());
    let before = s.calendar_changes().unwrap();
    s.write_object("bob@example.org", &put("u1")).unwrap();
    s.write_object(
        "bob@example.org",
        &ObjectWrite::Put {
            calendar_id: "work".into(),
            uid: "u2".into(),
            ics: "X".into(),
        },
    )
    .unwrap();
    assert_eq!(s.calendar_changes().unwrap(), before + 2);
    assert_eq!(
        s.find_object("bob@example.org", "u2")
            .unwrap()
            .unwrap()
            .calendar_id,
        "work"
    );
    assert!(s.find_object("bob@example.org", "nope").unwrap().is_none());
    assert!(matches!(
        s.write_object(
            "bob@example.org",
            &ObjectWrite::Put {
                calendar_id: "missing".into(),
                uid: "u3".into(),
                ics: "X".into()
            }
        ),
        Err(Error::NoSuchCalendar(_))
    ));
    s.write_object("bob@example.org", &ObjectWrite::Delete { uid: "u1".into() })
        .unwrap();
    assert_eq!(s.objects("bob@example.org").unwrap().len(), 1);
}

#[test]
fn prefs_script_and_contacts() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    assert!(s.sieve_script("bob@example.org").unwrap().is_none());
    let prefs = vec![("apply_updates".to_string(), "off".to_string())];
    s.set_prefs_and_script("bob@example.org", &prefs, "keep;")
        .unwrap();
    assert_eq!(s.prefs("bob@example.org").unwrap(), prefs);
    assert_eq!(s.sieve_script("bob@example.org").unwrap().unwrap(), "keep;");
    s.add_contact("bob@example.org", "Alice@Example.org")
        .unwrap();
    s.add_contact("bob@example.org", "alice@example.org")
        .unwrap();
    assert_eq!(
        s.contacts("bob@example.org").unwrap(),
        vec!["alice@example.org"]
    );
    assert!(
        s.is_contact("bob@example.org", "ALICE@example.org")
            .unwrap()
    );
    assert!(
        s.remove_contact("bob@example.org", "alice@example.org")
            .unwrap()
    );
    assert!(
        !s.is_contact("bob@example.org", "alice@example.org")
            .unwrap()
    );
    assert!(s.add_contact("bob@example.org", "nobody").is_err());
}

#[test]
fn a_redelivered_job_is_queued_once() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    assert!(
        s.enqueue_job(&job("bob@example.org", "u1", "k1"))
            .unwrap()
            .is_some()
    );
    assert!(
        s.enqueue_job(&job("bob@example.org", "u1", "k1"))
            .unwrap()
            .is_none()
    );
    assert_eq!(s.jobs(&JobFilter::default()).unwrap().len(), 1);
}

#[test]
fn a_held_job_runs_only_once_released_and_a_dropped_one_never() {
    let (_d, s) = open();
    let claimed = |s: &SqliteStore| -> Vec<i64> {
        s.claim_jobs("w", 60, 10)
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect()
    };
    let kept = s
        .hold_job(&job("bob@example.org", "u1", "kept"))
        .unwrap()
        .unwrap();
    let gone = s
        .hold_job(&job("bob@example.org", "u2", "gone"))
        .unwrap()
        .unwrap();
    assert_eq!(s.job(kept).unwrap().unwrap().state, JobState::Held);
    assert!(claimed(&s).is_empty(), "held jobs are never claimed");
    // The retry of a delivery cut short finds its held job again, under the same key.
    assert_eq!(
        s.hold_job(&job("bob@example.org", "u1", "kept")).unwrap(),
        Some(kept)
    );
    assert!(s.drop_held_job(gone).unwrap());
    assert!(s.job(gone).unwrap().is_none(), "a dropped job is gone");
    assert!(s.release_job(kept).unwrap());
    // (operation, expected): releasing or dropping twice does nothing.
    let again = [
        ("release", s.release_job(kept).unwrap()),
        ("drop", s.drop_held_job(kept).unwrap()),
    ];
    for (what, done) in again {
        assert!(!done, "{what} of a released job");
    }
    assert_eq!(claimed(&s), vec![kept]);
    s.complete_job(kept, "w", &Completion::default()).unwrap();
    assert_eq!(
        s.hold_job(&job("bob@example.org", "u1", "kept")).unwrap(),
        None,
        "a repeated delivery of a job already run is not held again"
    );
}

#[test]
fn jobs_for_one_uid_run_in_order_and_others_in_parallel() {
    let (_d, s) = open();
    let a1 = s
        .enqueue_job(&job("bob@example.org", "a", "a1"))
        .unwrap()
        .unwrap();
    let a2 = s
        .enqueue_job(&job("bob@example.org", "a", "a2"))
        .unwrap()
        .unwrap();
    let b1 = s
        .enqueue_job(&job("bob@example.org", "b", "b1"))
        .unwrap()
        .unwrap();
    let first: Vec<i64> = s
        .claim_jobs("w1", 60, 10)
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(first, vec![a1, b1], "a2 must wait for a1");
    assert!(s.claim_jobs("w2", 60, 10).unwrap().is_empty());
    s.complete_job(a1, "w1", &Completion::default()).unwrap();
    let next: Vec<i64> = s
        .claim_jobs("w2", 60, 10)
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(next, vec![a2]);
}

#[test]
fn an_expired_lease_is_taken_over_and_the_old_worker_cannot_complete() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let id = s
        .enqueue_job(&job("bob@example.org", "u1", "k"))
        .unwrap()
        .unwrap();
    assert_eq!(s.claim_jobs("dead-worker", -1, 1).unwrap().len(), 1);
    let taken = s.claim_jobs("w2", 60, 1).unwrap();
    assert_eq!(taken[0].id, id);
    assert_eq!(taken[0].attempts, 2);
    let completion = Completion {
        writes: vec![put("u1")],
        outcome: "added; reason=\"x\"".into(),
        applied: true,
        ..Completion::default()
    };
    assert!(matches!(
        s.complete_job(id, "dead-worker", &completion),
        Err(Error::LeaseLost(_))
    ));
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_none());
    s.complete_job(id, "w2", &completion).unwrap();
    let done = s.job(id).unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.outcome.as_deref(), Some("added; reason=\"x\""));
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_some());
    assert_eq!(
        s.applied_since("bob@example.org", "alice@example.org", 0)
            .unwrap(),
        1
    );
}

#[test]
fn leases_of_a_dead_worker_are_released_at_once() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    s.enqueue_job(&job("bob@example.org", "u1", "k1")).unwrap();
    s.enqueue_job(&job("bob@example.org", "u2", "k2")).unwrap();
    assert_eq!(s.claim_jobs("host:1:w", 3600, 1).unwrap().len(), 1);
    assert_eq!(s.claim_jobs("host:2:w", 3600, 1).unwrap().len(), 1);
    let mut holders = s.lease_holders().unwrap();
    holders.sort();
    assert_eq!(holders, ["host:1:w", "host:2:w"]);
    // A long lease still held: nothing to claim.
    assert!(s.claim_jobs("host:3:w", 60, 10).unwrap().is_empty());
    assert_eq!(s.release_leases("host:1:w").unwrap(), 1);
    let taken = s.claim_jobs("host:3:w", 60, 10).unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].uid, "u1");
    assert_eq!(s.lease_holders().unwrap().len(), 2);
}

#[test]
fn a_failing_write_rolls_back_the_whole_completion() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let id = s
        .enqueue_job(&job("bob@example.org", "u1", "k"))
        .unwrap()
        .unwrap();
    s.claim_jobs("w", 60, 1).unwrap();
    let completion = Completion {
        writes: vec![
            put("u1"),
            ObjectWrite::Put {
                calendar_id: "missing".into(),
                uid: "u2".into(),
                ics: "X".into(),
            },
        ],
        ..Completion::default()
    };
    assert!(s.complete_job(id, "w", &completion).is_err());
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_none());
    assert_eq!(s.job(id).unwrap().unwrap().state, JobState::Running);
}

#[test]
fn a_users_action_commits_its_write_and_its_mail_together() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let reply = NewMail {
        user: "bob@example.org".into(),
        mail_from: "bob@example.org".into(),
        rcpt_to: vec!["alice@example.org".into()],
        data: b"Subject: Accepted\r\n\r\n".to_vec(),
        purpose: "reply".into(),
        idem_key: None,
    };
    let all = JobFilter {
        limit: 10,
        ..JobFilter::default()
    };
    let id = s
        .write_and_queue("bob@example.org", &put("u1"), Some(&reply))
        .unwrap();
    assert!(id.is_some());
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_some());
    assert_eq!(s.mails(&all).unwrap().len(), 1);
    // A write that fails takes its mail with it.
    let broken = ObjectWrite::Put {
        calendar_id: "missing".into(),
        uid: "u2".into(),
        ics: "X".into(),
    };
    assert!(
        s.write_and_queue("bob@example.org", &broken, Some(&reply))
            .is_err()
    );
    assert_eq!(s.mails(&all).unwrap().len(), 1);
    assert_eq!(
        s.write_and_queue("bob@example.org", &put("u3"), None)
            .unwrap(),
        None
    );
}

#[test]
fn failures_retry_then_dead_letter_then_manual_retry() {
    let (_d, s) = open();
    let id = s
        .enqueue_job(&job("bob@example.org", "u1", "k"))
        .unwrap()
        .unwrap();
    s.claim_jobs("w", 60, 1).unwrap();
    s.fail_job(id, "w", "database is locked", Some(i64::MAX))
        .unwrap();
    let j = s.job(id).unwrap().unwrap();
    assert_eq!(
        (j.state, j.last_error.as_deref()),
        (JobState::Queued, Some("database is locked"))
    );
    assert!(s.claim_jobs("w", 60, 1).unwrap().is_empty(), "deferred");
    assert!(s.retry_job(id).unwrap());
    s.claim_jobs("w", 60, 1).unwrap();
    s.fail_job(id, "w", "unparsable", None).unwrap();
    let dead = s
        .jobs(&JobFilter {
            state: Some(JobState::Dead),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(s.queue_counts().unwrap().jobs_dead, 1);
    assert!(s.retry_job(id).unwrap());
    assert_eq!(s.claim_jobs("w", 60, 1).unwrap().len(), 1);
}

#[test]
fn outbox_mail_is_claimed_sent_and_failed() {
    let (_d, s) = open();
    let mail = NewMail {
        user: "bob@example.org".into(),
        mail_from: "bob@example.org".into(),
        rcpt_to: vec!["alice@example.org".into()],
        data: b"Subject: Accepted\r\n\r\n".to_vec(),
        purpose: "reply".into(),
        idem_key: None,
    };
    let id = s.queue_mail(&mail).unwrap();
    let claimed = s.claim_mail("w", 60, 5).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].rcpt_to, mail.rcpt_to);
    assert_eq!(claimed[0].data, mail.data);
    s.mail_failed(id, "w", "451 try later", Some(0)).unwrap();
    assert_eq!(s.claim_mail("w", 60, 5).unwrap().len(), 1);
    s.mail_sent(id, "w").unwrap();
    assert!(s.claim_mail("w", 60, 5).unwrap().is_empty());
    assert_eq!(
        s.mails(&JobFilter::default()).unwrap()[0].state,
        JobState::Done
    );
}

#[test]
fn completion_queues_mail_atomically() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let id = s
        .enqueue_job(&job("bob@example.org", "u1", "k"))
        .unwrap()
        .unwrap();
    s.claim_jobs("w", 60, 1).unwrap();
    let completion = Completion {
        writes: vec![put("u1")],
        mails: vec![NewMail {
            user: "bob@example.org".into(),
            mail_from: "bob@example.org".into(),
            rcpt_to: vec!["alice@example.org".into()],
            data: b"x".to_vec(),
            purpose: "refresh".into(),
            idem_key: None,
        }],
        outcome: "updated".into(),
        applied: true,
    };
    s.complete_job(id, "w", &completion).unwrap();
    assert_eq!(s.mails(&JobFilter::default()).unwrap().len(), 1);
}

#[test]
fn two_handles_on_one_file_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    a.create_user("bob@example.org", None).unwrap();
    assert_eq!(
        b.resolve_address("bob@example.org").unwrap().as_deref(),
        Some("bob@example.org")
    );
}
