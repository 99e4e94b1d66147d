//! Outbound iMIP end to end: an RSVP from the command line becomes a REPLY that reaches the
//! relay exactly once, even when the relay is down at first.

mod common;
// The relay stand-in the worker crate tests with; only some of its modes are used here.
#[allow(dead_code)]
#[path = "../../worker/tests/common/smtp_sink.rs"]
mod smtp_sink;

use common::itip::Mail;
use common::*;
use smtp_sink::{Mode, SmtpSink};
use std::time::Duration;

const BOB: &str = "bob@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsvp_reply_reaches_the_relay_once_after_it_comes_back() {
    let sink = SmtpSink::start(Mode::Down).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("imipd.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nretry_secs = [1]\n",
            sink.addr.port()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let env = [("IMIPD_CONFIG", config.as_str())];
    let run = |args: &[&str]| {
        let (code, out, err) = cli_env(dir.path(), args, &env);
        assert_eq!(code, 0, "imipd {args:?}: {err}");
        out
    };
    run(&["user", "add", BOB]);
    run(&["contacts", "add", BOB, "alice@example.org"]);
    let server = Imipd::start_in(dir, &env);
    let uid = "rsvp@example.org";
    server
        .connect()
        .deliver("alice@example.org", &[BOB], &Mail::request(uid).bytes());
    let data = server.data().to_path_buf();
    let cli_in = |args: &[&str]| {
        let (code, out, err) = cli_env(&data, args, &env);
        (code, out, err)
    };
    eventually(20, "the invitation in the calendar", || {
        cli_in(&["events", "list", BOB])
            .1
            .contains(uid)
            .then_some(())
    });
    let (code, out, err) = cli_in(&[
        "events",
        "rsvp",
        BOB,
        uid,
        "accepted",
        "--comment",
        "See you",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reply queued"), "{out}");
    let list = cli_in(&["events", "list", BOB]).1;
    assert!(list.contains("bob@example.org=ACCEPTED"), "{list}");

    // Down: the outbox tries, is refused, and defers.
    eventually(20, "a deferred attempt while the relay is down", || {
        server.log_text().contains("deferred until").then_some(())
    });
    assert!(sink.received().is_empty());
    sink.set_mode(Mode::Up);
    let delivered = async {
        while sink.received().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), delivered)
        .await
        .expect("reply never sent");
    // Several retry intervals later, still exactly one copy.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let mail = String::from_utf8_lossy(&got[0].data).into_owned();
    assert_eq!(got[0].rcpt_to, ["alice@example.org"]);
    assert_eq!(got[0].mail_from, BOB);
    assert!(
        mail.contains("method=REPLY") || mail.contains("method=\"REPLY\""),
        "{mail}"
    );
    let unfolded = mail.replace("\r\n ", "");
    assert!(unfolded.contains("PARTSTAT=ACCEPTED"), "{mail}");
    let attendees: Vec<&str> = unfolded
        .lines()
        .filter(|l| l.starts_with("ATTENDEE"))
        .collect();
    assert!(!attendees.is_empty(), "{mail}");
    assert!(
        attendees.iter().all(|l| l.contains("bob@example.org")),
        "a REPLY carries only the answering attendee: {attendees:?}"
    );
    // No reply for processing incoming mail: only the RSVP went out.
    drop(server);
}

#[test]
fn rsvp_errors_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    must(dir.path(), &["user", "add", BOB]);
    let (code, _, err) = cli(
        dir.path(),
        &["events", "rsvp", BOB, "nope@example.org", "accepted"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("no event with UID nope@example.org"), "{err}");
    let (code, _, err) = cli(dir.path(), &["events", "rsvp", BOB, "x", "maybe"]);
    assert_ne!(code, 0);
    assert!(err.contains("accepted, declined or tentative"), "{err}");
}
