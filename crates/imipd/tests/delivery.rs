//! Stage 1 end to end: the real `imipd serve`, LMTP over TCP, Maildir on disk.

mod common;

use common::*;
use imipd_store::{Batch, ObjectWrite, SqliteStore, Store};

const UID: &str = "evt-1@example.org";

fn users(dir: &std::path::Path) {
    must(
        dir,
        &[
            "user",
            "add",
            "bob@example.org",
            "--alias",
            "robert@example.org",
        ],
    );
    must(dir, &["user", "add", "carol@example.org"]);
}

fn thread_id() -> String {
    imipd_delivery::detect::thread_message_id(UID)
}

struct Case {
    fixture: &'static str,
    method: Option<&'static str>,
    error: Option<&'static str>,
}

#[test]
fn detection_headers_for_real_world_messages() {
    let cases = [
        Case {
            fixture: "outlook-request-base64.eml",
            method: Some("request"),
            error: None,
        },
        Case {
            fixture: "google-request.eml",
            method: Some("request"),
            error: None,
        },
        Case {
            fixture: "qp-request.eml",
            method: Some("request"),
            error: None,
        },
        Case {
            fixture: "filename-only.eml",
            method: Some("request"),
            error: None,
        },
        Case {
            fixture: "cancel.eml",
            method: Some("cancel"),
            error: None,
        },
        Case {
            fixture: "no-method.eml",
            method: None,
            error: None,
        },
        Case {
            fixture: "plain.eml",
            method: None,
            error: None,
        },
        Case {
            fixture: "broken.eml",
            method: None,
            error: Some("unparsable calendar part: BEGIN:VEVENT without END"),
        },
    ];
    let server = Imipd::start(users, &[]);
    let mut lmtp = server.connect();
    for case in &cases {
        let message = fixture(case.fixture);
        let (rcpt, data) = lmtp.deliver("alice@example.org", &["bob@example.org"], &message);
        assert!(
            rcpt[0].starts_with("250"),
            "{}: RCPT {rcpt:?}",
            case.fixture
        );
        assert!(
            data[0].starts_with("250 2.0.0"),
            "{}: DATA {data:?}",
            case.fixture
        );
        let stored = messages(&server.maildir("bob@example.org"), "");
        let got = stored.last().expect("a message in bob's inbox");
        let h = |name| header_values(got, name);
        match case.method {
            Some(method) => {
                assert_eq!(h("X-ME-Cal-Method"), [method], "{}", case.fixture);
                assert_eq!(h("X-ME-Cal-UID"), [UID], "{}", case.fixture);
                assert_eq!(h("X-ME-Message-Id"), [thread_id()], "{}", case.fixture);
            }
            None => {
                for name in ["X-ME-Cal-Method", "X-ME-Cal-UID", "X-ME-Message-Id"] {
                    assert!(h(name).is_empty(), "{}: unexpected {name}", case.fixture);
                }
            }
        }
        assert!(
            h("X-ME-Cal-Exists").is_empty(),
            "{}: nothing is stored yet",
            case.fixture
        );
        match case.error {
            Some(e) => assert_eq!(h("X-Imipd-Cal-Error"), [e], "{}", case.fixture),
            None => assert!(h("X-Imipd-Cal-Error").is_empty(), "{}", case.fixture),
        }
        // The original message follows our headers byte for byte.
        let original = String::from_utf8(message).unwrap();
        assert!(got.ends_with(&original), "{}: body changed", case.fixture);
    }
    lmtp.quit();
}

#[test]
fn exists_header_only_for_the_recipient_whose_calendar_has_the_uid() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store
        .create_calendar(
            "carol@example.org",
            "work",
            &imipd_store::CalendarProps::named("Work"),
        )
        .unwrap();
    store
        .commit(&Batch {
            user: "carol@example.org".into(),
            writes: vec![ObjectWrite::new_event(
                "work",
                UID,
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            )],
            ..Batch::default()
        })
        .unwrap();
    let server = Imipd::start_in(dir, &[]);
    let mut lmtp = server.connect();
    let (_, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org", "carol@example.org"],
        &fixture("update.eml"),
    );
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|r| r.starts_with("250")), "{data:?}");
    let bob = messages(&server.maildir("bob@example.org"), "");
    let carol = messages(&server.maildir("carol@example.org"), "");
    assert!(header_values(&bob[0], "X-ME-Cal-Exists").is_empty());
    assert_eq!(header_values(&carol[0], "X-ME-Cal-Exists"), ["work"]);
    assert_eq!(header_values(&carol[0], "X-ME-Cal-Method"), ["request"]);
}

