//! Composed iMIP mail: structure and header safety.

use imipd_calendar::Method;
use imipd_scheduling::imip::{EventText, Mailbox, compose_itip};
use mail_parser::{MessageParser, MimeHeaders};

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
