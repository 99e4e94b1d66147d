//! The `Store` contract, run against a real SQLite file. A second backend runs the same cases.

use imipd_store::{
    Batch, CalendarProps, Conflict, Error, Expect, Found, JobDone, JobFilter, JobState, NewJob,
    NewMail, Node, ObjectWrite, SqliteStore, Store,
};

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    (dir, store)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn job(user: &str, uid: &str, key: &str) -> NewJob {
    NewJob {
        user: user.into(),
        spec: "{}".into(),
        idem_key: key.into(),
        uid: uid.into(),
        sender: "Alice@Example.org".into(),
        message: b"Subject: x\r\n\r\nbody".to_vec(),
        decided: None,
        applies: false,
        queue_id: format!("Q-{key}"),
    }
}

fn ics(uid: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nUID:{uid}\r\nEND:VCALENDAR\r\n")
}

fn put(uid: &str) -> ObjectWrite {
    ObjectWrite::new_event("default", uid, &ics(uid))
}

fn put_in(calendar_id: &str, uid: &str) -> ObjectWrite {
    ObjectWrite::new_event(calendar_id, uid, &ics(uid))
}

/// Bob's writes, committed on their own.
fn write(s: &SqliteStore, writes: Vec<ObjectWrite>) -> imipd_store::Result<()> {
    s.commit(&Batch {
        user: "bob@example.org".into(),
        writes,
        ..Batch::default()
    })
    .map(|_| ())
}

/// A job's completion by `worker`, with its writes and mail.
fn done(job_id: i64, worker: &str, writes: Vec<ObjectWrite>, mails: Vec<NewMail>) -> Batch {
    Batch {
        user: "bob@example.org".into(),
        writes,
        mails,
        job: Some(JobDone {
            job_id,
            worker: worker.into(),
            outcome: "added; reason=\"x\"".into(),
            applied: true,
        }),
    }
}