#[test]
fn forged_inbound_headers_are_removed() {
    let server = Imipd::start(users, &[]);
    let mut lmtp = server.connect();
    let (_, data) = lmtp.deliver(
        "mallory@evil.test",
        &["bob@example.org"],
        &fixture("forged.eml"),
    );
    assert!(data[0].starts_with("250"), "{data:?}");
    let got = &messages(&server.maildir("bob@example.org"), "")[0];
    for name in [
        "X-ME-Cal-Method",
        "X-ME-Cal-UID",
        "X-ME-Cal-Exists",
        "X-ME-Message-Id",
        "X-Imipd-Cal-Outcome",
    ] {
        assert!(
            header_values(got, name).is_empty(),
            "forged {name} survived:\n{got}"
        );
    }
    assert!(got.contains("Subject: Forged\r\n"));
    assert!(got.contains("nothing to see"));
}

#[test]
fn multi_recipient_transaction_with_an_unknown_recipient() {
    let server = Imipd::start(users, &[]);
    let mut lmtp = server.connect();
    let (rcpt, data) = lmtp.deliver(
        "alice@example.org",
        &[
            "Bob+calendar@Example.org",
            "nobody@example.org",
            "robert@example.org",
            "carol@example.org",
        ],
        &fixture("google-request.eml"),
    );
    assert!(rcpt[0].starts_with("250"), "{rcpt:?}");
    assert!(rcpt[1].starts_with("550 5.1.1"), "{rcpt:?}");
    assert!(
        rcpt[2].starts_with("250") && rcpt[3].starts_with("250"),
        "{rcpt:?}"
    );
    assert_eq!(data.len(), 3, "one reply per accepted recipient: {data:?}");
    for (reply, addr) in data.iter().zip([
        "Bob+calendar@Example.org",
        "robert@example.org",
        "carol@example.org",
    ]) {
        assert!(
            reply.starts_with("250") && reply.contains(addr),
            "in order: {data:?}"
        );
    }
    // Issue 14 item 10: robert is one of Bob's addresses: one copy for Bob, and robert's
    // reply is that copy's.
    assert!(
        data[1].contains("same user, one copy: <Bob+calendar@Example.org> delivered"),
        "{data:?}"
    );
    assert_eq!(messages(&server.maildir("bob@example.org"), "").len(), 1);
    assert_eq!(messages(&server.maildir("carol@example.org"), "").len(), 1);

    // The same address three times: three replies, one copy.
    let (rcpt, data) = lmtp.deliver(
        "alice@example.org",
        &[
            "carol@example.org",
            "carol@example.org",
            "Carol@Example.org",
        ],
        &fixture("plain.eml"),
    );
    assert!(rcpt.iter().all(|r| r.starts_with("250")), "{rcpt:?}");
    assert_eq!(data.len(), 3, "{data:?}");
    assert!(data.iter().all(|r| r.starts_with("250 2.0.0")), "{data:?}");
    assert_eq!(messages(&server.maildir("carol@example.org"), "").len(), 2);
}

#[test]
fn pipelined_transaction_and_dot_unstuffing() {
    let server = Imipd::start(users, &[]);
    let mut lmtp = server.connect();
    lmtp.send_raw(
        b"LHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<ghost@example.org>\r\nDATA\r\n",
    );
    let replies: Vec<String> = (0..5).map(|_| lmtp.reply()).collect();
    assert!(
        replies[0].starts_with("250") && replies[0].contains("PIPELINING"),
        "{replies:?}"
    );
    assert!(replies[3].starts_with("550"), "{replies:?}");
    assert!(replies[4].starts_with("354"), "{replies:?}");
    lmtp.send_raw(b"Subject: dots\r\n\r\n..leading dot\r\n.\r\n");
    assert!(lmtp.reply().starts_with("250"));
    let got = &messages(&server.maildir("bob@example.org"), "")[0];
    assert!(
        got.ends_with("Subject: dots\r\n\r\n.leading dot\r\n"),
        "{got:?}"
    );
}

#[test]
fn each_copy_carries_return_path_and_delivered_to_as_dovecot_writes_them() {
    let server = Imipd::start(users, &[]);
    let mut lmtp = server.connect();
    // (envelope sender, recipient as given, Maildir user)
    let cases = [
        ("alice@example.org", "robert@example.org", "bob@example.org"),
        ("", "Carol@Example.org", "carol@example.org"),
    ];
    for (from, to, user) in cases {
        let (_, data) = lmtp.deliver(from, &[to], b"Subject: trace\r\n\r\nbody\r\n");
        assert!(data[0].starts_with("250"), "{to}: {data:?}");
        let got = messages(&server.maildir(user), "").pop().unwrap();
        let expected = format!("Return-Path: <{from}>\r\nDelivered-To: {to}\r\n");
        assert!(
            got.starts_with(&expected),
            "MAIL FROM:<{from}> RCPT TO:<{to}>: expected the copy to start with {expected:?}, got {got:?}"
        );
    }
}
