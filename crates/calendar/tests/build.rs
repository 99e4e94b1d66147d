//! Messages the user sends, checked by reading them back and by applying them at the
//! other end.

mod common;

use common::*;
use imipd_calendar::{
    ItipError, Limits, OutcomeKind, PartStat, apply, build_cancel, build_reply, build_request,
    set_partstat, summarize,
};

fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
}

fn lines_named<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.split("\r\n")
        .filter(|l| l.starts_with(&format!("{name}:")) || l.starts_with(&format!("{name};")))
        .collect()
}

fn stored(extra: &[&str]) -> String {
    cal(None, &[event(extra)])
}

#[test]
fn reply_carries_exactly_the_user_as_attendee() {
    let object = stored(&[
        "SEQUENCE:2",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org",
        "ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org",
    ]);
    let reply = unfold(
        &build_reply(
            &object,
            "MAILTO:Bob@example.org",
            PartStat::Accepted,
            None,
            Some("See you"),
            &Limits::default(),
            NOW,
        )
        .unwrap(),
    );
    assert!(reply.contains("METHOD:REPLY"), "{reply}");
    let attendees = lines_named(&reply, "ATTENDEE");
    assert_eq!(attendees.len(), 1, "{reply}");
    assert!(attendees[0].contains("PARTSTAT=ACCEPTED"), "{reply}");
    assert!(attendees[0].contains("CN=Bob"), "{reply}");
    assert!(!attendees[0].contains("RSVP"), "{reply}");
    assert_eq!(lines_named(&reply, "ORGANIZER").len(), 1);
    assert_eq!(lines_named(&reply, "UID"), vec!["UID:evt-1"]);
    assert_eq!(lines_named(&reply, "SEQUENCE"), vec!["SEQUENCE:2"]);
    assert_eq!(lines_named(&reply, "DTSTAMP").len(), 1);
    assert!(reply.contains("COMMENT:See you"), "{reply}");
}

