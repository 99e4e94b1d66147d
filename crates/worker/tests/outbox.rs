//! The outbox against a real SMTP server on a real socket: retries, dead letters, partial
//! refusals, and no way for an address to smuggle SMTP commands.

mod common;

use common::outbox::{REPLY, cfg, open_store, relay, reply_mail};
use common::smtp_sink::{Mode, SmtpSink};
use imipd_store::{JobFilter, JobState, OutMail, Store};
use imipd_worker::outbound::{OutboxConfig, RelayConfig, Tls, outbox_round, run_outbox};
use mail_parser::{MessageParser, MimeHeaders};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

fn mail(store: &Arc<dyn Store>, id: i64) -> OutMail {
    store
        .mails(&JobFilter::default())
        .unwrap()
        .into_iter()
        .find(|m| m.id == id)
        .unwrap()
}

#[tokio::test]
async fn reply_is_delivered_once_after_the_relay_comes_back() {
    let (_dir, store) = open_store();
    let sink = SmtpSink::start(Mode::Down).await;
    let id = store
        .queue_mail(&reply_mail(&["alice@example.com"]))
        .unwrap();

    assert_eq!(
        outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await,
        1
    );
    let m = mail(&store, id);
    assert_eq!(m.state, JobState::Queued, "relay down: the mail waits");
    let error = m.last_error.unwrap_or_default();
    assert!(error.contains("421"), "last_error {error:?}");
    assert!(sink.received().is_empty());

    sink.set_mode(Mode::BusyAtData);
    outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await;
    let m = mail(&store, id);
    assert_eq!(m.state, JobState::Queued, "451 after DATA: the mail waits");
    assert!(m.last_error.unwrap_or_default().contains("451 4.3.0"));

    sink.set_mode(Mode::Up);
    assert_eq!(
        outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await,
        1
    );
    assert_eq!(mail(&store, id).state, JobState::Done);
    assert_eq!(
        outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await,
        0,
        "nothing left"
    );

    let received = sink.received();
    assert_eq!(received.len(), 1, "delivered exactly once");
    assert_eq!(received[0].mail_from, "bob@example.org");
    assert_eq!(received[0].rcpt_to, vec!["alice@example.com".to_string()]);
    let parsed = MessageParser::default().parse(&received[0].data).unwrap();
    let calendar = parsed
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|ct| ct.subtype() == Some("calendar"))
        })
        .expect("text/calendar part");
    assert_eq!(
        calendar.content_type().unwrap().attribute("method"),
        Some("REPLY")
    );
    assert_eq!(calendar.text_contents(), Some(REPLY));
}

#[tokio::test]
async fn relay_failures_are_sorted() {
    // (name, sink mode, recipients, expected state, text expected in last_error)
    let cases: [(&str, Mode, Vec<&str>, JobState, &str); 5] = [
        (
            "550 after DATA",
            Mode::RefuseAtData,
            vec!["alice@example.com"],
            JobState::Dead,
            "550 5.7.1 message content rejected by policy",
        ),
        (
            "every recipient refused",
            Mode::Up,
            vec!["reject@example.com"],
            JobState::Dead,
            "550 5.1.1 no such user here",
        ),
        (
            "every recipient deferred",
            Mode::Up,
            vec!["defer@example.com"],
            JobState::Queued,
            "451 4.2.1",
        ),
        (
            "451 after DATA",
            Mode::BusyAtData,
            vec!["alice@example.com"],
            JobState::Queued,
            "451 4.3.0",
        ),
        (
            "421 greeting",
            Mode::Down,
            vec!["alice@example.com"],
            JobState::Queued,
            "421 4.3.2",
        ),
    ];
    for (name, mode, rcpt, want_state, want_error) in cases {
        let (_dir, store) = open_store();
        let sink = SmtpSink::start(mode).await;
        let id = store.queue_mail(&reply_mail(&rcpt)).unwrap();
        outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await;
        let m = mail(&store, id);
        let error = m.last_error.clone().unwrap_or_default();
        assert!(
            m.state == want_state && error.contains(want_error),
            "case {name}: want {want_state:?} with {want_error:?}, got {:?} with {error:?}",
            m.state
        );
        assert!(
            sink.received().is_empty(),
            "case {name}: nothing may be delivered"
        );
    }
}

#[tokio::test]
async fn unreachable_relay_is_retried_then_dead() {
    let (_dir, store) = open_store();
    // A port that was just free: nothing listens on it.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let id = store
        .queue_mail(&reply_mail(&["alice@example.com"]))
        .unwrap();
    outbox_round(&store, Some(&relay(addr)), &cfg(2)).await;
    let m = mail(&store, id);
    assert_eq!(m.state, JobState::Queued);
    let error = m.last_error.unwrap_or_default();
    assert!(error.contains("cannot reach relay"), "{error}");
    outbox_round(&store, Some(&relay(addr)), &cfg(2)).await;
    let m = mail(&store, id);
    assert_eq!(
        (m.state, m.attempts),
        (JobState::Dead, 2),
        "dead after max attempts"
    );
}

