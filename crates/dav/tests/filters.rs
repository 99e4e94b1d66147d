//! calendar-query and addressbook-query filters against real objects, as tables:
//! each case names the object, the filter, and whether it should match.

use calcard::Entry;
use calcard::common::timezone::Tz;
use calcard::icalendar::ICalendar;
use calcard::vcard::VCard;
use imipd_dav::filter::{Basic, matches_calendar, matches_card, query_timezone};
use imipd_dav::parse_report;
use imipd_dav::request::Report;

fn ical(text: &str) -> ICalendar {
    match calcard::Parser::new(text).entry() {
        Entry::ICalendar(c) => c,
        other => panic!("not a calendar: {other:?}\n{text}"),
    }
}

fn vcard(text: &str) -> VCard {
    match calcard::Parser::new(text).entry() {
        Entry::VCard(c) => c,
        other => panic!("not a card: {other:?}\n{text}"),
    }
}

fn wrap(body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{}END:VCALENDAR\r\n",
        body.replace('\n', "\r\n")
    )
}

/// The query for a comp-filter inside VCALENDAR.
fn query(inner: &str) -> imipd_dav::query::CompFilter {
    let body = format!(
        r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">{inner}</C:comp-filter></C:filter></C:calendar-query>"#
    );
    match parse_report(body.as_bytes()) {
        Ok(Report::CalendarQuery(q)) => q.filter,
        other => panic!("bad test filter {inner}: {other:?}"),
    }
}

