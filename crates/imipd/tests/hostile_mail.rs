//! Issue 14, the message side, over LMTP to the real binary: forged identity (items 3–5),
//! a Content-Type that contradicts the calendar (6), broken calendar parts (8), header
//! values that used to panic (9), UIDs too long for a header line (10) and a contacts
//! outage (16). Each case is a real invitation from Alice, Bob's contact, with one thing
//! changed.

mod common;

use common::itip::Mail;
use common::*;
use std::path::Path;

const BOB: &str = "bob@example.org";
const PASS: &str = "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n";
const FROM: &str = "From: Organizer <alice@example.org>\r\n";

fn bob_knows_alice(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["contacts", "add", BOB, "alice@example.org"]);
}

/// A REQUEST from Alice with `edit` applied to its text.
fn edited(uid: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
    let mail = String::from_utf8(Mail::request(uid).bytes()).unwrap();
    let changed = edit(mail.clone());
    assert_ne!(changed, mail, "{uid}: the edit changed nothing");
    changed.into_bytes()
}

fn deliver(server: &Imipd, mail: &[u8]) -> String {
    let before = messages(&server.maildir(BOB), "").len();
    let (_, data) = server.connect().deliver("alice@example.org", &[BOB], mail);
    assert!(data[0].starts_with("250"), "{data:?}");
    let all = messages(&server.maildir(BOB), "");
    assert_eq!(all.len(), before + 1, "one new message in INBOX");
    all.last().cloned().unwrap_or_default()
}

fn one(message: &str, name: &str) -> String {
    header_values(message, name).join(" | ")
}

#[test]
fn forged_identity_is_not_authenticated_and_says_why() {
    let server = Imipd::start(bob_knows_alice, &[]);
    // (uid, the change, part of the outcome's reason)
    type Case = (&'static str, Box<dyn Fn(String) -> String>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "header-from@example.org",
            Box::new(|m| m.replace("header.from=example.org", "header.from=evil.example")),
            "DMARC passed for evil.example but the From address is alice@example.org",
        ),
        (
            "two-froms@example.org",
            Box::new(|m| {
                m.replace(
                    FROM,
                    &format!("{FROM}From: Mallory <mallory@evil.example>\r\n"),
                )
            }),
            "the message has 2 From headers",
        ),
        (
            "two-addresses@example.org",
            Box::new(|m| m.replace(FROM, "From: mallory@evil.example, alice@example.org\r\n")),
            "the From header has 2 addresses",
        ),
        (
            "fail-and-pass@example.org",
            Box::new(|m| {
                format!(
                    "Authentication-Results: mx.test; dmarc=fail header.from=example.org\r\n{m}"
                )
            }),
            "DMARC result fail",
        ),
        (
            "quoted-pass@example.org",
            Box::new(|m| {
                m.replace(
                    PASS,
                    "Authentication-Results: mx.test; spf=pass smtp.mailfrom=\"alice@example.org;dmarc=pass \"\r\n",
                )
            }),
            "no DMARC result",
        ),
        (
            "after-junk@example.org",
            Box::new(|m| {
                m.replacen(PASS, "", 1).replacen(
                    "boundary=\"b\"\r\n\r\n",
                    &format!("boundary=\"b\"\r\nthis line is not a header field\r\n{PASS}\r\n"),
                    1,
                )
            }),
            "no Authentication-Results header from a trusted server",
        ),
    ];
    for (uid, edit, why) in &cases {
        let mail = edited(uid, edit);
        let got = deliver(&server, &mail);
        let outcome = one(&got, "X-Imipd-Cal-Outcome");
        assert!(
            outcome.starts_with("no_action") && outcome.contains(why),
            "case {uid}\n  expected: no_action with {why:?}\n  got: {outcome}\n  mail:\n{}",
            String::from_utf8_lossy(&mail)
        );
    }
    let jobs = settled(&server);
    assert!(nothing_applied(&jobs), "{jobs}");
    let list = must(server.data(), &["events", "list", BOB]);
    for (uid, _, _) in &cases {
        assert!(!list.contains(uid), "{uid} reached the calendar:\n{list}");
    }
}

