//! An outbox on a real SQLite file, a relay setting for the test SMTP server, and an iMIP
//! REPLY to queue.

use imipd_calendar::Method;
use imipd_scheduling::imip::{EventText, Mailbox, compose_itip, outgoing};
use imipd_store::{NewMail, SqliteStore, Store};
use imipd_worker::Backoff;
use imipd_worker::outbound::{OutboxConfig, RelayConfig, Tls};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub const REPLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//imipd//test//EN\r\nMETHOD:REPLY\r\n\
    BEGIN:VEVENT\r\nUID:sync-1@example.com\r\nDTSTAMP:20260101T100000Z\r\n\
    DTSTART:20260105T100000Z\r\nORGANIZER:mailto:alice@example.com\r\n\
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

pub fn open_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    (dir, Arc::new(store))
}

pub fn relay(addr: SocketAddr) -> RelayConfig {
    RelayConfig {
        host: addr.ip().to_string(),
        port: addr.port(),
        tls: Tls::None,
        username: None,
        password: None,
        timeout: Duration::from_secs(10),
        hostname: "imipd.test".into(),
    }
}

/// Retries are due at once, so a test never waits for the clock.
pub fn cfg(max_attempts: u32) -> OutboxConfig {
    OutboxConfig {
        backoff: Backoff {
            delays: vec![0],
            max_attempts,
        },
        ..OutboxConfig::default()
    }
}

pub fn reply_mail(rcpt: &[&str]) -> NewMail {
    let to: Vec<Mailbox> = rcpt.iter().map(|a| Mailbox::new(None, a)).collect();
    let text = EventText {
        title: "Weekly sync".into(),
        note: "Bob accepted your invitation.".into(),
        ..EventText::default()
    };
    let composed = compose_itip(
        &Mailbox::new(Some("Bob"), "bob@example.org"),
        &to,
        Method::Reply,
        REPLY,
        &text,
        1_767_261_600,
    )
    .unwrap();
    outgoing("bob@example.org", "reply", composed, "Q-reply")
}
