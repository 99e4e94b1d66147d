//! Large but legal inputs apply completely, and oversized noise is refused with a reason.
//! How fast they go is measured by `benches/apply.rs`, not asserted here.

mod common;

use common::*;
use imipd_calendar::{Limits, OutcomeKind, apply};

fn limits() -> Limits {
    Limits {
        max_part_bytes: 4 * 1024 * 1024,
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
