//! The organizer's side: what is stored and what is sent when the user changes or calls
//! off an event they organize.

use imipd_calendar::{ItipError, Limits, organizer_cancel, organizer_update, summarize};

/// The clock passed in: 2030-01-01T00:00:00Z.
const NOW: i64 = 1_893_456_000;

fn event(sequence: u32, start: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nBEGIN:VEVENT\r\n\
         UID:org-1@example.org\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\n{extra}\
         ORGANIZER;CN=Bob:mailto:bob@example.org\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.org\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:Carol@Example.org\r\n\
         BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn bob() -> Vec<String> {
    vec!["bob@example.org".into(), "robert@example.org".into()]
}

fn seq_of(ics: &str) -> Vec<String> {
    ics.lines()
        .filter(|l| l.starts_with("SEQUENCE:"))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn a_new_event_goes_to_every_attendee_but_the_organizer() {
    let new = event(0, "20300105T100000Z", "Review", "");
    let change = organizer_update(None, &new, &bob(), &Limits::default(), NOW).unwrap();
    assert_eq!(change.uid, "org-1@example.org");
    assert_eq!(change.organizer, "bob@example.org");
    assert_eq!(change.attendees, ["alice@example.org", "carol@example.org"]);
    assert!(
        change.message.contains("METHOD:REQUEST"),
        "{}",
        change.message
    );
    assert!(
        !change.message.contains("VALARM"),
        "alarms are private: {}",
        change.message
    );
    assert!(
        change.stored.contains("VALARM"),
        "the organizer keeps theirs"
    );
    assert!(!change.stored.contains("METHOD:"));
    assert_eq!(seq_of(&change.message), ["SEQUENCE:0"]);
    assert_eq!(seq_of(&change.stored), ["SEQUENCE:0"]);
}

#[test]
fn sequence_goes_up_only_for_significant_changes_and_is_stored() {
    let limits = Limits::default();
    let sent = event(2, "20300105T100000Z", "Review", "");
    let retitled = event(2, "20300105T100000Z", "Review (agenda inside)", "");
    let change = organizer_update(Some(&sent), &retitled, &bob(), &limits, NOW).unwrap();
    assert_eq!(
        seq_of(&change.message),
        ["SEQUENCE:2"],
        "a new title is not significant"
    );
    assert_eq!(seq_of(&change.stored), ["SEQUENCE:2"]);
    let moved = event(2, "20300106T100000Z", "Review", "LOCATION:Room 4\r\n");
    let change = organizer_update(Some(&sent), &moved, &bob(), &limits, NOW).unwrap();
    assert_eq!(
        seq_of(&change.message),
        ["SEQUENCE:3"],
        "a new time is significant"
    );
    assert_eq!(
        seq_of(&change.stored),
        ["SEQUENCE:3"],
        "stored as announced"
    );
}

#[test]
fn only_the_organizer_sends_updates() {
    let new = event(0, "20300105T100000Z", "Review", "");
    let err = organizer_update(
        None,
        &new,
        &["alice@example.org".into()],
        &Limits::default(),
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, ItipError::NotOrganizer { .. }), "{err}");
    assert!(err.to_string().contains("bob@example.org"), "{err}");
    let err = organizer_cancel(
        &new,
        None,
        &["mallory@evil.test".into()],
        &Limits::default(),
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, ItipError::NotOrganizer { .. }), "{err}");
}

#[test]
fn cancelling_marks_the_copy_and_tells_the_attendees() {
    let limits = Limits::default();
    let stored = event(4, "20300105T100000Z", "Review", "");
    let change = organizer_cancel(&stored, None, &bob(), &limits, NOW).unwrap();
    assert!(
        change.message.contains("METHOD:CANCEL"),
        "{}",
        change.message
    );
    assert_eq!(seq_of(&change.message), ["SEQUENCE:5"]);
    let summary = &summarize(&change.stored, &limits).unwrap()[0];
    assert_eq!(summary.status, "CANCELLED");
    assert_eq!(seq_of(&change.stored), ["SEQUENCE:5"]);
    assert_eq!(change.attendees.len(), 2);
}

#[test]
fn cancelling_one_instance_adds_a_cancelled_override() {
    let limits = Limits::default();
    let stored = event(
        1,
        "20300105T100000Z",
        "Weekly",
        "RRULE:FREQ=WEEKLY;COUNT=10\r\n",
    );
    let change = organizer_cancel(&stored, Some("20300112T100000Z"), &bob(), &limits, NOW).unwrap();
    assert!(
        change.message.contains("RECURRENCE-ID"),
        "{}",
        change.message
    );
    let events = summarize(&change.stored, &limits).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let master = events.iter().find(|e| e.recurrence_id.is_none()).unwrap();
    let one = events.iter().find(|e| e.recurrence_id.is_some()).unwrap();
    assert_ne!(master.status, "CANCELLED");
    assert_eq!(one.status, "CANCELLED");
}