fn conflict(result: imipd_store::Result<()>) -> Conflict {
    match result {
        Err(Error::Conflict(c)) => *c,
        other => panic!("expected a conflict, got {other:?}"),
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
    write(&s, vec![put("u1")]).unwrap();
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
    s.create_calendar("bob@example.org", "work", &CalendarProps::named("Work"))
        .unwrap();
    assert!(matches!(
        s.create_calendar("bob@example.org", "work", &CalendarProps::named("Work")),
        Err(Error::CalendarExists(_))
    ));
    assert!(
        s.create_calendar("bob@example.org", "../x", &CalendarProps::named("X"))
            .is_err()
    );
    let before = s.feed_head().unwrap();
    write(&s, vec![put("u1")]).unwrap();
    write(&s, vec![put_in("work", "u2")]).unwrap();
    assert_eq!(s.feed_head().unwrap(), before + 2);
    let u2 = s.find_object("bob@example.org", "u2").unwrap().unwrap();
    assert_eq!(
        (u2.calendar_id.as_str(), u2.href.as_str()),
        ("work", "u2.ics")
    );
    assert_eq!(
        s.object_at("bob@example.org", "work", "u2.ics").unwrap(),
        Some(u2)
    );
    assert!(s.find_object("bob@example.org", "nope").unwrap().is_none());
    assert!(matches!(
        write(&s, vec![put_in("missing", "u3")]),
        Err(Error::NoSuchCalendar(_))
    ));
    let u1 = s.find_object("bob@example.org", "u1").unwrap().unwrap();
    write(&s, vec![ObjectWrite::delete(&u1)]).unwrap();
    assert_eq!(s.objects("bob@example.org").unwrap().len(), 1);
}

#[test]
fn every_write_names_what_it_expects_and_a_stale_one_changes_nothing() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    s.create_calendar("bob@example.org", "work", &CalendarProps::named("Work"))
        .unwrap();
    write(&s, vec![put("u1")]).unwrap();
    let read = s.find_object("bob@example.org", "u1").unwrap().unwrap();
    assert_eq!(read.etag(), format!("\"{}\"", read.modseq));
    // Someone else changes u1 after it was read.
    write(&s, vec![ObjectWrite::replace(&read, "theirs")]).unwrap();
    let theirs = s.find_object("bob@example.org", "u1").unwrap().unwrap();
    assert!(theirs.modseq > read.modseq);
    let new_at = |href: &str, uid: &str| ObjectWrite::Put {
        calendar_id: "default".into(),
        href: href.into(),
        uid: uid.into(),
        ics: "mine".into(),
        expect: Expect::MustNotExist,
    };
    // (write, what the conflict reports as expected and found)
    let cases = [
        (
            ObjectWrite::replace(&read, "mine"),
            Expect::Modseq(read.modseq),
            Found::Version(theirs.modseq),
        ),
        (
            ObjectWrite::delete(&read),
            Expect::Modseq(read.modseq),
            Found::Version(theirs.modseq),
        ),
        (put("u1"), Expect::UidUnused, Found::Version(theirs.modseq)),
        (
            new_at("other-name.ics", "u1"),
            Expect::MustNotExist,
            Found::Uid {
                calendar_id: "default".into(),
                href: "u1.ics".into(),
            },
        ),
        (
            new_at("u1.ics", "u9"),
            Expect::MustNotExist,
            Found::OtherUid("u1".into()),
        ),
        (
            ObjectWrite::replace(
                &imipd_store::CalendarObject {
                    href: "gone.ics".into(),
                    ..read.clone()
                },
                "mine",
            ),
            Expect::Modseq(read.modseq),
            Found::Nothing,
        ),
        (
            put_in("work", "u1"),
            Expect::UidUnused,
            Found::Uid {
                calendar_id: "default".into(),
                href: "u1.ics".into(),
            },
        ),
    ];
    for (n, (stale, expected, found)) in cases.into_iter().enumerate() {
        // Each stale write rides with a good one: the whole batch is refused.
        let c = conflict(write(&s, vec![put(&format!("fresh-{n}")), stale]));
        assert_eq!((c.expected, &c.found), (expected, &found), "case {n}: {c}");
        assert_eq!(c.user, "bob@example.org");
        let text = c.to_string();
        assert!(
            text.contains(&expected.to_string()) && text.contains("read it again"),
            "case {n}: {text}"
        );
        assert!(
            s.find_object("bob@example.org", &format!("fresh-{n}"))
                .unwrap()
                .is_none(),
            "case {n}: a refused batch writes nothing"
        );
        assert_eq!(
            s.find_object("bob@example.org", "u1").unwrap().as_ref(),
            Some(&theirs),
            "case {n}"
        );
    }
    // The same UID may live in a second calendar when written as such (CalDAV); the
    // default calendar's copy stays the scheduling copy.
    write(
        &s,
        vec![ObjectWrite::Put {
            calendar_id: "work".into(),
            href: "copy.ics".into(),
            uid: "u1".into(),
            ics: "copy".into(),
            expect: Expect::MustNotExist,
        }],
    )
    .unwrap();
    assert_eq!(
        s.find_object("bob@example.org", "u1").unwrap(),
        Some(theirs)
    );
    assert_eq!(
        s.object_at("bob@example.org", "work", "copy.ics")
            .unwrap()
            .unwrap()
            .ics,
        "copy"
    );
}

