//! Messages shaped like those real clients send (Exchange/Outlook, Google, Apple).

mod common;

use common::*;
use imipd_calendar::{
    Change, Limits, OutcomeKind, PartStat, apply, instances_between, peek, set_partstat, summarize,
    time_range,
};

const OUTLOOK_REQUEST: &str = include_str!("fixtures/outlook-request.ics");
const OUTLOOK_REPLY: &str = include_str!("fixtures/outlook-reply-instance.ics");
const GOOGLE_REQUEST: &str = include_str!("fixtures/google-request-with-override.ics");
const APPLE_CANCEL: &str = include_str!("fixtures/apple-cancel-allday.ics");
const OUTLOOK_UPDATE: &str = include_str!("fixtures/outlook-update-instance.ics");
const OUTLOOK_CANCEL: &str = include_str!("fixtures/outlook-cancel-instance.ics");

fn without_method(text: &str) -> String {
    text.split("\r\n")
        .filter(|l| !l.starts_with("METHOD:"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn outlook_invitation_is_added_without_its_alarm() {
    let d = apply(
        None,
        OUTLOOK_REQUEST,
        &bob_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Added, "{}", d.outcome);
    let text = put(&d);
    assert!(!text.contains("VALARM"), "{text}");
    assert!(text.contains("TZID=\"W. Europe Standard Time\""), "{text}");
    assert!(
        text.contains("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"),
        "{text}"
    );
    let m = master(&d);
    assert!(
        m.uid.starts_with("040000008200E00074C5B7101A82E008"),
        "{}",
        m.uid
    );
    assert!(
        m.uid.ends_with("9F7A3A7E5C6B4D4E8F0A1B2C3D4E5F60"),
        "{}",
        m.uid
    );
    assert_eq!(m.location.as_deref(), Some("Room 4.12"));
    let peeked = peek(OUTLOOK_REQUEST.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(peeked.uid.as_deref(), Some(m.uid.as_str()));
}

#[test]
fn outlook_instance_reply_without_organizer_reaches_the_organizer() {
    let stored = without_method(OUTLOOK_REQUEST);
    let d = apply(
        Some(&stored),
        OUTLOOK_REPLY,
        &alice_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    let events = sums(&d);
    assert_eq!(events.len(), 2);
    assert_eq!(
        partstat_of(&master(&d), BOB).as_deref(),
        Some("NEEDS-ACTION")
    );
    let instance = events.iter().find(|e| e.recurrence_id.is_some()).unwrap();
    assert_eq!(partstat_of(instance, BOB).as_deref(), Some("ACCEPTED"));
    assert_eq!(instance.start, "20260317T100000");
    assert!(
        put(&d).contains("VALARM"),
        "the organizer's own alarm stays"
    );
}

#[test]
fn google_series_with_override_then_update_keeps_the_answer() {
    let limits = Limits::default();
    let d = apply(None, GOOGLE_REQUEST, &bob_facts(), &policy(), &limits);
    assert_eq!(d.outcome.kind, OutcomeKind::Added, "{}", d.outcome);
    let stored = put(&d);
    assert_eq!(summarize(&stored, &limits).unwrap().len(), 2);

    let again = apply(
        Some(&stored),
        GOOGLE_REQUEST,
        &bob_facts(),
        &policy(),
        &limits,
    );
    assert_eq!(
        again.outcome.kind,
        OutcomeKind::NoAction,
        "{}",
        again.outcome
    );
    assert_eq!(again.change, Change::None);

    let answered = set_partstat(&stored, BOB, PartStat::Accepted, None, &limits).unwrap();
    let update = GOOGLE_REQUEST
        .replace("SEQUENCE:1\r\n", "SEQUENCE:3\r\n")
        .replace("SUMMARY:Standup\r\n", "SUMMARY:Standup (new room)\r\n");
    let d = apply(Some(&answered), &update, &bob_facts(), &policy(), &limits);
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    let m = master(&d);
    assert_eq!(m.summary, "Standup (new room)");
    assert_eq!(partstat_of(&m, BOB).as_deref(), Some("ACCEPTED"));
}

#[test]
fn apple_cancel_of_an_all_day_event() {
    let stored = without_method(APPLE_CANCEL)
        .replace("SEQUENCE:3", "SEQUENCE:2")
        .replace("STATUS:CANCELLED", "STATUS:CONFIRMED");
    let d = apply(
        Some(&stored),
        APPLE_CANCEL,
        &bob_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    let m = master(&d);
    assert_eq!(m.status, "CANCELLED");
    assert_eq!(m.start, "20260320");
}

/// Outlook names zones by their Windows names (`W. Europe Standard Time`) with a VTIMEZONE of
/// that name. The name must survive every step into the stored copy, once, and be read as
/// Europe/Berlin wherever the stored copy is expanded.
#[test]
fn outlook_windows_zone_names_survive_invitation_update_and_cancel() {
    let limits = Limits::default();
    let zone_param = "TZID=\"W. Europe Standard Time\"";
    let zone_def = "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n";
    let steps = [
        ("invitation", OUTLOOK_REQUEST, OutcomeKind::Added),
        ("one instance moved", OUTLOOK_UPDATE, OutcomeKind::Updated),
        (
            "one instance cancelled",
            OUTLOOK_CANCEL,
            OutcomeKind::Updated,
        ),
    ];
    let mut stored: Option<String> = None;
    for (name, message, kind) in steps {
        let d = apply(stored.as_deref(), message, &bob_facts(), &policy(), &limits);
        assert_eq!(d.outcome.kind, kind, "{name}: {}", d.outcome);
        let text = put(&d);
        assert_eq!(
            text.matches(zone_def).count(),
            1,
            "{name}: one VTIMEZONE\n{text}"
        );
        assert!(
            text.contains(&format!("DTSTART;{zone_param}:20260310T100000")),
            "{name}\n{text}"
        );
        stored = Some(text);
    }
    let stored = stored.unwrap();
    assert!(
        stored.contains(&format!("EXDATE;{zone_param}:20260331T100000")),
        "the cancelled instance is excluded in its own zone\n{stored}"
    );
    assert!(
        stored.contains(&format!("RECURRENCE-ID;{zone_param}:20260324T100000")),
        "{stored}"
    );
    // 10:00 in Berlin is 09:00Z before the clocks change on 29 March, 08:00Z after.
    let range = time_range(&stored, &limits).unwrap();
    assert_eq!(
        range.first_start,
        Some(1_773_133_200),
        "2026-03-10T09:00:00Z"
    );
    assert_eq!(range.last_end, Some(1_782_810_000), "2026-06-30T09:00:00Z");
    let march = instances_between(&stored, 1_772_323_200, 1_775_001_600, &limits).unwrap();
    let starts: Vec<(i64, bool)> = march
        .instances
        .iter()
        .map(|i| (i.start, i.overridden))
        .collect();
    assert_eq!(
        starts,
        vec![
            (1_773_133_200, false), // 10 March 10:00 CET
            (1_773_738_000, false), // 17 March 10:00 CET
            (1_774_357_200, true),  // 24 March moved to 14:00 CET
        ],
        "31 March is cancelled"
    );
}
