//! The host side for tests: a fake store of contacts, calendars and folders, and a
//! calendar core that answers with a fixed outcome and records what it was asked.

#![allow(dead_code)]

use imipd_calendar::{Outcome, OutcomeKind};
use imipd_sieve::{CalendarRequest, Envelope, Facts, FilterResult, Host, Script, compile, run};
use std::cell::RefCell;

pub struct FakeHost {
    pub contacts: Vec<String>,
    pub calendars: Vec<String>,
    pub folders: Vec<String>,
    pub answer: Outcome,
    pub asked: RefCell<Vec<CalendarRequest>>,
    /// `is_contact` answers an error, as a store that is down does.
    pub contacts_unavailable: bool,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            contacts: vec!["friend@example.org".into()],
            calendars: vec!["default".into(), "work".into()],
            folders: vec!["Archive".into()],
            answer: Outcome::new(OutcomeKind::Added, "event \"Lunch\" added"),
            asked: RefCell::new(Vec::new()),
            contacts_unavailable: false,
        }
    }
}

impl Host for FakeHost {
    fn is_contact(&self, address: &str) -> Result<bool, String> {
        if self.contacts_unavailable {
            return Err("contacts unavailable".into());
        }
        Ok(self
            .contacts
            .iter()
            .any(|c| c.eq_ignore_ascii_case(address)))
    }
    fn calendar_exists(&self, id: &str) -> bool {
        self.calendars.iter().any(|c| c == id)
    }
    fn folder_exists(&self, name: &str) -> bool {
        self.folders.iter().any(|c| c == name)
    }
    fn decide(&self, request: &CalendarRequest) -> Outcome {
        self.asked.borrow_mut().push(request.clone());
        self.answer.clone()
    }
}

pub const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n\
BEGIN:VEVENT\r\nUID:lunch-1@example.org\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART:20260110T120000Z\r\nSUMMARY:Lunch\r\nORGANIZER;CN=Friend:mailto:friend@example.org\r\n\
ATTENDEE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// An invitation as detection leaves it: with X-ME-Cal-* headers.
pub fn invitation(from: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: bob@example.org\r\nSubject: Lunch\r\nMessage-ID: <m1@example.org>\r\n\
X-ME-Cal-Method: request\r\nX-ME-Cal-UID: lunch-1@example.org\r\n{extra_headers}\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nCome to lunch.\r\n\
--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}--b--\r\n"
    )
    .into_bytes()
}

pub fn plain(from: &str, subject: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: bob@example.org\r\nSubject: {subject}\r\n{extra_headers}\r\nHello there.\r\n"
    )
    .into_bytes()
}

pub fn facts() -> Facts {
    Facts {
        spam: false,
        spam_score: None,
        authenticated: true,
        sender: Some("friend@example.org".into()),
        organizer: None,
    }
}

pub fn envelope() -> Envelope<'static> {
    Envelope {
        from: "friend@example.org",
        to: "bob@example.org",
        user: "bob@example.org",
    }
}

pub fn script(source: &str) -> Script {
    match compile(source) {
        Ok(s) => s,
        Err(e) => panic!("script does not compile: {e}\n{source}"),
    }
}

pub fn run_with(source: &str, message: &[u8], facts: &Facts, host: &FakeHost) -> FilterResult {
    run(Some(&script(source)), message, &envelope(), facts, host)
}

/// Folder names of the deliveries, INBOX for `None`.
pub fn folders(result: &FilterResult) -> Vec<String> {
    result
        .deliveries
        .iter()
        .map(|d| d.folder.clone().unwrap_or_else(|| "INBOX".into()))
        .collect()
}