#[test]
fn calendars_carry_their_properties_and_are_renamed_made_default_and_deleted() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let props = CalendarProps {
        name: Some("Work".into()),
        description: Some("Office hours".into()),
        color: Some("#FF8800cc".into()),
        timezone: Some("America/Argentina/Buenos_Aires".into()),
        components: Some(vec!["vtodo".into(), "VEVENT".into(), "VTODO".into()]),
    };
    let work = s
        .create_calendar("bob@example.org", "work", &props)
        .unwrap();
    assert_eq!(
        (
            work.name.as_str(),
            work.description.as_deref(),
            work.color.as_deref(),
            work.timezone.as_deref(),
            work.components.clone()
        ),
        (
            "Work",
            Some("Office hours"),
            Some("#FF8800cc"),
            Some("America/Argentina/Buenos_Aires"),
            vec!["VTODO".to_string(), "VEVENT".to_string()]
        )
    );
    let plain = s
        .create_calendar("bob@example.org", "plain", &CalendarProps::default())
        .unwrap();
    assert_eq!(
        (
            plain.name.as_str(),
            plain.color.clone(),
            plain.components.clone()
        ),
        (
            "plain",
            None,
            vec!["VEVENT".to_string(), "VTODO".to_string()]
        )
    );
    // (properties, words of the refusal)
    let refused = [
        (CalendarProps::named(" "), "name"),
        (CalendarProps::named("a\u{7}b"), "no control characters"),
        (
            CalendarProps {
                color: Some("red".into()),
                ..CalendarProps::default()
            },
            "#RRGGBB",
        ),
        (
            CalendarProps {
                timezone: Some("Europe/Berlin; DROP".into()),
                ..CalendarProps::default()
            },
            "IANA name",
        ),
        (
            CalendarProps {
                components: Some(vec!["VFREEBUSY".into()]),
                ..CalendarProps::default()
            },
            "VEVENT, VTODO or VJOURNAL",
        ),
        (
            CalendarProps {
                components: Some(vec![]),
                ..CalendarProps::default()
            },
            "at least one",
        ),
    ];
    for (props, words) in refused {
        let err = s
            .update_calendar("bob@example.org", "work", &props)
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidCalendar(_)) && err.to_string().contains(words),
            "{props:?}: {err}"
        );
        assert!(
            s.create_calendar("bob@example.org", "other", &props)
                .is_err(),
            "{props:?}"
        );
    }
    assert_eq!(
        s.calendars("bob@example.org").unwrap()[1..],
        [plain.clone(), work.clone()],
        "refused changes changed nothing"
    );
    // A rename leaves the rest; an empty value unsets a property.
    let renamed = s
        .update_calendar(
            "bob@example.org",
            "work",
            &CalendarProps {
                name: Some("Office".into()),
                color: Some(String::new()),
                ..CalendarProps::default()
            },
        )
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.color, renamed.description),
        ("Office", None, work.description.clone())
    );
    assert!(matches!(
        s.update_calendar("bob@example.org", "nope", &CalendarProps::named("X")),
        Err(Error::NoSuchCalendar(_))
    ));

    write(
        &s,
        vec![put_in("work", "w1"), put_in("work", "w2"), put("d1")],
    )
    .unwrap();
    let err = s.delete_calendar("bob@example.org", "default").unwrap_err();
    assert!(
        matches!(err, Error::DefaultCalendar { .. })
            && err
                .to_string()
                .contains("imipd calendars default bob@example.org ID"),
        "{err}"
    );
    assert_eq!(s.delete_calendar("bob@example.org", "work").unwrap(), 2);
    assert!(s.find_object("bob@example.org", "w1").unwrap().is_none());
    assert!(s.find_object("bob@example.org", "d1").unwrap().is_some());
    assert!(matches!(
        s.delete_calendar("bob@example.org", "work"),
        Err(Error::NoSuchCalendar(_))
    ));
    // Once another calendar is the default, the old one can go, and new events go there.
    s.set_default_calendar("bob@example.org", "plain").unwrap();
    assert_eq!(s.default_calendar("bob@example.org").unwrap().id, "plain");
    assert_eq!(s.delete_calendar("bob@example.org", "default").unwrap(), 1);
    let left: Vec<(String, bool)> = s
        .calendars("bob@example.org")
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.is_default))
        .collect();
    assert_eq!(left, [("plain".to_string(), true)]);
    assert!(matches!(
        s.set_default_calendar("bob@example.org", "gone"),
        Err(Error::NoSuchCalendar(_))
    ));
}

