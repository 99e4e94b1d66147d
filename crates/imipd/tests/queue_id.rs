//! The queue id a message gets at the end of DATA is in each recipient's reply, on its jobs
//! and on the mail sent for it, and in every log line about the message, so an MTA's log
//! line leads to ours.

mod common;
// The relay stand-in the worker crate tests with; only some of its modes are used here.
#[allow(dead_code)]
#[path = "../../worker/tests/common/smtp_sink.rs"]
mod smtp_sink;

use common::{Imipd, cli_env, eventually, must, relay_config, settled};
use smtp_sink::{Mode, SmtpSink};
use std::time::Duration;

const BOB: &str = "bob@example.org";

/// The id in a reply that ends in `(queued as ID)`.
fn queue_id(reply: &str) -> Option<&str> {
    reply
        .trim_end()
        .strip_suffix(')')?
        .rsplit_once("(queued as ")
        .map(|(_, id)| id)
}

#[test]
fn replies_and_log_lines_carry_the_queue_id() {
    let server = Imipd::start(
        |dir| {
            must(dir, &["user", "add", "bob@example.org"]);
            must(dir, &["user", "add", "carol@example.org"]);
        },
        &[],
    );
    let mut ids = Vec::new();
    for subject in ["one", "two"] {
        let mut client = server.connect();
        let message = format!("Subject: {subject}\r\n\r\nhello\r\n");
        let (_, replies) = client.deliver(
            "alice@example.org",
            &["bob@example.org", "carol@example.org"],
            message.as_bytes(),
        );
        client.quit();
        let found: Vec<Option<&str>> = replies.iter().map(|r| queue_id(r)).collect();
        assert!(
            replies.iter().all(|r| r.starts_with("250 ")) && found.iter().all(Option::is_some),
            "{replies:?}"
        );
        assert!(
            found[0] == found[1],
            "one id for both recipients: {replies:?}"
        );
        ids.push(found[0].unwrap_or_default().to_string());
    }
    assert_ne!(ids[0], ids[1]);
    let log = common::eventually(10, "delivery log lines", || {
        let text = server.log_text();
        text.contains(&format!("queue_id={}", ids[1]))
            .then_some(text)
    });
    for id in &ids {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(id.as_str())).collect();
        // (what a line says, how many lines say it for this message)
        let expected = [
            ("message received", 1),
            ("bob@example.org", 1),
            ("carol@example.org", 1),
        ];
        for (text, count) in expected {
            let got = lines.iter().filter(|l| l.contains(text)).count();
            assert_eq!(
                got,
                count,
                "lines with queue id {id} saying {text:?}; lines with the id:\n{}\nwhole log:\n{log}",
                lines.join("\n")
            );
        }
    }
}

/// Bob's own event, with Alice invited.
const ORGANIZED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:review@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
DTSTART:20300105T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Review\r\n\
ORGANIZER;CN=Bob:mailto:bob@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\n\
ATTENDEE;RSVP=TRUE:mailto:alice@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// Alice asks for the current version of Bob's event.
const REFRESH: &str = "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n\
From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Refresh\r\n\
Message-ID: <refresh-1@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/calendar; charset=utf-8; method=REFRESH\r\n\r\n\
BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:REFRESH\r\n\
BEGIN:VEVENT\r\nUID:review@example.org\r\nDTSTAMP:20300102T090000Z\r\n\
ORGANIZER:mailto:bob@example.org\r\nATTENDEE:mailto:alice@example.org\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_id_follows_the_message_to_its_job_and_the_mail_sent_for_it() {
    let sink = SmtpSink::start(Mode::Up).await;
    let dir = tempfile::tempdir().unwrap();
    let config = relay_config(dir.path(), sink.addr.port());
    let env = [("IMIPD_CONFIG", config.as_str())];
    let run = |dir: &std::path::Path, args: &[&str]| {
        let (code, out, err) = cli_env(dir, args, &env);
        assert_eq!(code, 0, "imipd {args:?}: {err}");
        out
    };
    run(dir.path(), &["user", "add", BOB]);
    let rules = dir.path().join("own.sieve");
    std::fs::write(
        &rules,
        "require [\"copy\"];\nredirect :copy \"carol@example.net\";\n",
    )
    .unwrap();
    run(dir.path(), &["sieve", "set", BOB, rules.to_str().unwrap()]);
    let event = dir.path().join("event.ics");
    std::fs::write(&event, ORGANIZED).unwrap();
    let saved = run(
        dir.path(),
        &["events", "save", BOB, event.to_str().unwrap()],
    );
    let own_id = saved
        .trim_end()
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once("(queue id "))
        .map(|(_, id)| id.to_string())
        .unwrap_or_else(|| panic!("no queue id in {saved:?}"));
    let server = Imipd::start_in(dir, &env);

    let mut client = server.connect();
    let (_, replies) = client.deliver("alice@example.org", &[BOB], REFRESH.as_bytes());
    client.quit();
    assert!(replies[0].starts_with("250 "), "{replies:?}");
    let id = queue_id(&replies[0])
        .unwrap_or_else(|| panic!("no queue id in {replies:?}"))
        .to_string();
    assert_ne!(id, own_id, "the organizer's own mail has an id of its own");

    // The job.
    let jobs = settled(&server);
    let job_line = jobs.lines().find(|l| l.contains("review@example.org"));
    assert!(
        job_line.is_some_and(|l| l.contains(&id)),
        "the REFRESH job names {id}:\n{jobs}"
    );
    let show = must(server.data(), &["jobs", "show", "1"]);
    assert!(show.contains(&format!("queue id:   {id}")), "{show}");

    // The mail sent for it: the answer to the REFRESH and the redirect carry its id; the
    // invitation Bob sent from the command line carries its own.
    let arrived = async {
        while sink.received().len() < 3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), arrived)
        .await
        .expect("three mails at the relay");
    let mails = must(server.data(), &["mail", "list"]);
    // (purpose, queue id)
    let expected = [
        ("request", own_id.as_str()),
        ("refresh", id.as_str()),
        ("redirect", id.as_str()),
    ];
    for (purpose, want) in expected {
        let line = mails
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == purpose))
            .unwrap_or_else(|| panic!("no {purpose} mail:\n{mails}"));
        assert!(line.contains(want), "{purpose} mail is {want}:\n{mails}");
    }
    let redirected = sink
        .received()
        .into_iter()
        .find(|m| m.rcpt_to == ["carol@example.net"])
        .expect("the redirect at the relay");
    let trace = String::from_utf8_lossy(&redirected.data).into_owned();
    assert!(trace.starts_with("Received: by imipd"), "{trace}");
    assert!(trace.lines().next().unwrap().contains(&id), "{trace}");

    // The log: delivery, the worker's line and the sender's lines, all under the id.
    let log = eventually(10, "the sender's log lines", || {
        let text = server.log_text();
        let sent = text
            .lines()
            .filter(|l| l.contains(&id) && l.contains(": sent "))
            .count();
        (sent == 2).then_some(text)
    });
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&id)).collect();
    // (what a line says, how many lines say it)
    let expected = [
        ("message received", 1),
        ("calendar job held", 1),
        ("redirect queued", 1),
        ("code=250", 1),
        ("job{", 1),
        ("purpose=\"refresh\"", 1),
        ("purpose=\"redirect\"", 1),
    ];
    for (text, count) in expected {
        let got = lines.iter().filter(|l| l.contains(text)).count();
        assert_eq!(
            got,
            count,
            "lines with queue id {id} saying {text:?}:\n{}\nwhole log:\n{log}",
            lines.join("\n")
        );
    }
}