fn range(comp: &str, start: &str, end: &str) -> String {
    let mut attrs = String::new();
    if !start.is_empty() {
        attrs.push_str(&format!(" start=\"{start}\""));
    }
    if !end.is_empty() {
        attrs.push_str(&format!(" end=\"{end}\""));
    }
    format!(r#"<C:comp-filter name="{comp}"><C:time-range{attrs}/></C:comp-filter>"#)
}

const MEETING: &str = "BEGIN:VEVENT
UID:m1@example.com
DTSTAMP:20060206T001121Z
DTSTART:20060104T140000Z
DTEND:20060104T150000Z
SUMMARY:Weekly Meeting
ORGANIZER:mailto:cyrus@example.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:bernard@example.com
CATEGORIES:Work,Planning
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:soon
END:VALARM
END:VEVENT
";

const ZONED: &str = "BEGIN:VTIMEZONE
TZID:Europe/Helsinki
BEGIN:STANDARD
DTSTART:19701025T040000
TZOFFSETFROM:+0300
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0300
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:z1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Helsinki:20260115T100000
DURATION:PT30M
SUMMARY:Helsinki morning
END:VEVENT
";

const ALL_DAY: &str = "BEGIN:VEVENT
UID:a1
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260301
SUMMARY:Holiday
END:VEVENT
";

const INSTANT: &str = "BEGIN:VEVENT
UID:i1
DTSTAMP:20260101T000000Z
DTSTART:20260301T120000Z
SUMMARY:Reminder
END:VEVENT
";

const WEEKLY: &str = "BEGIN:VEVENT
UID:w1
DTSTAMP:20260101T000000Z
DTSTART:20260105T090000Z
DTEND:20260105T093000Z
RRULE:FREQ=WEEKLY;COUNT=10
EXDATE:20260112T090000Z
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:w1
DTSTAMP:20260101T000000Z
RECURRENCE-ID:20260119T090000Z
DTSTART:20260120T150000Z
DTEND:20260120T153000Z
SUMMARY:Standup (moved)
END:VEVENT
";

const FOREVER: &str = "BEGIN:VEVENT
UID:f1
DTSTAMP:20260101T000000Z
DTSTART:20200101T000000Z
DURATION:PT1H
RRULE:FREQ=DAILY
SUMMARY:Every day
END:VEVENT
";

#[test]
fn event_time_ranges() {
    // (object, filter, matches)
    let cases: Vec<(&str, &str, String, Result<bool, ()>)> = vec![
        ("meeting", MEETING, range("VEVENT", "20060104T000000Z", "20060105T000000Z"), Ok(true)),
        ("meeting: range ends at its start", MEETING, range("VEVENT", "20060104T000000Z", "20060104T140000Z"), Ok(false)),
        ("meeting: range starts at its end", MEETING, range("VEVENT", "20060104T150000Z", "20060105T000000Z"), Ok(false)),
        ("meeting: open start", MEETING, range("VEVENT", "", "20060104T140001Z"), Ok(true)),
        ("meeting: open end", MEETING, range("VEVENT", "20060104T145959Z", ""), Ok(true)),
        ("meeting: VTODO asked", MEETING, range("VTODO", "20060104T000000Z", "20060105T000000Z"), Ok(false)),
        // 10:00 in Helsinki in winter is 08:00Z; 30 minutes.
        ("zoned: in UTC terms", ZONED, range("VEVENT", "20260115T080000Z", "20260115T080100Z"), Ok(true)),
        ("zoned: before it", ZONED, range("VEVENT", "20260115T073000Z", "20260115T080000Z"), Ok(false)),
        ("zoned: after it", ZONED, range("VEVENT", "20260115T083000Z", "20260115T090000Z"), Ok(false)),
        ("all-day: lasts the day", ALL_DAY, range("VEVENT", "20260301T230000Z", "20260302T000000Z"), Ok(true)),
        ("all-day: not the next day", ALL_DAY, range("VEVENT", "20260302T000000Z", "20260303T000000Z"), Ok(false)),
        ("no end: its instant", INSTANT, range("VEVENT", "20260301T120000Z", "20260301T120001Z"), Ok(true)),
        ("no end: range ends at it", INSTANT, range("VEVENT", "20260301T110000Z", "20260301T120000Z"), Ok(false)),
        ("weekly: the 3rd instance", WEEKLY, range("VEVENT", "20260126T000000Z", "20260127T000000Z"), Ok(true)),
        ("weekly: the EXDATE", WEEKLY, range("VEVENT", "20260112T000000Z", "20260113T000000Z"), Ok(false)),
        ("weekly: where the override left", WEEKLY, range("VEVENT", "20260119T000000Z", "20260120T000000Z"), Ok(false)),
        ("weekly: where the override went", WEEKLY, range("VEVENT", "20260120T150000Z", "20260120T151500Z"), Ok(true)),
        ("weekly: after COUNT", WEEKLY, range("VEVENT", "20260401T000000Z", "20260501T000000Z"), Ok(false)),
        ("forever: budget reached", FOREVER, range("VEVENT", "20990101T000000Z", "20990102T000000Z"), Err(())),
        // 500 days from 2020-01-01 reach May 2021: ranges before that are decided.
        ("forever: within the budget", FOREVER, range("VEVENT", "20210110T000000Z", "20210110T003000Z"), Ok(true)),
        ("forever: within the budget, between instances", FOREVER, range("VEVENT", "20210110T020000Z", "20210110T030000Z"), Ok(false)),
        ("forever: open end", FOREVER, range("VEVENT", "20210110T020000Z", ""), Err(())),
        (
            "alarm 15 minutes before",
            MEETING,
            r#"<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start="20060104T134500Z" end="20060104T134600Z"/></C:comp-filter></C:comp-filter>"#.into(),
            Ok(true),
        ),
        (
            "alarm: not at the event's start",
            MEETING,
            r#"<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start="20060104T140000Z" end="20060104T150000Z"/></C:comp-filter></C:comp-filter>"#.into(),
            Ok(false),
        ),
    ];
    let basic = Basic {
        budget: 500,
        ..Basic::default()
    };
    for (what, object, inner, want) in cases {
        let cal = ical(&wrap(object));
        let got = matches_calendar(&query(&inner), &cal, &basic, Tz::UTC).map_err(|_| ());
        assert_eq!(got, want, "{what}\nfilter: {inner}");
    }
    // A client that bumps the master's SEQUENCE and not the override's: the override
    // still replaces its instance.
    let stale = WEEKLY.replace("COUNT=10\n", "COUNT=10\nSEQUENCE:2\n");
    let cal = ical(&wrap(&stale));
    let left = range("VEVENT", "20260119T000000Z", "20260120T000000Z");
    assert_eq!(
        matches_calendar(&query(&left), &cal, &basic, Tz::UTC),
        Ok(false)
    );
}

#[test]
fn todo_journal_freebusy_time_ranges() {
    let todo =
        |props: &str| format!("BEGIN:VTODO\nUID:t\nDTSTAMP:20260101T000000Z\n{props}END:VTODO\n");
    let cases: Vec<(&str, String, String, bool)> = vec![
        ("DTSTART+DURATION", todo("DTSTART:20260110T100000Z\nDURATION:PT1H\n"), range("VTODO", "20260110T105959Z", "20260111T000000Z"), true),
        ("DTSTART+DURATION ends at range start (<=)", todo("DTSTART:20260110T100000Z\nDURATION:PT1H\n"), range("VTODO", "20260110T110000Z", "20260111T000000Z"), true),
        ("DTSTART+DUE", todo("DTSTART:20260110T100000Z\nDUE:20260112T100000Z\n"), range("VTODO", "20260111T000000Z", "20260111T010000Z"), true),
        ("DTSTART+DUE, after due", todo("DTSTART:20260110T100000Z\nDUE:20260112T100000Z\n"), range("VTODO", "20260112T100000Z", "20260113T000000Z"), false),
        ("DTSTART only", todo("DTSTART:20260110T100000Z\n"), range("VTODO", "20260110T100000Z", "20260110T100001Z"), true),
        ("DUE only, due at range end", todo("DUE:20260110T100000Z\n"), range("VTODO", "20260110T000000Z", "20260110T100000Z"), true),
        ("DUE only, due at range start", todo("DUE:20260110T100000Z\n"), range("VTODO", "20260110T100000Z", "20260111T000000Z"), false),
        ("COMPLETED only", todo("COMPLETED:20260110T100000Z\n"), range("VTODO", "20260110T100000Z", "20260110T100000Z").replace("end=\"20260110T100000Z\"", "end=\"20260110T100001Z\""), true),
        ("CREATED only, before", todo("CREATED:20260110T100000Z\n"), range("VTODO", "20260101T000000Z", "20260110T100000Z"), false),
        ("CREATED only, after", todo("CREATED:20260110T100000Z\n"), range("VTODO", "20260101T000000Z", "20260110T100001Z"), true),
        ("no dates at all", todo(""), range("VTODO", "19000101T000000Z", "19000102T000000Z"), true),
        ("journal on a date", "BEGIN:VJOURNAL\nUID:j\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20260105\nEND:VJOURNAL\n".into(), range("VJOURNAL", "20260105T120000Z", "20260105T130000Z"), true),
        ("journal without DTSTART", "BEGIN:VJOURNAL\nUID:j\nDTSTAMP:20260101T000000Z\nEND:VJOURNAL\n".into(), range("VJOURNAL", "19000101T000000Z", "21000101T000000Z"), false),
        ("freebusy periods", "BEGIN:VFREEBUSY\nUID:fb\nDTSTAMP:20260101T000000Z\nFREEBUSY:20260105T090000Z/20260105T100000Z,20260106T090000Z/PT1H\nEND:VFREEBUSY\n".into(), range("VFREEBUSY", "20260106T093000Z", "20260106T094000Z"), true),
        ("freebusy periods, a gap", "BEGIN:VFREEBUSY\nUID:fb\nDTSTAMP:20260101T000000Z\nFREEBUSY:20260105T090000Z/20260105T100000Z\nEND:VFREEBUSY\n".into(), range("VFREEBUSY", "20260105T100000Z", "20260105T110000Z"), false),
    ];
    for (what, object, inner, want) in cases {
        let cal = ical(&wrap(&object));
        assert_eq!(
            matches_calendar(&query(&inner), &cal, &Basic::default(), Tz::UTC),
            Ok(want),
            "{what}\nobject: {object}\nfilter: {inner}"
        );
    }
}

#[test]
fn property_and_parameter_filters() {
    let ev = |inner: &str| format!(r#"<C:comp-filter name="VEVENT">{inner}</C:comp-filter>"#);
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "summary, case-insensitive by default",
            ev(
                r#"<C:prop-filter name="SUMMARY"><C:text-match>weekly meeting</C:text-match></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "summary, i;octet",
            ev(
                r#"<C:prop-filter name="SUMMARY"><C:text-match collation="i;octet">weekly meeting</C:text-match></C:prop-filter>"#,
            ),
            false,
        ),
        (
            "summary, negated",
            ev(
                r#"<C:prop-filter name="SUMMARY"><C:text-match negate-condition="yes">Meeting</C:text-match></C:prop-filter>"#,
            ),
            false,
        ),
        (
            "prop-filter name is case-insensitive",
            ev(
                r#"<C:prop-filter name="summary"><C:text-match>Meeting</C:text-match></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "one category of several",
            ev(
                r#"<C:prop-filter name="CATEGORIES"><C:text-match collation="i;octet">Planning</C:text-match></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "UID equals via contains",
            ev(
                r#"<C:prop-filter name="UID"><C:text-match collation="i;octet">m1@example.com</C:text-match></C:prop-filter>"#,
            ),
            true,
        ),
        ("defined", ev(r#"<C:prop-filter name="ORGANIZER"/>"#), true),
        (
            "not defined",
            ev(r#"<C:prop-filter name="LOCATION"><C:is-not-defined/></C:prop-filter>"#),
            true,
        ),
        (
            "defined, but asked not to be",
            ev(r#"<C:prop-filter name="SUMMARY"><C:is-not-defined/></C:prop-filter>"#),
            false,
        ),
        (
            "attendee with PARTSTAT",
            ev(
                r#"<C:prop-filter name="ATTENDEE"><C:text-match>mailto:lisa@example.com</C:text-match><C:param-filter name="PARTSTAT"><C:text-match>NEEDS-ACTION</C:text-match></C:param-filter></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "the PARTSTAT of another attendee",
            ev(
                r#"<C:prop-filter name="ATTENDEE"><C:text-match>mailto:lisa@example.com</C:text-match><C:param-filter name="PARTSTAT"><C:text-match>ACCEPTED</C:text-match></C:param-filter></C:prop-filter>"#,
            ),
            false,
        ),
        (
            "param not defined",
            ev(
                r#"<C:prop-filter name="ORGANIZER"><C:param-filter name="CN"><C:is-not-defined/></C:param-filter></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "DTSTAMP in a range",
            ev(
                r#"<C:prop-filter name="DTSTAMP"><C:time-range start="20060206T000000Z" end="20060207T000000Z"/></C:prop-filter>"#,
            ),
            true,
        ),
        (
            "no VTODO",
            r#"<C:comp-filter name="VTODO"><C:is-not-defined/></C:comp-filter>"#.into(),
            true,
        ),
        (
            "has a VALARM",
            ev(r#"<C:comp-filter name="VALARM"/>"#),
            true,
        ),
        (
            "a VALARM that is not AUDIO",
            ev(
                r#"<C:comp-filter name="VALARM"><C:prop-filter name="ACTION"><C:text-match>AUDIO</C:text-match></C:prop-filter></C:comp-filter>"#,
            ),
            false,
        ),
    ];
    let cal = ical(&wrap(MEETING));
    for (what, inner, want) in cases {
        assert_eq!(
            matches_calendar(&query(&inner), &cal, &Basic::default(), Tz::UTC),
            Ok(want),
            "{what}\nfilter: {inner}"
        );
    }
}

#[test]
fn addressbook_filters() {
    let card = vcard(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Cyrus Daboo\r\nN:Daboo;Cyrus;;;\r\nNICKNAME:me\r\nEMAIL;TYPE=work:cyrus@example.com\r\nEMAIL;TYPE=home:CYRUS@home.example\r\nTEL;TYPE=cell:+358 40 123\r\nEND:VCARD\r\n",
    );
    let filter = |inner: &str, test: &str| {
        let body = format!(
            r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter test="{test}">{inner}</C:filter></C:addressbook-query>"#
        );
        match parse_report(body.as_bytes()) {
            Ok(Report::AddressbookQuery(q)) => q.filter,
            other => panic!("bad test filter {inner}: {other:?}"),
        }
    };
    let cases: &[(&str, &str, &str, bool)] = &[
        (
            "RFC 6352 example: NICKNAME equals me",
            r#"<C:prop-filter name="NICKNAME"><C:text-match collation="i;unicode-casemap" match-type="equals">me</C:text-match></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "FN contains, folded",
            r#"<C:prop-filter name="FN"><C:text-match>DABOO</C:text-match></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "FN starts-with",
            r#"<C:prop-filter name="FN"><C:text-match match-type="starts-with">cyrus</C:text-match></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "EMAIL ends-with, any of two",
            r#"<C:prop-filter name="EMAIL"><C:text-match match-type="ends-with">@home.example</C:text-match></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "EMAIL equals, i;octet",
            r#"<C:prop-filter name="EMAIL"><C:text-match collation="i;octet" match-type="equals">cyrus@home.example</C:text-match></C:prop-filter>"#,
            "anyof",
            false,
        ),
        (
            "allof: one fails",
            r#"<C:prop-filter name="FN"><C:text-match>cyrus</C:text-match></C:prop-filter><C:prop-filter name="ORG"/>"#,
            "allof",
            false,
        ),
        (
            "anyof: one holds",
            r#"<C:prop-filter name="FN"><C:text-match>cyrus</C:text-match></C:prop-filter><C:prop-filter name="ORG"/>"#,
            "anyof",
            true,
        ),
        (
            "ORG not defined",
            r#"<C:prop-filter name="ORG"><C:is-not-defined/></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "TEL with TYPE=cell",
            r#"<C:prop-filter name="TEL"><C:param-filter name="TYPE"><C:text-match match-type="equals">cell</C:text-match></C:param-filter></C:prop-filter>"#,
            "anyof",
            true,
        ),
        (
            "prop-filter allof: text and param",
            r#"<C:prop-filter name="EMAIL" test="allof"><C:text-match>cyrus@example.com</C:text-match><C:param-filter name="TYPE"><C:text-match>home</C:text-match></C:param-filter></C:prop-filter>"#,
            "anyof",
            false,
        ),
        (
            "negated",
            r#"<C:prop-filter name="NICKNAME"><C:text-match negate-condition="yes">me</C:text-match></C:prop-filter>"#,
            "anyof",
            false,
        ),
        ("empty filter", "", "anyof", true),
    ];
    for (what, inner, test, want) in cases {
        assert_eq!(
            matches_card(&filter(inner, test), &card),
            *want,
            "{what}\nfilter: {inner}"
        );
    }
}

#[test]
fn floating_times_in_the_query_timezone() {
    let floating = wrap(
        "BEGIN:VEVENT\nUID:fl\nDTSTAMP:20260101T000000Z\nDTSTART:20260601T090000\nDTEND:20260601T100000\nSUMMARY:Floating\nEND:VEVENT\n",
    );
    let cal = ical(&floating);
    let helsinki = query_timezone(&wrap(ZONED)).expect("the VTIMEZONE of the query");
    // 09:00 floating is 06:00Z in Helsinki summer time, 09:00Z in UTC.
    let early = query(&range("VEVENT", "20260601T060000Z", "20260601T063000Z"));
    let cases = [(Tz::UTC, false), (helsinki, true)];
    for (tz, want) in cases {
        let basic = Basic {
            floating: tz,
            ..Basic::default()
        };
        assert_eq!(
            matches_calendar(&early, &cal, &basic, tz),
            Ok(want),
            "{tz:?}"
        );
    }
    // A floating DTSTAMP-like property in a prop-filter time-range follows the same zone.
    let by_prop = query(
        r#"<C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:time-range start="20260601T060000Z" end="20260601T060001Z"/></C:prop-filter></C:comp-filter>"#,
    );
    for (tz, want) in cases {
        assert_eq!(
            matches_calendar(&by_prop, &cal, &Basic::default(), tz),
            Ok(want),
            "prop-filter in {tz:?}"
        );
    }
    assert_eq!(query_timezone("not a calendar"), None);
}

/// A series in UTC or in a named zone happens when it says, whatever zone the query reads
/// floating times in; a floating series moves with that zone.
#[test]
fn series_keep_their_own_zone_in_a_query_timezone() {
    let series = |start: &str| {
        ical(&wrap(&format!(
            "BEGIN:VEVENT\nUID:s\nDTSTAMP:20260101T000000Z\nDTSTART{start}\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;COUNT=2\nEND:VEVENT\n"
        )))
    };
    let helsinki = query_timezone(&wrap(ZONED)).expect("the VTIMEZONE of the query");
    // 2026-06-01 09:00 UTC; 06:00Z is 09:00 in Helsinki.
    let at_nine = query(&range("VEVENT", "20260601T090000Z", "20260601T093000Z"));
    let at_six = query(&range("VEVENT", "20260601T060000Z", "20260601T063000Z"));
    let cases = [
        (":20260601T090000Z", true, false),
        (";TZID=Europe/London:20260601T100000", true, false),
        (":20260601T090000", false, true),
    ];
    for (start, nine, six) in cases {
        let cal = series(start);
        let basic = Basic {
            floating: helsinki,
            ..Basic::default()
        };
        assert_eq!(
            matches_calendar(&at_nine, &cal, &basic, helsinki),
            Ok(nine),
            "{start} at 09:00Z"
        );
        assert_eq!(
            matches_calendar(&at_six, &cal, &basic, helsinki),
            Ok(six),
            "{start} at 06:00Z"
        );
    }
}

#[test]
fn free_busy_of_a_calendar() {
    use imipd_dav::freebusy::{Busy, BusyType, busy_periods, render_vfreebusy};
    let objects = [
        MEETING,
        WEEKLY,
        INSTANT,
        "BEGIN:VEVENT\nUID:t\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T120000Z\nDTEND:20260105T130000Z\nTRANSP:TRANSPARENT\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:c\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T140000Z\nDTEND:20260105T150000Z\nSTATUS:CANCELLED\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:p\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T091500Z\nDTEND:20260105T100000Z\nSTATUS:TENTATIVE\nEND:VEVENT\n",
        "BEGIN:VFREEBUSY\nUID:fb\nDTSTAMP:20260101T000000Z\nFREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260106T000000Z/PT8H\nFREEBUSY;FBTYPE=FREE:20260106T100000Z/PT1H\nEND:VFREEBUSY\n",
    ];
    let range = imipd_dav::query::TimeRange {
        start: imipd_dav::time::parse_utc("20260105T000000Z"),
        end: imipd_dav::time::parse_utc("20260107T000000Z"),
    };
    let mut busy = Vec::new();
    for o in objects {
        busy_periods(&ical(&wrap(o)), &range, &Basic::default(), &mut busy).unwrap();
    }
    let t = |s: &str| imipd_dav::time::parse_utc(s).unwrap();
    let mut got = busy.clone();
    got.sort_by_key(|b| (b.start, b.kind));
    assert_eq!(
        got,
        vec![
            Busy {
                start: t("20260105T090000Z"),
                end: t("20260105T093000Z"),
                kind: BusyType::Busy
            },
            Busy {
                start: t("20260105T091500Z"),
                end: t("20260105T100000Z"),
                kind: BusyType::BusyTentative
            },
            Busy {
                start: t("20260106T000000Z"),
                end: t("20260106T080000Z"),
                kind: BusyType::BusyUnavailable
            },
        ],
        "the weekly standup, the tentative event and the unavailable block; not the transparent, cancelled, instant or out-of-range ones"
    );
    let body = render_vfreebusy(&range, busy, t("20260101T000000Z"));
    assert_eq!(
        body,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//imipd//CalDAV//EN\r\nBEGIN:VFREEBUSY\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART:20260105T000000Z\r\nDTEND:20260107T000000Z\r\nFREEBUSY:20260105T090000Z/20260105T093000Z\r\n\
FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260105T091500Z/20260105T100000Z\r\n\
FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260106T000000Z/20260106T080000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    );
    assert!(
        matches!(calcard::Parser::new(&body).entry(), Entry::ICalendar(_)),
        "the VFREEBUSY parses"
    );
}
