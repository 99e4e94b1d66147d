//! Composed iMIP mail: structure, header safety and DKIM signatures that verify.

use imipd_calendar::Method;
use imipd_worker::outbound::{Dkim, EventText, Mailbox, compose_itip, outgoing};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};
use mail_parser::{MessageParser, MimeHeaders};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

const REPLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//imipd//test//EN\r\nMETHOD:REPLY\r\n\
    BEGIN:VEVENT\r\nUID:sync-1@example.com\r\nDTSTAMP:20260101T100000Z\r\n\
    DTSTART:20260105T100000Z\r\nORGANIZER:mailto:alice@example.com\r\n\
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn text() -> EventText {
    EventText {
        title: "Weekly sync".into(),
        when: Some("Monday 5 January 2026, 10:00–11:00 UTC".into()),
        location: Some("Room 4".into()),
        conference: Some("https://meet.example.com/sync".into()),
        organizer: Some("Alice <alice@example.com>".into()),
        note: "Bob Smith accepted your invitation.".into(),
        subject: Some("Accepted: Weekly sync".into()),
    }
}

fn bob() -> Mailbox {
    Mailbox::new(Some("Bob Smith"), "bob@example.org")
}

fn alice() -> Vec<Mailbox> {
    vec![Mailbox::new(Some("Alice"), "alice@example.com")]
}

#[test]
fn reply_parses_back_with_the_calendar_part() {
    let composed = compose_itip(
        &bob(),
        &alice(),
        Method::Reply,
        REPLY,
        &text(),
        1_767_261_600,
    )
    .unwrap();
    assert_eq!(composed.mail_from, "bob@example.org");
    assert_eq!(composed.rcpt_to, vec!["alice@example.com".to_string()]);
    let msg = MessageParser::default()
        .parse(&composed.data)
        .expect("parses");
    let from = msg.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("bob@example.org"));
    assert_eq!(from.name(), Some("Bob Smith"));
    assert_eq!(msg.subject(), Some("Accepted: Weekly sync"));
    assert!(
        msg.message_id()
            .is_some_and(|id| id.ends_with("@example.org"))
    );
    assert!(msg.date().is_some());

    let calendar = msg
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some("calendar"))
        })
        .expect("a text/calendar part");
    let ct = calendar.content_type().unwrap();
    assert_eq!(ct.attribute("method"), Some("REPLY"));
    assert_eq!(ct.attribute("charset"), Some("utf-8"));
    assert_eq!(calendar.text_contents(), Some(REPLY));

    let attachment = msg
        .parts
        .iter()
        .find(|p| p.attachment_name() == Some("invite.ics"))
        .expect("an invite.ics attachment");
    assert_eq!(attachment.contents(), REPLY.as_bytes());

    let plain = msg.body_text(0).expect("text part");
    for want in [
        "Bob Smith accepted your invitation.",
        "Weekly sync",
        "Room 4",
        "https://meet.example.com/sync",
        "10:00",
    ] {
        assert!(plain.contains(want), "text part lacks {want:?}:\n{plain}");
    }
    let html = msg.body_html(0).expect("html part");
    assert!(
        html.contains("<a href=\"https://meet.example.com/sync\">"),
        "{html}"
    );
}