#[tokio::test]
async fn partial_refusal_delivers_to_the_rest_and_retries_the_deferred() {
    let (_dir, store) = open_store();
    let sink = SmtpSink::start(Mode::Up).await;
    let id = store
        .queue_mail(&reply_mail(&[
            "alice@example.com",
            "defer-carol@example.com",
            "reject-dave@example.com",
        ]))
        .unwrap();
    outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await;
    assert_eq!(mail(&store, id).state, JobState::Done);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, vec!["alice@example.com".to_string()]);
    let again: Vec<OutMail> = store
        .mails(&JobFilter {
            state: Some(JobState::Queued),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "the deferred recipient gets a mail of its own"
    );
    assert_eq!(
        again[0].rcpt_to,
        vec!["defer-carol@example.com".to_string()]
    );
    assert_eq!(again[0].purpose, "reply");
    assert_eq!(again[0].queue_id, "Q-reply", "under the same queue id");
}

#[tokio::test]
async fn addresses_cannot_smuggle_smtp_commands() {
    let (_dir, store) = open_store();
    let sink = SmtpSink::start(Mode::Up).await;
    let mut bad_rcpt = reply_mail(&["alice@example.com"]);
    bad_rcpt.rcpt_to = vec!["x@example.com>\r\nRCPT TO:<evil@example.net".into()];
    let mut bad_from = reply_mail(&["alice@example.com"]);
    bad_from.mail_from = "bob@example.org>\r\nRCPT TO:<evil@example.net".into();
    let ids = [
        store.queue_mail(&bad_rcpt).unwrap(),
        store.queue_mail(&bad_from).unwrap(),
    ];
    outbox_round(&store, Some(&relay(sink.addr)), &cfg(8)).await;
    for id in ids {
        let m = mail(&store, id);
        assert_eq!(m.state, JobState::Dead, "mail {id}: {:?}", m.last_error);
        assert!(
            m.last_error
                .unwrap_or_default()
                .contains("not a plain local@domain address")
        );
    }
    let commands = sink.commands();
    assert!(
        commands.is_empty(),
        "the relay was contacted for unusable addresses: {commands:?}"
    );
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn the_loop_sends_when_woken_and_stops_on_shutdown() {
    let (_dir, store) = open_store();
    let sink = SmtpSink::start(Mode::Up).await;
    let wake = Arc::new(Notify::new());
    let (stop, shutdown) = watch::channel(false);
    let cfg = OutboxConfig {
        poll_interval: Duration::from_secs(3600),
        ..cfg(8)
    };
    let task = tokio::spawn(run_outbox(
        store.clone(),
        Some(relay(sink.addr)),
        cfg,
        wake.clone(),
        shutdown,
    ));
    let id = store
        .queue_mail(&reply_mail(&["alice@example.com"]))
        .unwrap();
    wake.notify_one();
    // The poll interval is an hour: only the wake-up can send it.
    tokio::time::timeout(Duration::from_secs(30), async {
        while mail(&store, id).state != JobState::Done {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the woken outbox sends the mail");
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn relay_setting_problems_are_named_and_mail_waits() {
    let sink = SmtpSink::start(Mode::Up).await;
    let starttls = RelayConfig {
        tls: Tls::StartTls,
        ..relay(sink.addr)
    };
    let login = RelayConfig {
        username: Some("bob".into()),
        password: Some("secret".into()),
        ..relay(sink.addr)
    };
    let cases = [
        (
            "relay without STARTTLS",
            starttls,
            "does not offer STARTTLS (check smtp.tls and smtp.port)",
        ),
        ("relay without AUTH", login, "offers no login method"),
    ];
    for (name, relay, want) in cases {
        let (_dir, store) = open_store();
        let id = store
            .queue_mail(&reply_mail(&["alice@example.com"]))
            .unwrap();
        outbox_round(&store, Some(&relay), &cfg(8)).await;
        let m = mail(&store, id);
        let error = m.last_error.clone().unwrap_or_default();
        assert!(
            m.state == JobState::Queued && error.contains(want),
            "case {name}: want queued with {want:?}, got {:?} with {error:?}",
            m.state
        );
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn without_a_relay_mail_waits_and_says_why_without_using_up_its_attempts() {
    let (_dir, store) = open_store();
    let id = store
        .queue_mail(&reply_mail(&["alice@example.com"]))
        .unwrap();
    outbox_round(&store, None, &cfg(8)).await;
    let m = mail(&store, id);
    let error = m.last_error.clone().unwrap_or_default();
    assert!(
        m.state == JobState::Queued && error.contains("smtp.host is not set"),
        "want queued with the reason, got {:?} with {error:?}",
        m.state
    );
    assert_eq!(m.attempts, 0, "nothing was tried");
}