#[test]
fn every_write_is_in_the_change_log_with_tombstones_for_deletes() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    s.create_user("carol@example.org", None).unwrap();
    s.create_calendar("bob@example.org", "work", &CalendarProps::named("Work"))
        .unwrap();
    let bob = "bob@example.org";
    let token = |cal: &str| -> i64 {
        s.calendars(bob)
            .unwrap()
            .into_iter()
            .find(|c| c.id == cal)
            .unwrap()
            .sync_token
    };
    write(&s, vec![put("a"), put("b"), put_in("work", "w")]).unwrap();
    // An initial sync: every object, and the token to go on from.
    let first = s.changes_since(bob, "default", None).unwrap();
    let hrefs: Vec<&str> = first.changed.iter().map(|c| c.href.as_str()).collect();
    assert_eq!(hrefs, ["a.ics", "b.ics"]);
    assert_eq!(first.token, token("default"));
    let work_token = token("work");

    let a = s.find_object(bob, "a").unwrap().unwrap();
    let b = s.find_object(bob, "b").unwrap().unwrap();
    write(
        &s,
        vec![ObjectWrite::replace(&a, "a2"), ObjectWrite::delete(&b)],
    )
    .unwrap();
    write(&s, vec![put("c")]).unwrap();
    let delta = s.changes_since(bob, "default", Some(first.token)).unwrap();
    let changed: Vec<(&str, i64)> = delta
        .changed
        .iter()
        .map(|c| (c.href.as_str(), c.modseq))
        .collect();
    let a2 = s.find_object(bob, "a").unwrap().unwrap();
    let c = s.find_object(bob, "c").unwrap().unwrap();
    assert_eq!(changed, [("a.ics", a2.modseq), ("c.ics", c.modseq)]);
    assert_eq!(delta.deleted, ["b.ics"]);
    assert!(delta.token > first.token && delta.token == token("default"));
    assert_eq!(
        s.changes_since(bob, "default", Some(delta.token)).unwrap(),
        imipd_store::Changes {
            token: delta.token,
            ..Default::default()
        },
        "nothing since"
    );
    assert_eq!(
        token("work"),
        work_token,
        "another calendar's writes leave it alone"
    );

    // (token, why it is refused)
    let refused = [
        (first.token - 100, "from before the calendar existed"),
        (s.feed_head().unwrap() + 1, "never given out"),
    ];
    for (bad, why) in refused {
        let err = s.changes_since(bob, "default", Some(bad)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidSyncToken { token, .. } if token == bad),
            "{why}: {err}"
        );
        assert!(err.to_string().contains("sync it again"), "{err}");
    }
    // A calendar deleted and made again does not take its old tokens.
    s.delete_calendar(bob, "work").unwrap();
    s.create_calendar(bob, "work", &CalendarProps::named("Work"))
        .unwrap();
    assert!(matches!(
        s.changes_since(bob, "work", Some(work_token)),
        Err(Error::InvalidSyncToken { .. })
    ));
    // A rename moves the ctag but is not a member change.
    let before = token("work");
    s.update_calendar(bob, "work", &CalendarProps::named("Office"))
        .unwrap();
    assert!(token("work") > before);
    assert_eq!(
        s.changes_since(bob, "work", Some(before)).unwrap().changed,
        []
    );

    // The feed: every user's changes in commit order, latest per object.
    let start = s.feed_head().unwrap();
    s.commit(&Batch {
        user: "carol@example.org".into(),
        writes: vec![put("x")],
        ..Batch::default()
    })
    .unwrap();
    let c = s.find_object(bob, "c").unwrap().unwrap();
    write(&s, vec![ObjectWrite::delete(&c)]).unwrap();
    let feed: Vec<(String, Option<String>, bool)> = s
        .feed_since(start, 10)
        .unwrap()
        .into_iter()
        .map(|e| (e.user, e.href, e.deleted))
        .collect();
    assert_eq!(
        feed,
        [
            (
                "carol@example.org".to_string(),
                Some("x.ics".to_string()),
                false
            ),
            (bob.to_string(), Some("c.ics".to_string()), true),
        ]
    );
    let all = s.feed_since(0, 100).unwrap();
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all.last().unwrap().seq, s.feed_head().unwrap());
    assert_eq!(s.feed_since(0, 2).unwrap().len(), 2);
    assert!(
        all.iter()
            .any(|e| e.calendar_id == "work" && e.href.is_none()),
        "the calendar's own changes are in the feed"
    );
}

