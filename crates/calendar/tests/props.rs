//! Properties over generated events and mutated messages.

mod common;

use common::*;
use imipd_calendar::{
    Change, Facts, Limits, OutcomeKind, PartStat, Policy, apply, build_reply, instances_between,
    peek, set_partstat, summarize, time_range,
};
use proptest::prelude::*;

const PARTSTATS: [&str; 5] = [
    "NEEDS-ACTION",
    "ACCEPTED",
    "DECLINED",
    "TENTATIVE",
    "DELEGATED",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// Text with the characters iCalendar must escape, and some that it must not mangle.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(",".to_string()),
            Just(";".to_string()),
            Just("\\".to_string()),
            Just(":".to_string()),
            Just("é".to_string()),
            Just("日本".to_string()),
            "[a-zA-Z0-9 ]{1,12}",
        ],
        1..8,
    )
    .prop_map(|parts| parts.concat().trim().to_string())
    .prop_filter("non-empty", |s| !s.is_empty())
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
}

#[derive(Debug, Clone)]
struct Generated {
    summary: String,
    location: String,
    sequence: u8,
    day: u8,
    hour: u8,
    attendees: Vec<usize>,
    rrule: bool,
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        text(),
        text(),
        0u8..20,
        1u8..28,
        0u8..23,
        proptest::collection::vec(0usize..5, 0..6),
        any::<bool>(),
    )
        .prop_map(
            |(summary, location, sequence, day, hour, attendees, rrule)| Generated {
                summary,
                location,
                sequence,
                day,
                hour,
                attendees,
                rrule,
            },
        )
}

fn render(g: &Generated) -> String {
    let mut lines = vec![
        format!("SUMMARY:{}", escape(&g.summary)),
        format!("LOCATION:{}", escape(&g.location)),
        format!("SEQUENCE:{}", g.sequence),
        format!("DTSTART:202604{:02}T{:02}0000Z", g.day, g.hour),
        format!("DTEND:202604{:02}T{:02}3000Z", g.day, g.hour),
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org".to_string(),
    ];
    for (i, p) in g.attendees.iter().enumerate() {
        lines.push(format!(
            "ATTENDEE;PARTSTAT={}:mailto:guest{i}@example.net",
            PARTSTATS[*p]
        ));
    }
    if g.rrule {
        lines.push("RRULE:FREQ=WEEKLY;COUNT=4".into());
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    cal(Some("REQUEST"), &[event(&refs)])
}

fn with_method(stored: &str, method: &str) -> String {
    stored.replacen(
        "BEGIN:VCALENDAR\r\n",
        &format!("BEGIN:VCALENDAR\r\nMETHOD:{method}\r\n"),
        1,
    )
}

/// Damage to apply to a calendar text: (where, how many characters to cut, what to insert).
type Edits = Vec<(prop::sample::Index, usize, &'static str)>;

fn edits() -> impl Strategy<Value = Edits> {
    proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            0usize..40,
            prop::sample::select(vec![
                "",
                "\r\n",
                "\r\n ",
                ":",
                ";",
                ",",
                "\"",
                "=",
                "\\",
                "BEGIN:VEVENT\r\n",
                "END:VEVENT\r\n",
                "BEGIN:VALARM\r\n",
                "END:VCALENDAR\r\n",
                "RECURRENCE-ID:20260317T100000Z\r\n",
                "RRULE:FREQ=SECONDLY\r\n",
                "RRULE:FREQ=YEARLY;BYMONTH=13\r\n",
                "SEQUENCE:-9223372036854775808\r\n",
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:\r\n",
                "ORGANIZER:\r\n",
                "UID:\r\n",
                "\u{0}",
                "ü",
                "DTSTART:99999999T999999Z\r\n",
                "DTSTART;VALUE=DATE:20260230\r\n",
                "METHOD:REPLY\r\n",
                "METHOD:CANCEL\r\n",
                "RECURRENCE-ID;TZID=Europe/Berlin:20261399T256161\r\n",
                "RECURRENCE-ID;TZID=America/New_York:20260308T023000\r\n",
                "EXDATE;TZID=W. Europe Standard Time:20260317T100000,20260324T100000\r\n",
                "RECURRENCE-ID;TZID=Europe/Berlin:99991231T235959\r\n",
                "RRULE:FREQ=DAILY;COUNT=5\r\n",
                "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;COUNT=9\r\n",
                "RRULE:FREQ=WEEKLY;UNTIL=99991331T235959Z\r\n",
                "RRULE:FREQ=DAILY;UNTIL=19700101\r\n",
                "RDATE;VALUE=PERIOD:20260320T100000Z/20260319T100000Z\r\n",
                "RDATE;TZID=Mars/Olympus:20260320T100000\r\n",
                "EXDATE;VALUE=DATE:20260317\r\n",
                "DURATION:-P1W\r\n",
                "DURATION:P99999W\r\n",
                "DTEND;VALUE=DATE:2026\r\n",
                "DUE:20260317T100000Z\r\n",
                "DTSTART;TZID=Europe/Berlin:20260329T023000\r\n",
                "DTSTART;TZID=W. Europe Standard Time:00010101T000000\r\n",
                "BEGIN:VJOURNAL\r\nUID:decoy\r\nEND:VJOURNAL\r\n",
                "BEGIN:X-WRAP\r\n",
                "END:X-WRAP\r\n",
                "BEGIN:VTODO\r\n",
                "END:VTODO\r\n",
                "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n",
                "ORGANIZER;SENT-BY=\"mailto:bob@example.org\":mailto:alice@example.org\r\n",
            ]),
        ),
        0..8,
    )
}

