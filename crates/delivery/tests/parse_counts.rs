//! Parse once (issue 16): an invitation to three users is parsed once as MIME and its
//! calendar part once, however many recipients; the update stage carries out the decisions
//! the jobs hold and parses nothing again (the store reads each event it writes once, for
//! the time-range index). Counted with the `parse-counts` feature on a real SQLite
//! store and a real Maildir, through the LMTP backend. The only test in this binary, so the
//! process-wide counters see nothing else.

use imipd_calendar::{Limits, OutcomeKind};
use imipd_delivery::maildir::Maildir;
use imipd_delivery::{DeliveryConfig, Pipeline, Sink};
use imipd_lmtp::{Backend, QueueId, Recipient, Transaction};
use imipd_message::MimeLimits;
use imipd_message::counts::{Counts, snapshot};
use imipd_scheduling::{ApplyConfig, process_job};
use imipd_sieve::{Prefs, generate_section, splice};
use imipd_store::{SqliteStore, Store};
use std::sync::Arc;
use tokio::sync::Notify;

const USERS: [&str; 3] = ["bob@example.org", "carol@example.org", "dave@example.org"];

fn invitation() -> Vec<u8> {
    let attendees: String = USERS
        .iter()
        .map(|u| format!("ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:{u}\r\n"))
        .collect();
    format!(
        "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n\
         From: Alice <alice@example.org>\r\nTo: bob@example.org, carol@example.org, dave@example.org\r\n\
         Subject: Planning\r\nMessage-ID: <p-1@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee the invitation.\r\n\
         --b\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:REQUEST\r\n\
         BEGIN:VEVENT\r\nUID:p-1@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:Planning\r\n\
         ORGANIZER;CN=Alice:mailto:alice@example.org\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\n{attendees}\
         END:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_to_three_users_is_parsed_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("db")).unwrap());
    for user in USERS {
        store.create_user(user, None).unwrap();
        store.add_contact(user, "alice@example.org").unwrap();
    }
    let pipeline = Pipeline::new(
        DeliveryConfig {
            mime: MimeLimits::default(),
            limits: Limits::default(),
            max_per_sender_per_hour: 50,
            trusted_authserv_ids: vec!["mx.test".into()],
            default_script: splice(&generate_section(&Prefs::default()), ""),
            clock: || 1_893_456_000,
        },
        store.clone(),
        Sink::Maildir(Maildir::new(dir.path().join("mail"))),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let recipients: Vec<Recipient> = USERS
        .iter()
        .map(|u| Recipient {
            address: u.to_string(),
            user: u.to_string(),
        })
        .collect();
    let message = invitation();

    let before = snapshot();
    let replies = pipeline
        .deliver(Transaction {
            queue_id: QueueId::generate(),
            peer: "127.0.0.1:25".parse().unwrap(),
            helo: "mx.test",
            mail_from: "alice@example.org",
            recipients: &recipients,
            message: &message,
        })
        .await;
    let delivery = snapshot() - before;
    assert!(replies.iter().all(|r| r.code == 250), "{replies:?}");

    let jobs = store.claim_jobs("w", 60, 10).unwrap();
    assert_eq!(jobs.len(), USERS.len(), "one job per user");
    let before = snapshot();
    for job in &jobs {
        let applied = process_job(&*store, job, 1_893_456_000, &ApplyConfig::default()).unwrap();
        let executed = &applied.executed;
        assert_eq!(executed.outcome.kind, OutcomeKind::Added, "{executed:?}");
        assert_eq!(executed.redecided, None, "the decision was carried out");
        store
            .commit(&applied.completing(job.user.as_str(), job.id, "w"))
            .unwrap();
    }
    let update = snapshot() - before;

    // (stage, expected, counted)
    let cases = [
        (
            "delivery to 3 users",
            Counts {
                mime: 1,
                calendar: 1,
            },
            delivery,
        ),
        // Executing reads nothing again; the store's commit reads each event it writes
        // once, for the time-range index.
        (
            "3 jobs executed",
            Counts {
                mime: 0,
                calendar: 3,
            },
            update,
        ),
    ];
    for (stage, want, got) in cases {
        eprintln!("{stage}: {got:?}");
        assert_eq!(
            got, want,
            "{stage}: parses expected {want:?}, counted {got:?}"
        );
    }
}