#[test]
fn a_second_handle_sees_the_feed_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let server = SqliteStore::open(&path).unwrap();
    let cli = SqliteStore::open(&path).unwrap();
    cli.create_user("bob@example.org", None).unwrap();
    let start = server.feed_head().unwrap();
    write(&cli, vec![put("u1")]).unwrap();
    let seen = server.feed_since(start, 10).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].href.as_deref(), Some("u1.ics"));
}

#[test]
fn finished_and_hand_applied_jobs_are_on_the_job_feed_of_every_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let server = SqliteStore::open(&path).unwrap();
    let worker = SqliteStore::open(&path).unwrap();
    worker.create_user("bob@example.org", None).unwrap();
    let start = server.job_feed_head().unwrap();
    let id = worker
        .enqueue_job(&job("bob@example.org", "u1", "k1"))
        .unwrap()
        .unwrap();
    let claimed = worker.claim_jobs("w1", 60, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        server.job_feed_since(start, 10).unwrap(),
        [],
        "not finished yet"
    );
    worker.commit(&done(id, "w1", vec![], vec![])).unwrap();
    let finished = server.job_feed_since(start, 10).unwrap();
    assert_eq!(
        finished
            .iter()
            .map(|n| (n.user.as_str(), n.job_id))
            .collect::<Vec<_>>(),
        [("bob@example.org", id)]
    );
    assert_eq!(server.job_feed_head().unwrap(), finished[0].seq);

    assert_eq!(server.job(id).unwrap().unwrap().by_hand, None);
    assert!(worker.record_by_hand(id, "{\"by\":\"hand\"}").unwrap());
    assert!(!worker.record_by_hand(id + 1, "{}").unwrap(), "no such job");
    let again = server.job_feed_since(finished[0].seq, 10).unwrap();
    assert_eq!(again.iter().map(|n| n.job_id).collect::<Vec<_>>(), [id]);
    assert_eq!(
        server.job(id).unwrap().unwrap().by_hand.as_deref(),
        Some("{\"by\":\"hand\"}")
    );
}

#[test]
fn batches_committed_together_fail_alone() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    write(&s, vec![put("taken")]).unwrap();
    let ids: Vec<i64> = ["k1", "k2", "k3"]
        .iter()
        .map(|k| {
            s.enqueue_job(&job("bob@example.org", k, k))
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(s.claim_jobs("w1", 60, 10).unwrap().len(), 3);
    let mail = |to: &str| NewMail {
        user: "bob@example.org".into(),
        mail_from: "bob@example.org".into(),
        rcpt_to: vec![to.into()],
        data: b"Subject: r\r\n\r\nx".to_vec(),
        purpose: "reply".into(),
        idem_key: None,
        queue_id: "Q".into(),
    };
    // The second batch's first write and its mail are fine, its second one is not: none
    // of it may stay, and the batches around it commit.
    let results = s
        .commit_all(&[
            done(ids[0], "w1", vec![put("a")], vec![mail("a@example.org")]),
            done(
                ids[1],
                "w1",
                vec![put("b"), put("taken")],
                vec![mail("b@example.org")],
            ),
            done(ids[2], "w1", vec![put("c")], vec![]),
        ])
        .unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(Error::Conflict(_))), "{results:?}");
    for (uid, kept) in [("a", true), ("b", false), ("c", true)] {
        assert_eq!(
            s.find_object("bob@example.org", uid).unwrap().is_some(),
            kept,
            "{uid}"
        );
    }
    let to: Vec<Vec<String>> = s
        .mails(&Default::default())
        .unwrap()
        .into_iter()
        .map(|m| m.rcpt_to)
        .collect();
    assert_eq!(to, [vec!["a@example.org".to_string()]]);
    let states: Vec<JobState> = ids
        .iter()
        .map(|&id| s.job(id).unwrap().unwrap().state)
        .collect();
    assert_eq!(states, [JobState::Done, JobState::Running, JobState::Done]);
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
    s.commit(&done(kept, "w", vec![], vec![])).unwrap();
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
    s.commit(&done(a1, "w1", vec![], vec![])).unwrap();
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
    assert!(matches!(
        s.commit(&done(id, "dead-worker", vec![put("u1")], vec![])),
        Err(Error::LeaseLost(_))
    ));
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_none());
    s.commit(&done(id, "w2", vec![put("u1")], vec![])).unwrap();
    let done = s.job(id).unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.outcome.as_deref(), Some("added; reason=\"x\""));
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_some());
    assert_eq!(
        s.actions_since("bob@example.org", "alice@example.org", 0)
            .unwrap(),
        1
    );
}