#[test]
fn unusable_calendar_parts_get_only_an_error_header() {
    let server = Imipd::start(bob_knows_alice, &[]);
    let long_uid = format!("{}@example.org", "u".repeat(1000));
    // (uid, the change, part of X-Imipd-Cal-Error)
    type Case = (String, Box<dyn Fn(String) -> String>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "method-mismatch@example.org".into(),
            Box::new(|m| m.replace("method=REQUEST", "method=CANCEL")),
            "Content-Type says method=\"CANCEL\" but the calendar says METHOD:REQUEST",
        ),
        (
            "never-ended@example.org".into(),
            Box::new(|m| m.replace("END:VCALENDAR\r\n", "")),
            "BEGIN:VCALENDAR without END",
        ),
        (
            "junk-line@example.org".into(),
            Box::new(|m| m.replace("SUMMARY:", "this is junk\r\nSUMMARY:")),
            "is not a content line",
        ),
        (
            "impossible-date@example.org".into(),
            Box::new(|m| m.replace("DTSTART:20300105T100000Z", "DTSTART:20301345T100000Z")),
            "is not a real date",
        ),
        (
            long_uid.clone(),
            Box::new(|m| m.replace("SUMMARY:", "X-LONG:yes\r\nSUMMARY:")),
            "calendar UID is longer than 984 bytes",
        ),
    ];
    for (uid, edit, why) in &cases {
        let got = deliver(&server, &edited(uid, edit));
        let error = one(&got, "X-Imipd-Cal-Error");
        for name in ["X-ME-Cal-Method", "X-ME-Cal-UID", "X-ME-Message-Id"] {
            assert!(
                header_values(&got, name).is_empty(),
                "case {uid}: {name} added to an unusable part (error {error:?})"
            );
        }
        assert!(
            error.contains(why),
            "case {uid}\n  expected X-Imipd-Cal-Error with {why:?}\n  got: {error:?}"
        );
        let outcome = one(&got, "X-Imipd-Cal-Outcome");
        assert!(outcome.starts_with("no_action"), "case {uid}: {outcome}");
        // The mail's own Subject may be long; the lines imipd adds are not.
        let head = got.split("\r\n\r\n").next().unwrap_or_default();
        for line in head
            .split("\r\n")
            .filter(|l| l.starts_with("X-ME-") || l.starts_with("X-Imipd-"))
        {
            assert!(
                line.len() <= 998,
                "case {uid}: a {}-octet header line",
                line.len()
            );
        }
    }
    assert_eq!(
        settled(&server).trim(),
        "no jobs",
        "nothing reached the calendar core"
    );
}

#[test]
fn header_values_that_used_to_panic_are_read_as_text() {
    let server = Imipd::start(bob_knows_alice, &[]);
    let mail = edited("spam-status@example.org", |m| {
        m.replace(FROM, &format!("{FROM}X-Spam-Status: a\u{20ac}\r\n"))
    });
    let got = deliver(&server, &mail);
    let outcome = one(&got, "X-Imipd-Cal-Outcome");
    assert!(outcome.starts_with("added"), "{outcome}");
    eventually(20, "the event", || {
        must(server.data(), &["events", "list", BOB])
            .contains("spam-status@example.org")
            .then_some(())
    });

    let file = server.data().join("spam-status.eml");
    std::fs::write(&file, &mail).unwrap();
    let (code, _, err) = cli_env(
        server.data(),
        &["itip", "explain", file.to_str().unwrap(), "--user", BOB],
        &[("IMIPD_HOSTNAME", "mx.test")],
    );
    assert_eq!(code, 0, "itip explain: {err}");
    assert!(err.contains("authenticated: yes"), "{err}");
}

/// A CANCEL from `\u{212A}ate` (Kelvin sign) is not kate's: addresses compare ASCII letters
/// case-insensitively and everything else byte for byte, at every stage.
#[test]
fn a_kelvin_sign_is_not_a_k() {
    let server = Imipd::start(
        |dir| {
            must(dir, &["user", "add", BOB]);
            must(dir, &["contacts", "add", BOB, "kate@example.org"]);
        },
        &[],
    );
    let kate = |mail: Mail| {
        String::from_utf8(mail.bytes())
            .unwrap()
            .replace("alice@example.org", "kate@example.org")
            .into_bytes()
    };
    let got = deliver(&server, &kate(Mail::request("kate-1@example.org")));
    assert!(one(&got, "X-Imipd-Cal-Outcome").starts_with("added"));
    eventually(20, "kate's event", || {
        must(server.data(), &["events", "list", BOB])
            .contains("kate-1@example.org")
            .then_some(())
    });
    let forged = String::from_utf8(kate(Mail::cancel("kate-1@example.org", 1)))
        .unwrap()
        .replace(
            "From: Organizer <kate@example.org>",
            "From: Organizer <\u{212A}ate@example.org>",
        );
    let got = deliver(&server, forged.as_bytes());
    let outcome = one(&got, "X-Imipd-Cal-Outcome");
    assert!(outcome.starts_with("no_action"), "{outcome}");
    settled(&server);
    let list = must(server.data(), &["events", "list", BOB]);
    assert!(!list.to_ascii_uppercase().contains("CANCELLED"), "{list}");
}

#[test]
fn a_contacts_outage_is_an_error_not_a_stranger() {
    let server = Imipd::start(bob_knows_alice, &[]);
    let db = rusqlite::Connection::open(server.data().join("imipd.sqlite3")).unwrap();
    db.execute_batch("DROP TABLE card_emails").unwrap();
    let got = deliver(&server, &Mail::request("outage@example.org").bytes());
    let outcome = one(&got, "X-Imipd-Cal-Outcome");
    assert!(
        outcome.starts_with("error") && outcome.contains("calendar store unavailable"),
        "{outcome}"
    );
    assert_eq!(settled(&server).trim(), "no jobs");
}
