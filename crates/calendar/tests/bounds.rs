//! Large but legal inputs apply completely, and oversized noise is refused with a reason.
//! How fast they go is measured by `benches/apply.rs`, not asserted here.

mod common;

use common::*;
use imipd_calendar::{Limits, OutcomeKind, apply};

/// Room for a thousand overrides and what cancelling them adds (a STATUS each): the
/// results must fit the limits too, or they would be refused.
fn limits() -> Limits {
    Limits {
        max_part_bytes: 4 * 1024 * 1024,
        max_properties: 20_000,
        ..Limits::default()
    }
}

/// A master and 990 overrides, stored and re-sent.
fn many_overrides(sequence: u32) -> Vec<String> {
    let mut comps = vec![event(&["RRULE:FREQ=DAILY;COUNT=2000"])];
    for i in 0..990u32 {
        let rid = format!(
            "RECURRENCE-ID:20{:02}{:02}{:02}T100000Z",
            27 + i / 252,
            1 + i / 28 % 9,
            1 + i % 28
        );
        let seq = format!("SEQUENCE:{sequence}");
        comps.push(event(&[&rid, &seq]));
    }
    comps
}

#[test]
fn a_thousand_overrides_update() {
    let stored = cal(None, &many_overrides(1));
    let message = cal(Some("REQUEST"), &many_overrides(2));
    let d = apply(Some(&stored), &message, &bob_facts(), &policy(), &limits());
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert_eq!(sums(&d).len(), 991);
}

#[test]
fn a_thousand_instance_replies_apply() {
    let stored = cal(None, &many_overrides(1));
    let reply = cal(Some("REPLY"), &many_overrides(1)).replace(
        "PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob",
        "PARTSTAT=ACCEPTED:mailto:bob",
    );
    let d = apply(Some(&stored), &reply, &alice_facts(), &policy(), &limits());
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert!(
        sums(&d)
            .iter()
            .all(|s| partstat_of(s, BOB).as_deref() == Some("ACCEPTED"))
    );
}

#[test]
fn a_thousand_instance_cancels_apply() {
    let stored = cal(None, &many_overrides(1));
    let mut comps = Vec::new();
    for i in 0..990u32 {
        let rid = format!(
            "RECURRENCE-ID:2028{:02}{:02}T100000Z",
            1 + i / 28 % 12,
            1 + i % 28
        );
        comps.push(event(&[&rid, "SEQUENCE:2"]));
    }
    let cancel = cal(Some("CANCEL"), &comps);
    let d = apply(Some(&stored), &cancel, &bob_facts(), &policy(), &limits());
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
}

#[test]
fn half_a_megabyte_of_noise_is_refused() {
    let noise: String = (0..40_000).map(|i| format!("X{i}:;;\r\n")).collect();
    let message = format!("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n{noise}END:VCALENDAR\r\n");
    let d = apply(None, &message, &bob_facts(), &policy(), &Limits::default());
    assert_eq!(d.outcome.kind, OutcomeKind::Error, "{}", d.outcome);
}

/// The organizer's copy of a daily meeting with twenty guests, and Bob's REPLY for `rids`.
fn bomb(rids: impl Iterator<Item = String>) -> String {
    let comps: Vec<String> = rids
        .map(|rid| {
            format!(
                "BEGIN:VEVENT\r\nUID:evt-1\r\nDTSTAMP:20260301T090000Z\r\nSEQUENCE:0\r\nRECURRENCE-ID:{rid}\r\nATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org\r\nEND:VEVENT\r\n"
            )
        })
        .collect();
    cal(Some("REPLY"), &comps)
}

fn organizers_copy() -> String {
    let mut lines = vec!["RRULE:FREQ=DAILY;COUNT=2000".to_string()];
    lines.push("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org".into());
    for i in 0..20 {
        lines.push(format!(
            "ATTENDEE;CN=Guest {i};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:guest{i}@example.net"
        ));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    cal(None, &[event(&refs)])
}

/// The reported REPLY bomb: 999 instances in one REPLY. Invented instances are refused; real
/// ones would grow the organizer's copy past the limits, so that write is refused too. Either
/// way the copy stays as it was, and the next ordinary REPLY applies.
#[test]
fn a_reply_bomb_leaves_the_event_usable() {
    let limits = Limits::default();
    let stored = organizers_copy();
    let day = |i: u32| format!("{}{:02}{:02}", 2027 + i / 336, 1 + i / 28 % 12, 1 + i % 28);
    let cases = [
        (
            "999 invented instances (half past the hour)",
            bomb((0..999).map(|i| format!("{}T103000Z", day(i)))),
            OutcomeKind::NoAction,
            "the series does not have",
        ),
        (
            "999 real instances",
            bomb((0..999).map(|i| format!("{}T100000Z", day(i)))),
            OutcomeKind::Error,
            "would exceed the limits",
        ),
    ];
    for (name, message, kind, words) in cases {
        let d = apply(Some(&stored), &message, &alice_facts(), &policy(), &limits);
        assert_eq!(d.outcome.kind, kind, "{name}: {}", d.outcome);
        assert!(d.outcome.reason.contains(words), "{name}: {}", d.outcome);
        assert_eq!(d.change, imipd_calendar::Change::None, "{name}");
    }
    for (name, reply) in [
        (
            "series answer",
            cal(
                Some("REPLY"),
                &[event(&[
                    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org",
                ])],
            ),
        ),
        (
            "one instance",
            bomb(std::iter::once(format!("{}T100000Z", day(3)))),
        ),
    ] {
        let d = apply(Some(&stored), &reply, &alice_facts(), &policy(), &limits);
        assert_eq!(
            d.outcome.kind,
            OutcomeKind::Updated,
            "{name} after the bomb: {}",
            d.outcome
        );
    }
}