#[test]
fn a_senders_actions_count_from_delivery_until_they_turn_out_not_to_apply() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let count = |s: &SqliteStore| {
        s.actions_since("BOB@example.org", "alice@EXAMPLE.org", 0)
            .unwrap()
    };
    let applies = |uid: &str| NewJob {
        applies: true,
        decided: Some("{}".into()),
        ..job("bob@example.org", uid, uid)
    };
    let held = s.hold_job(&applies("held")).unwrap().unwrap();
    let queued = s.enqueue_job(&applies("queued")).unwrap().unwrap();
    s.enqueue_job(&job("bob@example.org", "nothing", "nothing"))
        .unwrap();
    assert_eq!(count(&s), 2, "held and queued jobs that will apply count");
    assert_eq!(
        s.actions_since("bob@example.org", "alice@example.org", now() + 10)
            .unwrap(),
        0,
        "only jobs written since then"
    );
    assert_eq!(
        s.actions_since("bob@example.org", "carol@example.org", 0)
            .unwrap(),
        0
    );
    s.release_job(held).unwrap();
    let claimed: Vec<i64> = s
        .claim_jobs("w", 60, 10)
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert!(
        claimed.contains(&held) && claimed.contains(&queued),
        "{claimed:?}"
    );
    assert_eq!(count(&s), 2, "running jobs count");
    let mut not_applied = done(held, "w", Vec::new(), Vec::new());
    if let Some(job) = &mut not_applied.job {
        job.applied = false;
    }
    s.commit(&not_applied).unwrap();
    assert_eq!(
        count(&s),
        1,
        "a job that did not apply after all no longer counts"
    );
    s.fail_job(queued, "w", "broken", None).unwrap();
    assert_eq!(count(&s), 0, "a dead job never applied");
}

#[test]
fn a_held_job_found_again_takes_the_new_deliverys_decision() {
    let (_d, s) = open();
    let first = NewJob {
        decided: Some("first".into()),
        applies: true,
        ..job("bob@example.org", "u1", "k")
    };
    let id = s.hold_job(&first).unwrap().unwrap();
    assert_eq!(s.job(id).unwrap().unwrap().queue_id, "Q-k");
    let again = NewJob {
        decided: Some("second".into()),
        applies: false,
        queue_id: "Q-again".into(),
        ..first
    };
    assert_eq!(s.hold_job(&again).unwrap(), Some(id));
    let held = s.job(id).unwrap().unwrap();
    assert_eq!(held.decided.as_deref(), Some("second"));
    assert_eq!(
        held.queue_id, "Q-again",
        "the mail of this delivery names it"
    );
    assert_eq!(
        s.actions_since("bob@example.org", "alice@example.org", 0)
            .unwrap(),
        0
    );
}