#[test]
fn hostile_summary_and_names_inject_no_headers() {
    let evil = EventText {
        title: "Sync\r\nBcc: victim@evil.example\r\n\r\n<script>".into(),
        subject: None,
        ..text()
    };
    let from = Mailbox::new(Some("Bob\r\nBcc: x@evil.example"), "bob@example.org");
    let to = vec![
        Mailbox::new(Some("Alice\nCc: y@evil.example"), "alice@example.com"),
        Mailbox::new(None, "z@evil.example>\r\nRCPT TO:<w@evil.example"),
    ];
    let composed = compose_itip(&from, &to, Method::Request, REPLY, &evil, 1_767_261_600).unwrap();
    assert_eq!(
        composed.rcpt_to,
        vec!["alice@example.com".to_string()],
        "the broken address is dropped"
    );
    let msg = MessageParser::default().parse(&composed.data).unwrap();
    for header in msg.headers() {
        let name = header.name().to_ascii_lowercase();
        assert!(
            !matches!(name.as_str(), "bcc" | "cc"),
            "injected header {name}"
        );
    }
    let raw = String::from_utf8_lossy(&composed.data);
    let head = &raw[..raw.find("\r\n\r\n").unwrap()];
    assert!(!head.to_ascii_lowercase().contains("\nbcc:"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("\ncc:"), "{head}");
    assert!(
        msg.subject()
            .unwrap()
            .starts_with("Invitation: Sync Bcc: victim@evil.example")
    );
    assert!(!msg.body_html(0).unwrap().contains("<script>"));
}

#[test]
fn non_ascii_names_are_encoded_words() {
    let from = Mailbox::new(Some("Zoë Ångström"), "zoe@example.org");
    let composed = compose_itip(&from, &alice(), Method::Request, REPLY, &text(), 0).unwrap();
    let raw = String::from_utf8_lossy(&composed.data);
    let from_line = raw.lines().find(|l| l.starts_with("From:")).unwrap();
    assert!(
        from_line.is_ascii() && from_line.contains("=?utf-8?"),
        "{from_line}"
    );
    let msg = MessageParser::default().parse(&composed.data).unwrap();
    assert_eq!(
        msg.from().unwrap().first().unwrap().name(),
        Some("Zoë Ångström")
    );
}

#[test]
fn unusable_addresses_are_refused() {
    let bad_from = Mailbox::new(None, "bob@example.org\r\nX: y");
    assert!(compose_itip(&bad_from, &alice(), Method::Reply, REPLY, &text(), 0).is_err());
    let nobody = vec![Mailbox::new(None, "not-an-address")];
    assert!(compose_itip(&bob(), &nobody, Method::Reply, REPLY, &text(), 0).is_err());
}

/// A DNS cache filled by the test, so DKIM verification needs no network.
struct Records(Mutex<HashMap<String, Txt>>);

impl ResolverCache<String, Txt> for Records {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }

    fn insert(&self, key: String, value: Txt, _: Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[tokio::test]
async fn dkim_signatures_verify() {
    let authenticator = MessageAuthenticator::new_cloudflare().unwrap();
    let cases = [
        ("dkim-rsa.pem", "dkim-rsa.txt"),
        ("dkim-rsa-pkcs1.pem", "dkim-rsa.txt"),
        ("dkim-ed25519.pem", "dkim-ed25519.txt"),
    ];
    for (key, record) in cases {
        let dkim = Dkim::load(&fixture(key), "sel", "example.org")
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let composed = compose_itip(
            &bob(),
            &alice(),
            Method::Reply,
            REPLY,
            &text(),
            1_767_261_600,
        )
        .unwrap();
        let mail = outgoing("bob@example.org", "reply", composed, Some(&dkim)).unwrap();
        assert!(
            mail.data.starts_with(b"DKIM-Signature:"),
            "{key}: no signature on top"
        );

        let txt = std::fs::read_to_string(fixture(record)).unwrap();
        let records = Records(Mutex::new(HashMap::new()));
        records.insert(
            "sel._domainkey.example.org.".into(),
            Txt::from(DomainKey::parse(txt.trim().as_bytes())),
            Instant::now(),
        );
        let message = AuthenticatedMessage::parse(&mail.data).unwrap();
        let results = authenticator
            .verify_dkim(Parameters::new(&message).with_txt_cache(&records))
            .await;
        assert_eq!(results.len(), 1, "{key}");
        assert_eq!(results[0].result(), &DkimResult::Pass, "{key}");

        // Any change to a signed part breaks the signature.
        let tampered = String::from_utf8_lossy(&mail.data).replace("Weekly sync", "Weekly sinc");
        let message = AuthenticatedMessage::parse(tampered.as_bytes()).unwrap();
        let results = authenticator
            .verify_dkim(Parameters::new(&message).with_txt_cache(&records))
            .await;
        assert_ne!(
            results[0].result(),
            &DkimResult::Pass,
            "{key}: tampered message passed"
        );
    }
}

#[test]
fn bad_dkim_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, "not a key").unwrap();
    let err = Dkim::load(&path, "s", "example.org")
        .unwrap_err()
        .to_string();
    assert!(err.contains("key.pem") && err.contains("PEM"), "{err}");
    let err = Dkim::load(&dir.path().join("missing.pem"), "s", "example.org")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.pem") && err.contains("smtp.dkim_key"),
        "{err}"
    );
}