fn mutate(text: &str, edits: &Edits) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, cut, insert) in edits {
        let start = at.index(chars.len() + 1);
        let end = (start + cut).min(chars.len());
        chars.splice(start..end, insert.chars());
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config())]

    /// Parsing and writing again changes nothing, and the values survive escaping.
    #[test]
    fn serialisation_is_stable(g in generated()) {
        let limits = Limits::default();
        let first = apply(None, &render(&g), &bob_facts(), &policy(), &limits);
        prop_assert_eq!(first.outcome.kind, OutcomeKind::Added, "{}", first.outcome);
        let Change::Put(once) = &first.change else { panic!("no object") };
        let second = apply(None, &with_method(once, "REQUEST"), &bob_facts(), &policy(), &limits);
        let Change::Put(twice) = &second.change else { panic!("no object: {}", second.outcome) };
        prop_assert_eq!(once, twice);
        let events = summarize(once, &limits).unwrap();
        prop_assert_eq!(&events[0].summary, &g.summary);
        prop_assert_eq!(events[0].location.as_deref(), Some(g.location.as_str()));
        prop_assert_eq!(events[0].attendees.len(), g.attendees.len() + 1);
    }

    /// The organizer's update never overrides the user's own answer.
    #[test]
    fn user_partstat_survives_updates(g in generated(), mine in 0usize..5, theirs in 0usize..5, bump in 1u8..5) {
        let limits = Limits::default();
        let mut stored_gen = g.clone();
        stored_gen.attendees.clear();
        let stored = render(&stored_gen)
            .replace("METHOD:REQUEST\r\n", "")
            .replace("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob", &format!("ATTENDEE;PARTSTAT={}:mailto:bob", PARTSTATS[mine]));
        let mut update = g.clone();
        update.sequence = g.sequence.saturating_add(bump);
        let message = render(&update)
            .replace("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob", &format!("ATTENDEE;PARTSTAT={}:mailto:bob", PARTSTATS[theirs]));
        let d = apply(Some(&stored), &message, &bob_facts(), &policy(), &limits);
        prop_assert_eq!(d.outcome.kind, OutcomeKind::Updated, "{}", d.outcome);
        for e in sums(&d) {
            let got = partstat_of(&e, BOB);
            prop_assert_eq!(got.as_deref(), Some(PARTSTATS[mine]));
        }
    }

    /// A REPLY changes at most its sender's entry, whatever else it lists.
    #[test]
    fn reply_changes_only_the_sender(
        g in generated(),
        sender in 0usize..6,
        answers in proptest::collection::vec(0usize..5, 6),
    ) {
        let limits = Limits::default();
        let stored = render(&g).replace("METHOD:REQUEST\r\n", "");
        let sender_address = if sender < g.attendees.len() {
            format!("guest{sender}@example.net")
        } else {
            BOB.to_string()
        };
        let mut lines: Vec<String> = (0..g.attendees.len())
            .map(|i| format!("ATTENDEE;PARTSTAT={}:mailto:guest{i}@example.net", PARTSTATS[answers[i]]))
            .collect();
        lines.push(format!("ATTENDEE;PARTSTAT={}:mailto:bob@example.org", PARTSTATS[answers[5]]));
        lines.push(format!("SEQUENCE:{}", g.sequence));
        lines.push("DTSTAMP:20260301T000000Z".into());
        if g.rrule {
            lines.push("RRULE:FREQ=WEEKLY;COUNT=4".into());
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let reply = cal(Some("REPLY"), &[event(&refs)]);
        let facts = Facts { sender: sender_address.clone(), ..alice_facts() };
        let before = summarize(&stored, &limits).unwrap();
        let d = apply(Some(&stored), &reply, &facts, &policy(), &limits);
        let after = match &d.change {
            Change::Put(text) => summarize(text, &limits).unwrap(),
            _ => before.clone(),
        };
        prop_assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            prop_assert_eq!(b.attendees.len(), a.attendees.len());
            for ((addr_b, p_b), (addr_a, p_a)) in b.attendees.iter().zip(&a.attendees) {
                prop_assert_eq!(addr_b, addr_a);
                if *addr_b != sender_address {
                    prop_assert_eq!(p_b, p_a, "{} changed by a REPLY from {}", addr_b, &sender_address);
                }
            }
        }
    }

    /// Whatever the damage to the message or the stored copy, apply answers.
    #[test]
    fn apply_never_panics_on_mutated_input(
        g in generated(),
        method in prop::sample::select(vec!["REQUEST", "REPLY", "CANCEL", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER", "PUBLISH", "BOGUS"]),
        edits in edits(),
        mutate_stored in any::<bool>(),
        flags in any::<(bool, bool, bool, bool)>(),
    ) {
        let limits = Limits::default();
        let clean = render(&g).replace("METHOD:REQUEST", &format!("METHOD:{method}"));
        let stored_clean = render(&g).replace("METHOD:REQUEST\r\n", "");
        let message = mutate(&clean, &edits);
        let stored = if mutate_stored { mutate(&stored_clean, &edits) } else { stored_clean };
        let policy = Policy {
            allow_publish: flags.0,
            allow_party_crashers: flags.1,
            delete_cancelled: flags.2,
            updates_only: flags.3,
            ..policy()
        };
        let peeked = peek(message.as_bytes(), &limits);
        for facts in [bob_facts(), alice_facts()] {
            let d = apply(Some(&stored), &message, &facts, &policy, &limits);
            prop_assert!(!d.outcome.reason.is_empty());
            let fresh = apply(None, &message, &facts, &policy, &limits);
            // Detection and the core read the message by one rule.
            for d in [&d, &fresh] {
                match &peeked {
                    Err(e) => prop_assert!(
                        d.change == Change::None,
                        "peek refused ({}) but apply said {}", e, d.outcome
                    ),
                    Ok(p) if p.method.is_some() => prop_assert!(
                        d.uid.is_none() || d.uid == p.uid,
                        "peek found {:?}, apply acted on {:?}", p.uid, d.uid
                    ),
                    Ok(_) => prop_assert!(d.change == Change::None, "{}", d.outcome),
                }
            }
        }
        let _ = summarize(&message, &limits);
        let _ = build_reply(&stored, BOB, PartStat::Accepted, Some("20260317T100000Z"), None, &limits, NOW);
        let _ = set_partstat(&stored, BOB, PartStat::Declined, Some("20260324T100000Z"), &limits);
    }

    /// Whatever the damage to a stored object, its time range and its instances are found
    /// without a panic, and every instance lies within the range the index gets.
    #[test]
    fn time_ranges_never_panic_and_hold_every_instance(g in generated(), edits in edits()) {
        let limits = Limits::default();
        let stored = mutate(&render(&g).replace("METHOD:REQUEST\r\n", ""), &edits);
        let range = time_range(&stored, &limits);
        let listed = instances_between(&stored, i64::MIN, i64::MAX, &limits);
        prop_assert_eq!(range.is_ok(), listed.is_ok());
        if let (Ok(range), Ok(listed)) = (range, listed) {
            for i in &listed.instances {
                prop_assert!(i.start <= i.end, "{:?}", i);
                if let Some(first) = range.first_start {
                    prop_assert!(i.start >= first, "{:?} before {:?}", i, range);
                }
                if let Some(last) = range.last_end {
                    prop_assert!(i.end <= last, "{:?} after {:?}", i, range);
                }
            }
        }
    }

    /// A generated weekly series: four instances, from DTSTART to three weeks later.
    #[test]
    fn weekly_series_span_four_weeks(mut g in generated()) {
        g.rrule = true;
        let limits = Limits::default();
        let stored = render(&g).replace("METHOD:REQUEST\r\n", "");
        let start = 1_775_001_600 + (i64::from(g.day) - 1) * 86_400 + i64::from(g.hour) * 3600;
        let range = time_range(&stored, &limits).unwrap();
        prop_assert_eq!(range.first_start, Some(start));
        prop_assert_eq!(range.last_end, Some(start + 3 * 7 * 86_400 + 1800));
        let listed = instances_between(&stored, start, start + 4 * 7 * 86_400, &limits).unwrap();
        prop_assert_eq!(listed.instances.len(), 4);
        prop_assert!(listed.complete);
    }
}