#[test]
fn leases_of_dead_nodes_are_released_at_once_and_live_ones_kept() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let (alive, dead) = (
        Node::this_process("mx1", None),
        Node::this_process("mx1", None),
    );
    assert_ne!(alive.id, dead.id, "every start is a new node");
    assert_eq!(alive.id.len(), 32);
    for node in [&alive, &dead] {
        s.register_node(node, &[node.worker("worker-1")]).unwrap();
    }
    for (n, key) in ["k1", "k2", "k3"].iter().enumerate() {
        s.enqueue_job(&job("bob@example.org", &format!("u{n}"), key))
            .unwrap();
    }
    assert_eq!(
        s.claim_jobs(&alive.worker("worker-1"), 3600, 1)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.claim_jobs(&dead.worker("worker-1"), 3600, 1)
            .unwrap()
            .len(),
        1
    );
    // A lease of a worker no node registered (an imipd from before the registry).
    assert_eq!(s.claim_jobs("mx1:1234:worker-1", 3600, 1).unwrap().len(), 1);
    assert!(
        s.claim_jobs("other", 60, 10).unwrap().is_empty(),
        "all leased"
    );
    let registered: Vec<(String, i64)> = s
        .nodes()
        .unwrap()
        .into_iter()
        .map(|n| (n.node.id, n.silent_secs))
        .collect();
    assert_eq!(registered.len(), 2);
    assert!(
        registered.iter().all(|(_, silent)| *silent <= 1),
        "{registered:?}"
    );
    assert!(s.heartbeat(&alive.id).unwrap());

    assert_eq!(s.release_nodes(std::slice::from_ref(&dead.id)).unwrap(), 2);
    let taken: Vec<String> = s
        .claim_jobs("other", 60, 10)
        .unwrap()
        .into_iter()
        .map(|j| j.uid)
        .collect();
    assert_eq!(
        taken,
        ["u1", "u2"],
        "the dead node's and the unregistered lease"
    );
    assert!(
        !s.heartbeat(&dead.id).unwrap(),
        "a released node is told so"
    );
    let left: Vec<String> = s.nodes().unwrap().into_iter().map(|n| n.node.id).collect();
    assert_eq!(left, std::slice::from_ref(&alive.id));
    s.unregister_node(&alive.id).unwrap();
    assert!(s.nodes().unwrap().is_empty());
}