#[test]
fn reply_applies_at_the_organizer() {
    let object = stored(&[]);
    let reply = build_reply(
        &object,
        BOB,
        PartStat::Declined,
        None,
        None,
        &Limits::default(),
        NOW,
    )
    .unwrap();
    let d = apply(
        Some(&object),
        &reply,
        &alice_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert_eq!(partstat_of(&master(&d), BOB).as_deref(), Some("DECLINED"));
}

#[test]
fn reply_for_one_instance_names_it() {
    let object = stored(&["RRULE:FREQ=WEEKLY;COUNT=5"]);
    let reply = build_reply(
        &object,
        BOB,
        PartStat::Tentative,
        Some("20260317T100000Z"),
        None,
        &Limits::default(),
        NOW,
    )
    .unwrap();
    assert!(reply.contains("RECURRENCE-ID:20260317T100000Z"), "{reply}");
    assert!(!reply.contains("RRULE"), "{reply}");
    let d = apply(
        Some(&object),
        &reply,
        &alice_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert_eq!(sums(&d).len(), 2);
}

#[test]
fn reply_refuses_a_non_attendee_and_an_event_without_organizer() {
    let object = stored(&[]);
    assert!(matches!(
        build_reply(
            &object,
            CAROL,
            PartStat::Accepted,
            None,
            None,
            &Limits::default(),
            NOW
        ),
        Err(ItipError::NotAttendee { .. })
    ));
    let private = stored(&["-ORGANIZER"]);
    let err = build_reply(
        &private,
        BOB,
        PartStat::Accepted,
        None,
        None,
        &Limits::default(),
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, ItipError::NoOrganizer { .. }));
    assert!(err.to_string().contains("evt-1"), "{err}");
}

#[test]
fn request_bumps_sequence_only_for_significant_changes() {
    let before = stored(&["SEQUENCE:3"]);
    let retitled = stored(&["SEQUENCE:3", "SUMMARY:New title"]);
    let moved = stored(&["SEQUENCE:3", "DTSTART:20260311T100000Z"]);
    let relocated = stored(&["SEQUENCE:3", "LOCATION:Room 2"]);
    let limits = Limits::default();
    let seq = |text: &str| lines_named(text, "SEQUENCE").join(",");
    assert_eq!(
        seq(&build_request(&retitled, Some(&before), &limits, NOW).unwrap()),
        "SEQUENCE:3"
    );
    assert_eq!(
        seq(&build_request(&moved, Some(&before), &limits, NOW).unwrap()),
        "SEQUENCE:4"
    );
    assert_eq!(
        seq(&build_request(&relocated, Some(&before), &limits, NOW).unwrap()),
        "SEQUENCE:4"
    );
    assert_eq!(
        seq(&build_request(&before, None, &limits, NOW).unwrap()),
        "SEQUENCE:3"
    );
}

#[test]
fn request_leaves_private_data_home_and_is_accepted_by_the_attendee() {
    let object = stored(&[
        "X-IMIPD-COUNTER;X-IMIPD-FROM=mailto:bob@example.org:DTSTART=x",
        "ATTENDEE;PARTSTAT=ACCEPTED;X-IMIPD-REPLY-DTSTAMP=20260101T000000Z:mailto:bob@example.org",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM",
    ]);
    let request = build_request(&object, None, &Limits::default(), NOW).unwrap();
    assert!(request.contains("METHOD:REQUEST"), "{request}");
    assert!(!request.contains("X-IMIPD"), "{request}");
    assert!(!request.contains("VALARM"), "{request}");
    let d = apply(None, &request, &bob_facts(), &policy(), &Limits::default());
    assert_eq!(d.outcome.kind, OutcomeKind::Added, "{}", d.outcome);
}

#[test]
fn request_needs_an_organizer() {
    let private = stored(&["-ORGANIZER"]);
    assert!(matches!(
        build_request(&private, None, &Limits::default(), NOW),
        Err(ItipError::NoOrganizer { .. })
    ));
}

#[test]
fn cancel_whole_event_applies_at_the_attendee() {
    let object = stored(&["SEQUENCE:1"]);
    let cancel = build_cancel(&object, None, &Limits::default(), NOW).unwrap();
    assert!(cancel.contains("METHOD:CANCEL"), "{cancel}");
    assert!(cancel.contains("STATUS:CANCELLED"), "{cancel}");
    assert_eq!(lines_named(&cancel, "SEQUENCE"), vec!["SEQUENCE:2"]);
    let d = apply(
        Some(&object),
        &cancel,
        &bob_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert_eq!(master(&d).status, "CANCELLED");
}

#[test]
fn cancel_one_instance() {
    let object = stored(&["RRULE:FREQ=DAILY;COUNT=5"]);
    let cancel = build_cancel(&object, Some("20260312T100000Z"), &Limits::default(), NOW).unwrap();
    assert!(
        cancel.contains("RECURRENCE-ID:20260312T100000Z"),
        "{cancel}"
    );
    let d = apply(
        Some(&object),
        &cancel,
        &bob_facts(),
        &policy(),
        &Limits::default(),
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    assert!(put(&d).contains("EXDATE:20260312T100000Z"), "{}", put(&d));
}

#[test]
fn cancel_of_a_missing_instance_of_a_single_event_is_an_error() {
    let object = stored(&[]);
    assert!(build_cancel(&object, Some("garbage"), &Limits::default(), NOW).is_err());
}

#[test]
fn set_partstat_updates_the_series_or_one_instance() {
    let object = stored(&["RRULE:FREQ=WEEKLY;COUNT=5"]);
    let limits = Limits::default();
    let all = set_partstat(&object, BOB, PartStat::Accepted, None, &limits).unwrap();
    let events = summarize(&all, &limits).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(partstat_of(&events[0], BOB).as_deref(), Some("ACCEPTED"));
    let one = set_partstat(
        &all,
        BOB,
        PartStat::Declined,
        Some("20260317T100000Z"),
        &limits,
    )
    .unwrap();
    let events = summarize(&one, &limits).unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        let want = if e.recurrence_id.is_some() {
            "DECLINED"
        } else {
            "ACCEPTED"
        };
        assert_eq!(partstat_of(e, BOB).as_deref(), Some(want));
    }
    assert!(matches!(
        set_partstat(&object, CAROL, PartStat::Accepted, None, &limits),
        Err(ItipError::NotAttendee { .. })
    ));
}

#[test]
fn summarize_lists_master_and_overrides() {
    let object = cal(
        None,
        &[
            event(&[
                "LOCATION:Room 1",
                "STATUS:CONFIRMED",
                "RRULE:FREQ=WEEKLY;COUNT=3",
            ]),
            event(&[
                "RECURRENCE-ID:20260317T100000Z",
                "SUMMARY:Moved",
                "ATTENDEE:mailto:bob@example.org",
            ]),
        ],
    );
    let events = summarize(&object, &Limits::default()).unwrap();
    assert_eq!(events.len(), 2);
    let m = &events[0];
    assert_eq!(m.uid, "evt-1");
    assert_eq!(m.start, "20260310T100000Z");
    assert_eq!(m.location.as_deref(), Some("Room 1"));
    assert_eq!(m.status, "CONFIRMED");
    assert_eq!(m.organizer.as_deref(), Some(ALICE));
    assert_eq!(m.attendees.len(), 2);
    let o = &events[1];
    assert_eq!(o.recurrence_id.as_deref(), Some("20260317T100000Z"));
    assert_eq!(
        o.attendees,
        vec![(BOB.to_string(), "NEEDS-ACTION".to_string())]
    );
    assert!(summarize("nonsense", &Limits::default()).is_err());
}

#[test]
fn instances_in_a_time_zone_are_found_by_local_or_utc_time() {
    let object = cal(
        None,
        &[
            event(&[
                "DTSTART;TZID=Europe/Berlin:20260310T110000",
                "DTEND;TZID=Europe/Berlin:20260310T120000",
                "RRULE:FREQ=WEEKLY;COUNT=5",
            ]),
            event(&[
                "RECURRENCE-ID;TZID=Europe/Berlin:20260317T110000",
                "DTSTART;TZID=Europe/Berlin:20260317T150000",
                "SUMMARY:Moved",
            ]),
        ],
    );
    let limits = Limits::default();
    for name in ["20260317T110000", "20260317T100000Z"] {
        let updated = set_partstat(&object, BOB, PartStat::Accepted, Some(name), &limits).unwrap();
        let events = summarize(&updated, &limits).unwrap();
        assert_eq!(events.len(), 2, "{name} must find the existing override");
        let moved = events.iter().find(|e| e.summary == "Moved").unwrap();
        assert_eq!(
            partstat_of(moved, BOB).as_deref(),
            Some("ACCEPTED"),
            "{name}"
        );
    }
    let reply = cal(
        Some("REPLY"),
        &[event(&[
            "RECURRENCE-ID:20260317T100000Z",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org",
        ])],
    );
    let d = apply(Some(&object), &reply, &alice_facts(), &policy(), &limits);
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    let events = sums(&d);
    assert_eq!(
        events.len(),
        2,
        "a UTC answer updates the override written in local time"
    );
    let moved = events.iter().find(|e| e.summary == "Moved").unwrap();
    assert_eq!(partstat_of(moved, BOB).as_deref(), Some("DECLINED"));

    let other = cal(
        Some("REPLY"),
        &[event(&[
            "RECURRENCE-ID:20260324T100000Z",
            "ATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org",
        ])],
    );
    let d = apply(Some(&object), &other, &alice_facts(), &policy(), &limits);
    assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
    let text = put(&d);
    assert!(
        text.contains("DTSTART:20260324T100000Z") && text.contains("DTEND:20260324T110000Z"),
        "a new override lasts as long as the master, in its own zone: {text}"
    );
}

#[test]
fn every_message_is_stamped_with_the_clock_passed_in() {
    let object = stored(&["RRULE:FREQ=WEEKLY;COUNT=5", "SEQUENCE:1"]);
    let own = vec![ALICE.to_string()];
    let limits = Limits::default();
    let later = NOW + 86_400 + 3_661;
    let cases: Vec<(&str, Result<String, ItipError>)> = vec![
        (
            "build_reply",
            build_reply(&object, BOB, PartStat::Accepted, None, None, &limits, later),
        ),
        (
            "build_request",
            build_request(&object, None, &limits, later),
        ),
        ("build_cancel", build_cancel(&object, None, &limits, later)),
        (
            "build_cancel of one instance",
            build_cancel(&object, Some("20260317T100000Z"), &limits, later),
        ),
        (
            "organizer_update",
            imipd_calendar::organizer_update(None, &object, &own, &limits, later)
                .map(|c| c.message),
        ),
        (
            "organizer_cancel",
            imipd_calendar::organizer_cancel(&object, None, &own, &limits, later)
                .map(|c| c.message),
        ),
    ];
    for (name, built) in cases {
        let text = unfold(&built.unwrap_or_else(|e| panic!("{name}: {e}")));
        let stamps = lines_named(&text, "DTSTAMP");
        assert!(!stamps.is_empty(), "{name}: no DTSTAMP in {text}");
        for stamp in stamps {
            assert_eq!(stamp, "DTSTAMP:20260102T010101Z", "{name}: {text}");
        }
    }
}

#[test]
fn answers_and_cancels_name_only_instances_that_exist() {
    let limits = Limits::default();
    let series = stored(&["RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE:20260324T100000Z"]);
    let single = stored(&[]);
    let own = vec![ALICE.to_string()];
    for (name, object, rid, exists) in [
        (
            "an instance of the series",
            &series,
            "20260317T100000Z",
            true,
        ),
        ("the last instance", &series, "20260407T100000Z", true),
        ("an excluded instance", &series, "20260324T100000Z", false),
        ("after the series", &series, "20260414T100000Z", false),
        ("between instances", &series, "20260318T100000Z", false),
        (
            "the start of an event that does not recur",
            &single,
            "20260310T100000Z",
            false,
        ),
    ] {
        let results = [
            (
                "set_partstat",
                set_partstat(object, BOB, PartStat::Accepted, Some(rid), &limits).map(drop),
            ),
            (
                "build_reply",
                build_reply(
                    object,
                    BOB,
                    PartStat::Accepted,
                    Some(rid),
                    None,
                    &limits,
                    NOW,
                )
                .map(drop),
            ),
            (
                "build_cancel",
                build_cancel(object, Some(rid), &limits, NOW).map(drop),
            ),
            (
                "organizer_cancel",
                imipd_calendar::organizer_cancel(object, Some(rid), &own, &limits, NOW).map(drop),
            ),
        ];
        for (function, result) in results {
            match result {
                Ok(()) if exists => {}
                Err(ItipError::NoSuchInstance { .. }) if !exists => {}
                other => panic!("{function} for {name} ({rid}): {other:?}"),
            }
        }
    }
}
