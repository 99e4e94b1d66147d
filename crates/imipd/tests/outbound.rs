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
    let config = relay_config(dir.path(), sink.addr.port());
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
    let waiting = cli_in(&["mail", "list"]).1;
    assert!(
        waiting.contains("reply") && waiting.contains("alice@example.org"),
        "{waiting}"
    );
    // The REPLY is under the queue id the command gave its request.
    let queue_id = out
        .trim_end()
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once("(queue id "))
        .map(|(_, id)| id)
        .unwrap_or_else(|| panic!("no queue id in {out:?}"));
    assert!(waiting.contains(queue_id), "{waiting}");
    assert!(!waiting.contains(" done "), "{waiting}");
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
    let sent = cli_in(&["mail", "list", "--state", "done"]).1;
    assert!(sent.contains("reply"), "{sent}");
    let (code, _, err) = cli_in(&["mail", "retry", "1"]);
    assert_ne!(code, 0, "a sent mail is not sent again");
    assert!(err.contains("not dead or deferred"), "{err}");
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

fn organized(start: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nBEGIN:VEVENT\r\n\
         UID:bob-org@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\n\
         ORGANIZER;CN=Bob:mailto:{BOB}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{BOB}\r\n\
         ATTENDEE;RSVP=TRUE:mailto:alice@example.org\r\nATTENDEE;RSVP=TRUE:mailto:carol@example.net\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_changes_go_to_the_attendees() {
    let sink = SmtpSink::start(Mode::Up).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("imipd.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            sink.addr.port()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let env = [("IMIPD_CONFIG", config.as_str())];
    let (code, _, err) = cli_env(dir.path(), &["user", "add", BOB], &env);
    assert_eq!(code, 0, "{err}");
    let server = Imipd::start_in(dir, &env);
    let data = server.data().to_path_buf();
    let run = |args: &[&str]| {
        let (code, out, err) = cli_env(&data, args, &env);
        assert_eq!(code, 0, "imipd {args:?}: {err}");
        out
    };
    let file = data.join("event.ics");
    let wait_for = |n: usize| {
        let sink = sink.clone();
        async move {
            let arrived = async {
                while sink.received().len() < n {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(20), arrived)
                .await
                .expect("mail to the attendees");
            sink.received()
        }
    };
    let calendar_part = |data: &[u8]| String::from_utf8_lossy(data).replace("\r\n ", "");

    std::fs::write(&file, organized("20300105T100000Z", "Design review")).unwrap();
    let out = run(&["events", "save", BOB, file.to_str().unwrap()]);
    assert!(
        out.contains("alice@example.org, carol@example.net"),
        "{out}"
    );
    let got = wait_for(1).await;
    assert_eq!(got[0].rcpt_to, ["alice@example.org", "carol@example.net"]);
    assert_eq!(got[0].mail_from, BOB);
    let text = calendar_part(&got[0].data);
    assert!(
        text.contains("METHOD:REQUEST") && text.contains("SEQUENCE:0"),
        "{text}"
    );

    // A new time is significant: SEQUENCE goes up, in the mail and in Bob's copy.
    std::fs::write(&file, organized("20300106T100000Z", "Design review")).unwrap();
    run(&["events", "save", BOB, file.to_str().unwrap()]);
    let got = wait_for(2).await;
    assert!(calendar_part(&got[1].data).contains("SEQUENCE:1"));

    run(&["events", "cancel", BOB, "bob-org@example.org"]);
    let got = wait_for(3).await;
    let text = calendar_part(&got[2].data);
    assert!(
        text.contains("METHOD:CANCEL") && text.contains("SEQUENCE:2"),
        "{text}"
    );
    let list = run(&["events", "list", BOB]);
    assert!(list.contains("CANCELLED"), "{list}");

    // Someone else's event is not Bob's to change.
    let foreign = organized("20300105T100000Z", "x").replace(
        &format!("ORGANIZER;CN=Bob:mailto:{BOB}"),
        "ORGANIZER:mailto:alice@example.org",
    );
    std::fs::write(&file, foreign.replace("bob-org@", "alice-org@")).unwrap();
    let (code, _, err) = cli_env(
        &data,
        &["events", "save", BOB, file.to_str().unwrap()],
        &env,
    );
    assert_ne!(code, 0);
    assert!(err.contains("not one of the user's addresses"), "{err}");
}