#[test]
fn pruning_removes_finished_work_and_old_tombstones_only() {
    let (_d, s) = open();
    s.create_user("bob@example.org", None).unwrap();
    let mail = |purpose: &str| NewMail {
        user: "bob@example.org".into(),
        mail_from: "bob@example.org".into(),
        rcpt_to: vec!["alice@example.org".into()],
        data: b"x".to_vec(),
        purpose: purpose.into(),
        idem_key: None,
        queue_id: format!("Q-{purpose}"),
    };
    let finished = s
        .enqueue_job(&job("bob@example.org", "u1", "k1"))
        .unwrap()
        .unwrap();
    s.claim_jobs("w", 60, 1).unwrap();
    s.commit(&done(finished, "w", vec![], vec![])).unwrap();
    let queued = s
        .enqueue_job(&job("bob@example.org", "u2", "k2"))
        .unwrap()
        .unwrap();
    let held = s
        .hold_job(&job("bob@example.org", "u3", "k3"))
        .unwrap()
        .unwrap();
    let sent = s.queue_mail(&mail("reply")).unwrap();
    s.claim_mail("w", 60, 1).unwrap();
    s.mail_sent(sent, "w").unwrap();
    let waiting = s.queue_mail(&mail("request")).unwrap();
    write(&s, vec![put("gone"), put("kept")]).unwrap();
    let token = s
        .changes_since("bob@example.org", "default", None)
        .unwrap()
        .token;
    let gone = s.find_object("bob@example.org", "gone").unwrap().unwrap();
    write(&s, vec![ObjectWrite::delete(&gone)]).unwrap();

    assert_eq!(
        s.prune(3600).unwrap(),
        imipd_store::Pruned::default(),
        "nothing is an hour old"
    );
    assert!(
        s.changes_since("bob@example.org", "default", Some(token))
            .is_ok()
    );
    let pruned = s.prune(0).unwrap();
    assert_eq!(
        (pruned.jobs, pruned.mails, pruned.tombstones),
        (1, 1, 1),
        "{pruned:?}"
    );
    assert!(s.job(finished).unwrap().is_none());
    assert!(s.job(queued).unwrap().is_some() && s.job(held).unwrap().is_some());
    let mails: Vec<i64> = s
        .mails(&JobFilter::default())
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(mails, [waiting]);
    assert!(s.find_object("bob@example.org", "kept").unwrap().is_some());
    // The tombstone is gone, so a token from before it can no longer be answered.
    assert!(matches!(
        s.changes_since("bob@example.org", "default", Some(token)),
        Err(Error::InvalidSyncToken { .. })
    ));
    let fresh = s.changes_since("bob@example.org", "default", None).unwrap();
    assert!(
        s.changes_since("bob@example.org", "default", Some(fresh.token))
            .is_ok(),
        "tokens from after the pruned tombstones stay good"
    );
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
    let completion = done(id, "w", vec![put("u1"), put_in("missing", "u2")], vec![]);
    assert!(s.commit(&completion).is_err());
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
        queue_id: "Q-reply".into(),
    };
    let all = JobFilter {
        limit: 10,
        ..JobFilter::default()
    };
    let batch = |writes: Vec<ObjectWrite>| Batch {
        user: "bob@example.org".into(),
        writes,
        mails: vec![reply.clone()],
        job: None,
    };
    let committed = s.commit(&batch(vec![put("u1")])).unwrap();
    assert_eq!(committed.mail_ids.len(), 1);
    assert_eq!(committed.objects[0].href, "u1.ics");
    assert!(s.find_object("bob@example.org", "u1").unwrap().is_some());
    assert_eq!(s.mails(&all).unwrap().len(), 1);
    // A write that fails takes its mail with it.
    assert!(s.commit(&batch(vec![put_in("missing", "u2")])).is_err());
    assert_eq!(s.mails(&all).unwrap().len(), 1);
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
        queue_id: "Q-reply".into(),
    };
    let id = s.queue_mail(&mail).unwrap();
    let claimed = s.claim_mail("w", 60, 5).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].rcpt_to, mail.rcpt_to);
    assert_eq!(claimed[0].data, mail.data);
    assert_eq!(claimed[0].queue_id, "Q-reply");
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
    let completion = done(
        id,
        "w",
        vec![put("u1")],
        vec![NewMail {
            user: "bob@example.org".into(),
            mail_from: "bob@example.org".into(),
            rcpt_to: vec!["alice@example.org".into()],
            data: b"x".to_vec(),
            purpose: "refresh".into(),
            idem_key: None,
            queue_id: "Q-refresh".into(),
        }],
    );
    s.commit(&completion).unwrap();
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

#[test]
fn an_inbox_deletion_is_ordered_among_the_jobs_before_and_after_it() {
    let (_d, s) = open();
    let bob = "bob@example.org";
    s.create_user(bob, None).unwrap();
    let applied = |key: &str| {
        let id = s.enqueue_job(&job(bob, key, key)).unwrap().unwrap();
        assert_eq!(s.claim_jobs("w", 60, 1).unwrap()[0].id, id);
        s.commit(&done(id, "w", vec![put(key)], vec![])).unwrap();
        id
    };
    let (first, second) = (applied("u1"), applied("u2"));
    assert!(s.delete_from_inbox(bob, first).unwrap());
    assert!(!s.delete_from_inbox(bob, first).unwrap(), "once");
    let third = applied("u3");
    let deletions = s.inbox_deletions(bob).unwrap();
    assert_eq!(deletions.len(), 1, "{deletions:?}");
    let (job, at) = deletions[0];
    assert_eq!(job, first);
    assert!(second < at && at < third, "{second} < {at} < {third}");
    assert!(s.inbox_deletions("alice@example.org").unwrap().is_empty());
}
