//! Building test calendars line by line.
#![allow(dead_code)]

use imipd_calendar::{Change, Decision, EventSummary, Facts, Limits, Policy, summarize};

pub const ALICE: &str = "alice@example.org";
pub const BOB: &str = "bob@example.org";
pub const CAROL: &str = "carol@example.org";
pub const MALLORY: &str = "mallory@evil.example";

const DEFAULTS: [&str; 9] = [
    "UID:evt-1",
    "DTSTAMP:20260101T090000Z",
    "SEQUENCE:0",
    "DTSTART:20260310T100000Z",
    "DTEND:20260310T110000Z",
    "SUMMARY:Planning",
    "ORGANIZER;CN=Alice:mailto:alice@example.org",
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org",
    "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org",
];

fn name_of(line: &str) -> String {
    line.split([':', ';'])
        .next()
        .unwrap_or("")
        .trim_start_matches('-')
        .to_ascii_uppercase()
}

/// A VEVENT with default properties; a line in `extra` replaces the default of the same
/// name (any ATTENDEE replaces all default attendees), `-NAME` removes it.
pub fn event(extra: &[&str]) -> String {
    component("VEVENT", extra)
}

pub fn todo(extra: &[&str]) -> String {
    component("VTODO", extra)
}

pub fn component(kind: &str, extra: &[&str]) -> String {
    let replaced: Vec<String> = extra.iter().map(|l| name_of(l)).collect();
    let mut out = format!("BEGIN:{kind}\r\n");
    for line in DEFAULTS {
        if !replaced.contains(&name_of(line)) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    for line in extra {
        if !line.starts_with('-') {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("END:{kind}\r\n"));
    out
}

pub fn cal(method: Option<&str>, comps: &[String]) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    if let Some(m) = method {
        out.push_str(&format!("METHOD:{m}\r\n"));
    }
    for c in comps {
        out.push_str(c);
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Bob receives mail from Alice, the organizer.
pub fn bob_facts() -> Facts {
    Facts {
        recipient: BOB.into(),
        user_addresses: vec![BOB.into()],
        sender: ALICE.into(),
        authenticated: true,
        spam: false,
    }
}

/// Alice (organizer) receives a message from Bob.
pub fn alice_facts() -> Facts {
    Facts {
        recipient: ALICE.into(),
        user_addresses: vec![ALICE.into()],
        sender: BOB.into(),
        authenticated: true,
        spam: false,
    }
}

pub fn policy() -> Policy {
    Policy {
        now: NOW,
        ..Policy::default()
    }
}

/// The object to store, unfolded so that checks can look for whole content lines.
pub fn put(d: &Decision) -> String {
    match &d.change {
        Change::Put(text) => text.replace("\r\n ", ""),
        other => panic!("expected Change::Put, got {other:?} ({})", d.outcome),
    }
}

pub fn sums(d: &Decision) -> Vec<EventSummary> {
    summarize(&put(d), &Limits::default()).expect("stored result must parse")
}

pub fn master(d: &Decision) -> EventSummary {
    sums(d)
        .into_iter()
        .find(|s| s.recurrence_id.is_none())
        .expect("a master component")
}

pub fn partstat_of(s: &EventSummary, who: &str) -> Option<String> {
    s.attendees
        .iter()
        .find(|(a, _)| a == who)
        .map(|(_, p)| p.clone())
}

/// The clock every test passes in: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;
