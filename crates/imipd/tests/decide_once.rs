//! One decision per invitation: what the delivered mail's `X-Imipd-Cal-Outcome` says is
//! what its job records, however many invitations one sender sends.

mod common;

use common::itip::Mail;
use common::*;
use std::collections::HashMap;
use std::path::Path;

const BOB: &str = "bob@example.org";

fn bob(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
}

/// The outcome each job shows in `imipd jobs list`, by UID.
fn job_outcomes(list: &str) -> HashMap<String, String> {
    list.lines()
        .filter_map(|line| {
            let uid = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("uid="))?;
            let (_, summary) = line.split_once("attempts=")?;
            let (_, summary) = summary.split_once("  ")?;
            Some((uid.to_string(), summary.trim().to_string()))
        })
        .collect()
}

#[test]
fn past_the_sender_limit_the_mail_says_what_the_job_does() {
    let server = Imipd::start(bob, &[]);
    // 55 invitations over 5 connections at once: deliveries agree on the limit however
    // they interleave.
    std::thread::scope(|s| {
        for connection in 0..5 {
            let server = &server;
            s.spawn(move || {
                let mut lmtp = server.connect();
                for i in 0..11 {
                    let uid = format!("rl-{connection}-{i}@example.org");
                    let mail = Mail::request(&uid).bytes();
                    let (_, data) = lmtp.deliver("alice@example.org", &[BOB], &mail);
                    assert!(data[0].starts_with("250"), "{data:?}");
                }
                lmtp.quit();
            });
        }
    });
    settled(&server);
    let jobs = job_outcomes(&must(server.data(), &["jobs", "list", "--limit", "1000"]));
    let mut limited = 0;
    for mail in messages(&server.maildir(BOB), "") {
        let uid = header_values(&mail, "X-ME-Cal-UID").join(" ");
        let header = header_values(&mail, "X-Imipd-Cal-Outcome").join(" ");
        let job = jobs
            .get(&uid)
            .unwrap_or_else(|| panic!("no job for {uid}: {jobs:?}"));
        assert_eq!(&header, job, "{uid}: the header and the job disagree");
        limited += usize::from(header.starts_with("no_action") && header.contains("rate limit"));
    }
    assert_eq!(limited, 5, "{jobs:?}");
    let events = must(server.data(), &["events", "list", BOB]);
    assert_eq!(
        events.lines().filter(|l| l.contains("rl-")).count(),
        50,
        "{events}"
    );
}

/// An invitation from Alice to Bob, as the job carries it.
fn calendar(method: &str, status: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:{method}\r\n\
         BEGIN:VEVENT\r\nUID:over@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:Planning\r\n\
         STATUS:{status}\r\nORGANIZER:mailto:alice@example.org\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\n\
         ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:{BOB}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn a_decision_overtaken_before_the_worker_ran_is_taken_again_and_both_are_shown() {
    use imipd_scheduling::{Action, Ask, JobSpec, decide, job_for_invitation};
    use imipd_store::Store;
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let store = imipd_store::SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    let limits = imipd_calendar::Limits::default();
    let spec = JobSpec {
        action: Action::Process {
            allow_public: false,
            addresses: None,
            organizers: None,
            updates_only: false,
            calendar_id: None,
            delete_cancelled: false,
        },
        recipient: BOB.into(),
        authenticated: true,
        spam: false,
    };
    // An invitation and its cancellation delivered before any worker ran: both decided on
    // a calendar without the event, as delivery decides them.
    for (n, (method, status)) in [("REQUEST", "CONFIRMED"), ("CANCEL", "CANCELLED")]
        .into_iter()
        .enumerate()
    {
        let text = calendar(method, status);
        let message = imipd_calendar::ItipMessage::parse(text.as_bytes(), &limits)
            .unwrap()
            .unwrap();
        let decided = decide(&Ask {
            user: BOB,
            message: &message,
            spec: &spec,
            sender: "alice@example.org",
            user_addresses: &[BOB.to_string()],
            stored: None,
            calendar_exists: &|_| false,
            recent_actions: &|| Ok(0),
            max_per_sender_per_hour: 50,
            now: 1_900_000_000,
            limits: &limits,
        });
        let job = job_for_invitation(
            BOB,
            "alice@example.org",
            &spec,
            &message,
            &text,
            Some(&decided),
            &format!("Q-{n}"),
        );
        store.enqueue_job(&job).unwrap().unwrap();
    }
    drop(store);
    let server = Imipd::start_in(dir, &[]);
    let list = settled(&server);
    let cancel = list
        .lines()
        .find(|l| l.contains("Q-1"))
        .unwrap_or_else(|| panic!("no cancellation job:\n{list}"));
    assert!(
        cancel.contains("no_action; reason=\"CANCEL for unknown over@example.org")
            && cancel.contains("  result: updated; reason=\"over@example.org cancelled"),
        "the list shows both: {cancel}"
    );
    let id = cancel.split_whitespace().next().unwrap();
    let show = must(server.data(), &["jobs", "show", id]);
    let line = |name: &str| {
        show.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in\n{show}"))
            .to_string()
    };
    assert!(line("decided:").starts_with("no_action;"), "{show}");
    assert!(line("result:").starts_with("updated;"), "{show}");
    assert!(
        show.contains("decided again: the event was stored after delivery"),
        "{show}"
    );
    let events = must(server.data(), &["events", "list", BOB]);
    assert!(events.contains("CANCELLED"), "{events}");
    let request = list.lines().find(|l| l.contains("Q-0")).unwrap();
    assert!(
        request.contains("added;") && !request.contains("result:"),
        "carried out as decided: {request}"
    );
}
