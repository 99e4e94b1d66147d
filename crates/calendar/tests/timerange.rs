//! When stored objects happen, as the CalDAV index and time-range queries read them:
//! realistic series with overrides, time zones and all-day events, and hostile rules that
//! must stay bounded without an object ever dropping out of the index.

mod common;

use common::*;
use imipd_calendar::{ComponentType, Limits, TimeRange, instances_between, time_range};

const OUTLOOK: &str = include_str!("fixtures/outlook-request.ics");
const GOOGLE: &str = include_str!("fixtures/google-request-with-override.ics");
const APPLE: &str = include_str!("fixtures/apple-cancel-allday.ics");

/// `20260310T090000Z` or `20260310` (UTC midnight) as unix seconds.
fn at(text: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let (hh, mm, ss) = if text.len() > 8 {
        (n(9..11), n(11..13), n(13..15))
    } else {
        (0, 0, 0)
    };
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

fn stored(comps: &[String]) -> String {
    cal(None, comps)
}

fn with_zone(zone: &str, comps: &[String]) -> String {
    cal(None, comps).replacen(
        "PRODID:-//test//EN\r\n",
        &format!("PRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:{zone}\r\nEND:VTIMEZONE\r\n"),
        1,
    )
}

/// (name, object, first start, last end); `None` as in [`TimeRange`].
fn ranges() -> Vec<(&'static str, String, Option<i64>, Option<i64>)> {
    vec![
        (
            "single event",
            stored(&[event(&[])]),
            Some(at("20260310T100000Z")),
            Some(at("20260310T110000Z")),
        ),
        (
            "Outlook weekly series in W. Europe Standard Time, UNTIL in UTC keeps its last Tuesday",
            OUTLOOK.replace("METHOD:REQUEST\r\n", ""),
            Some(at("20260310T090000Z")),
            Some(at("20260630T090000Z")),
        ),
        (
            "Google weekday series without end, with an override",
            GOOGLE.replace("METHOD:REQUEST\r\n", ""),
            Some(at("20260302T140000Z")),
            None,
        ),
        (
            "Apple all-day event",
            APPLE.replace("METHOD:CANCEL\r\n", ""),
            Some(at("20260320")),
            Some(at("20260321")),
        ),
        (
            "all-day yearly without DTEND lasts the day",
            stored(&[event(&[
                "DTSTART;VALUE=DATE:20260310",
                "-DTEND",
                "RRULE:FREQ=YEARLY;COUNT=5",
            ])]),
            Some(at("20260310")),
            Some(at("20300311")),
        ),
        (
            "date-time without DTEND lasts no time",
            stored(&[event(&["-DTEND"])]),
            Some(at("20260310T100000Z")),
            Some(at("20260310T100000Z")),
        ),
        (
            "DURATION instead of DTEND",
            stored(&[event(&["-DTEND", "DURATION:PT90M"])]),
            Some(at("20260310T100000Z")),
            Some(at("20260310T113000Z")),
        ),
        (
            "floating times are read as UTC",
            stored(&[event(&["DTSTART:20260310T100000", "DTEND:20260310T110000"])]),
            Some(at("20260310T100000Z")),
            Some(at("20260310T110000Z")),
        ),
        (
            "EXDATE of the last instance shortens the series",
            stored(&[event(&[
                "RRULE:FREQ=WEEKLY;COUNT=3",
                "EXDATE:20260324T100000Z",
            ])]),
            Some(at("20260310T100000Z")),
            Some(at("20260317T110000Z")),
        ),
        (
            "EXDATE of DTSTART moves the first instance",
            stored(&[event(&[
                "DTSTART;TZID=Europe/Berlin:20260310T110000",
                "DTEND;TZID=Europe/Berlin:20260310T120000",
                "RRULE:FREQ=WEEKLY;COUNT=3",
                "EXDATE;TZID=Europe/Berlin:20260310T110000",
            ])]),
            Some(at("20260317T100000Z")),
            Some(at("20260324T110000Z")),
        ),
        (
            "an override moves the first instance earlier",
            stored(&[
                event(&["RRULE:FREQ=WEEKLY;COUNT=3"]),
                event(&[
                    "RECURRENCE-ID:20260310T100000Z",
                    "DTSTART:20260309T080000Z",
                    "DTEND:20260309T090000Z",
                    "SEQUENCE:2",
                ]),
            ]),
            Some(at("20260309T080000Z")),
            Some(at("20260324T110000Z")),
        ),
        (
            "an override moves the last instance past the series",
            stored(&[
                event(&["RRULE:FREQ=WEEKLY;COUNT=3"]),
                event(&[
                    "RECURRENCE-ID:20260324T100000Z",
                    "DTSTART:20260401T150000Z",
                    "DTEND:20260401T170000Z",
                ]),
            ]),
            Some(at("20260310T100000Z")),
            Some(at("20260401T170000Z")),
        ),
        (
            "two RRULEs are both expanded",
            stored(&[event(&[
                "RRULE:FREQ=WEEKLY;COUNT=2",
                "RRULE:FREQ=MONTHLY;COUNT=3",
            ])]),
            Some(at("20260310T100000Z")),
            Some(at("20260510T110000Z")),
        ),
        (
            "RDATE with a period beyond the rule",
            stored(&[event(&[
                "RRULE:FREQ=DAILY;COUNT=2",
                "RDATE;VALUE=PERIOD:20260320T100000Z/20260320T140000Z",
            ])]),
            Some(at("20260310T100000Z")),
            Some(at("20260320T140000Z")),
        ),
        (
            "VTODO with DTSTART and DUE",
            stored(&[todo(&["-DTEND", "DUE:20260312T170000Z"])]),
            Some(at("20260310T100000Z")),
            Some(at("20260312T170000Z")),
        ),
        (
            "VTODO with DUE only",
            stored(&[todo(&["-DTSTART", "-DTEND", "DUE:20260312T170000Z"])]),
            Some(at("20260312T170000Z")),
            Some(at("20260312T170000Z")),
        ),
        (
            "VTODO without dates matches every range",
            stored(&[todo(&["-DTSTART", "-DTEND"])]),
            None,
            None,
        ),
        (
            "only an override (invited to one instance)",
            stored(&[event(&[
                "RECURRENCE-ID:20260317T100000Z",
                "DTSTART:20260317T120000Z",
                "DTEND:20260317T130000Z",
            ])]),
            Some(at("20260317T120000Z")),
            Some(at("20260317T130000Z")),
        ),
        (
            "a zone nobody knows is widened by 14 hours",
            stored(&[event(&[
                "DTSTART;TZID=Mars/Olympus:20260310T100000",
                "DTEND;TZID=Mars/Olympus:20260310T110000",
            ])]),
            Some(at("20260309T200000Z")),
            Some(at("20260311T010000Z")),
        ),
        (
            "a VTIMEZONE named by its Windows name resolves",
            with_zone(
                "Pacific Standard Time",
                &[event(&[
                    "DTSTART;TZID=Pacific Standard Time:20260710T090000",
                    "DTEND;TZID=Pacific Standard Time:20260710T100000",
                ])],
            ),
            Some(at("20260710T160000Z")),
            Some(at("20260710T170000Z")),
        ),
        // ---- hostile rules: bounded, open-ended, never dropped ----
        (
            "SECONDLY without end",
            stored(&[event(&["RRULE:FREQ=SECONDLY"])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "COUNT beyond the budget",
            stored(&[event(&["RRULE:FREQ=MINUTELY;COUNT=4000000000"])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "a leap-day minute rule ends beyond the horizon",
            stored(&[event(&[
                "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=0;BYMINUTE=0;COUNT=10000",
            ])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "a thousand RRULE lines",
            stored(&[event(&["RRULE:FREQ=SECONDLY;COUNT=10000\r\n"
                .repeat(1_000)
                .trim_end()])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "impossible UNTIL",
            stored(&[event(&["RRULE:FREQ=SECONDLY;UNTIL=99991331T235959Z"])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "UNTIL before DTSTART",
            stored(&[event(&["RRULE:FREQ=DAILY;UNTIL=20200101T000000Z"])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "rule that never occurs",
            stored(&[event(&[
                "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3",
            ])]),
            Some(at("20260310T100000Z")),
            None,
        ),
        (
            "DTSTART on February 30th",
            stored(&[event(&[
                "DTSTART:20260230T100000Z",
                "RRULE:FREQ=DAILY;COUNT=3",
            ])]),
            None,
            None,
        ),
        (
            "DTSTART in a daylight-saving gap",
            stored(&[event(&[
                "DTSTART;TZID=Europe/Berlin:20260329T023000",
                "DTEND;TZID=Europe/Berlin:20260329T033000",
            ])]),
            None,
            None,
        ),
    ]
}

#[test]
fn first_and_last_occurrence() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for (name, object, first, last) in ranges() {
        match time_range(&object, &limits) {
            Ok(TimeRange {
                first_start,
                last_end,
                ..
            }) if first_start == first && last_end == last => {}
            got => failures.push(format!(
                "{name}: expected first {first:?} last {last:?}, got {got:?}\n{object}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn type_and_uid_are_indexed() {
    let limits = Limits::default();
    for (object, component, uid) in [
        (stored(&[event(&[])]), ComponentType::Event, "evt-1"),
        (stored(&[todo(&[])]), ComponentType::Todo, "evt-1"),
        (
            stored(&[component(
                "VJOURNAL",
                &["UID:j-1", "DTSTART;VALUE=DATE:20260310"],
            )]),
            ComponentType::Journal,
            "j-1",
        ),
    ] {
        let got = time_range(&object, &limits).unwrap();
        assert_eq!(
            (got.component, got.uid.as_str()),
            (component, uid),
            "{object}"
        );
    }
    assert_eq!(ComponentType::Todo.as_str(), "VTODO");
    assert!(time_range("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", &limits).is_err());
}

/// The budget decides when a series counts as open-ended: the same object is closed with
/// room to expand, and open-ended (not dropped) without.
#[test]
fn an_object_that_reaches_the_budget_is_open_ended() {
    let object = stored(&[event(&["RRULE:FREQ=DAILY;COUNT=50"])]);
    for (budget, last) in [(50, Some(at("20260428T110000Z"))), (49, None), (0, None)] {
        let limits = Limits {
            max_instances: budget,
            ..Limits::default()
        };
        let got = time_range(&object, &limits).unwrap();
        assert_eq!(
            got.first_start,
            Some(at("20260310T100000Z")),
            "budget {budget}"
        );
        assert_eq!(got.last_end, last, "budget {budget}");
    }
}

/// (name, object, range, expected (RECURRENCE-ID, start, overridden), complete)
type Listing = (
    &'static str,
    String,
    (&'static str, &'static str),
    Vec<(Option<&'static str>, &'static str, bool)>,
    bool,
);

fn listings() -> Vec<Listing> {
    let google = GOOGLE.replace("METHOD:REQUEST\r\n", "");
    vec![
        (
            "Google week across the daylight-saving change, with the moved Wednesday",
            google.clone(),
            ("20260303T000000Z", "20260310T000000Z"),
            vec![
                (Some("20260303T140000Z"), "20260303T140000Z", false),
                (Some("20260304T140000Z"), "20260304T150000Z", true),
                (Some("20260305T140000Z"), "20260305T140000Z", false),
                (Some("20260306T140000Z"), "20260306T140000Z", false),
                (Some("20260309T130000Z"), "20260309T130000Z", false),
            ],
            true,
        ),
        (
            "an instance that started before the range and lasts into it",
            stored(&[event(&["RRULE:FREQ=DAILY;COUNT=3"])]),
            ("20260311T103000Z", "20260311T104500Z"),
            vec![(Some("20260311T100000Z"), "20260311T100000Z", false)],
            true,
        ),
        (
            "the end of the range is exclusive",
            stored(&[event(&["RRULE:FREQ=DAILY;COUNT=3"])]),
            ("20260311T110000Z", "20260312T100000Z"),
            vec![],
            true,
        ),
        (
            "a zero-length instance at the start of the range",
            stored(&[event(&["-DTEND", "RRULE:FREQ=DAILY;COUNT=3"])]),
            ("20260311T100000Z", "20260311T100001Z"),
            vec![(Some("20260311T100000Z"), "20260311T100000Z", false)],
            true,
        ),
        (
            "all-day series are named by date",
            stored(&[event(&[
                "DTSTART;VALUE=DATE:20260310",
                "DTEND;VALUE=DATE:20260311",
                "RRULE:FREQ=WEEKLY;COUNT=4",
                "EXDATE;VALUE=DATE:20260317",
            ])]),
            ("20260301T000000Z", "20260401T000000Z"),
            vec![
                (Some("20260310"), "20260310T000000Z", false),
                (Some("20260324"), "20260324T000000Z", false),
                (Some("20260331"), "20260331T000000Z", false),
            ],
            true,
        ),
        (
            "a non-recurring event has no RECURRENCE-ID",
            stored(&[event(&[])]),
            ("20260101T000000Z", "20270101T000000Z"),
            vec![(None, "20260310T100000Z", false)],
            true,
        ),
        (
            "beyond the budget the listing says it is incomplete",
            stored(&[event(&["RRULE:FREQ=DAILY"])]),
            ("21000101T000000Z", "21000102T000000Z"),
            vec![],
            false,
        ),
        (
            "an undated task is in every range",
            stored(&[todo(&["-DTSTART", "-DTEND"])]),
            ("20260101T000000Z", "20260102T000000Z"),
            vec![(None, "", false)],
            true,
        ),
    ]
}

#[test]
fn instances_overlapping_a_range() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for (name, object, (from, to), want, complete) in listings() {
        let got = instances_between(&object, at(from), at(to), &limits).unwrap();
        let seen: Vec<(Option<String>, i64, bool)> = got
            .instances
            .iter()
            .map(|i| (i.recurrence_id.clone(), i.start, i.overridden))
            .collect();
        let wanted: Vec<(Option<String>, i64, bool)> = want
            .iter()
            .map(|(rid, start, o)| {
                let start = if start.is_empty() {
                    i64::MIN
                } else {
                    at(start)
                };
                (rid.map(str::to_string), start, *o)
            })
            .collect();
        if seen != wanted || got.complete != complete {
            failures.push(format!(
                "{name}: expected {wanted:?} (complete {complete}), got {seen:?} (complete {})",
                got.complete
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
