//! The time-range index behind calendar-query and free-busy-query: the REPORT (which reads
//! only the index's candidates) answers exactly what the exact filter finds when it reads
//! every object of the calendar, on a calendar of 2,000 varied objects; hostile rules stay
//! bounded and open-ended; overrides moved into or out of a range are found where they are.

use imipd_dav::filter::{Basic, matches_calendar, query_timezone};
use imipd_dav::{Report, parse_report};
use imipd_dav_http::{Config, Request, handle};
use imipd_store::{Batch, ObjectWrite, SqliteStore, Store};
use std::collections::BTreeSet;

const BOB: &str = "bob@example.org";
const CAL: &str = "default";
const DAY: i64 = 86_400;
/// 2026-01-05T00:00:00Z, a Monday.
const MONDAY: i64 = 1_767_571_200;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    (dir, store)
}

fn utc(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn date(t: i64) -> String {
    utc(t)[..8].to_string()
}

fn local(t: i64) -> String {
    utc(t)[..15].to_string()
}

fn wrap(uid: &str, body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{}END:VCALENDAR\r\n",
        body.replace("{UID}", uid)
    )
}

fn event(lines: &[String]) -> String {
    let mut s = String::from("BEGIN:VEVENT\r\nUID:{UID}\r\nDTSTAMP:20260101T000000Z\r\n");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("END:VEVENT\r\n");
    s
}

/// A small deterministic generator, so that a failure names an object that can be made again.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n) as i64
    }
}

/// Hostile rules: endless, never matching, huge counts, many rules at once.
fn hostile() -> Vec<String> {
    let start = format!("DTSTART:{}", utc(MONDAY + 9 * 3600));
    let end = format!("DTEND:{}", utc(MONDAY + 10 * 3600));
    [
        "RRULE:FREQ=SECONDLY",
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "RRULE:FREQ=MINUTELY;COUNT=4000000000",
        "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,10,20,30,40,50",
        "RRULE:FREQ=YEARLY;BYDAY=-1MO;BYSETPOS=-1;BYWEEKNO=53",
    ]
    .iter()
    .map(|rule| event(&[start.clone(), end.clone(), rule.to_string()]))
    .chain(std::iter::once(event(&[
        start.clone(),
        end.clone(),
        "RRULE:FREQ=SECONDLY;INTERVAL=7".into(),
        "RRULE:FREQ=MINUTELY;INTERVAL=3".into(),
        "RRULE:FREQ=HOURLY".into(),
    ])))
    .collect()
}

/// A weekly series of four from 2026-03-02 09:00 UTC whose second instance moves into
/// August and whose third moves out of its week into September.
fn moved_overrides() -> String {
    let first = 1_772_442_000; // 2026-03-02T09:00:00Z
    let week = 7 * DAY;
    let master = event(&[
        format!("DTSTART:{}", utc(first)),
        format!("DTEND:{}", utc(first + 3600)),
        "RRULE:FREQ=WEEKLY;COUNT=4".into(),
    ]);
    let moved = |n: i64, to: i64| {
        event(&[
            format!("RECURRENCE-ID:{}", utc(first + n * week)),
            format!("DTSTART:{}", utc(to)),
            format!("DTEND:{}", utc(to + 3600)),
        ])
    };
    format!(
        "{master}{}{}",
        moved(1, 1_786_352_400), // 2026-08-10T09:00:00Z
        moved(2, 1_788_253_200)  // 2026-09-01T09:00:00Z
    )
}

/// One of many kinds of object, around 2025-2027.
fn varied(rng: &mut Lcg, n: usize) -> String {
    let start = MONDAY - 365 * DAY + rng.next(3 * 365) * DAY + rng.next(48) * 1800;
    let len = (1 + rng.next(8)) * 1800;
    let s = |t: i64| format!("DTSTART:{}", utc(t));
    let e = |t: i64| format!("DTEND:{}", utc(t));
    match n % 20 {
        // 10% weekly series, some ending, some not, some with an EXDATE.
        0 => event(&[
            s(start),
            e(start + len),
            "RRULE:FREQ=WEEKLY".into(),
            format!("EXDATE:{}", utc(start + 7 * DAY)),
        ]),
        1 => event(&[
            s(start),
            e(start + len),
            format!("RRULE:FREQ=WEEKLY;COUNT={}", 2 + rng.next(30)),
        ]),
        2 => event(&[
            format!("DTSTART;VALUE=DATE:{}", date(start)),
            format!("DTEND;VALUE=DATE:{}", date(start + DAY * (1 + rng.next(3)))),
        ]),
        3 => event(&[
            format!("DTSTART:{}", local(start)),
            format!("DTEND:{}", local(start + len)),
        ]),
        4 => event(&[
            format!("DTSTART;TZID=Europe/Berlin:{}", local(start)),
            format!("DTEND;TZID=Europe/Berlin:{}", local(start + len)),
            format!("RRULE:FREQ=DAILY;UNTIL={}", utc(start + 20 * DAY)),
        ]),
        5 => event(&[
            format!("DTSTART;TZID=Nowhere/Unknown:{}", local(start)),
            format!("DTEND;TZID=Nowhere/Unknown:{}", local(start + len)),
        ]),
        6 => format!(
            "BEGIN:VTODO\r\nUID:{{UID}}\r\nDTSTAMP:20260101T000000Z\r\nDUE:{}\r\nEND:VTODO\r\n",
            utc(start)
        ),
        7 => format!(
            "BEGIN:VTODO\r\nUID:{{UID}}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\n\
             DURATION:PT{}M\r\nEND:VTODO\r\n",
            utc(start),
            rng.next(600)
        ),
        8 => "BEGIN:VTODO\r\nUID:{UID}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:undated\r\n\
              END:VTODO\r\n"
            .into(),
        9 => format!(
            "BEGIN:VJOURNAL\r\nUID:{{UID}}\r\nDTSTAMP:20260101T000000Z\r\n\
             DTSTART;VALUE=DATE:{}\r\nEND:VJOURNAL\r\n",
            date(start)
        ),
        10 => event(&[s(start), format!("DURATION:PT{}M", rng.next(300))]),
        11 => event(&[
            s(start),
            e(start + len),
            format!("RDATE:{}", utc(start - 40 * DAY)),
        ]),
        12 => {
            let master = event(&[s(start), e(start + len), "RRULE:FREQ=DAILY;COUNT=10".into()]);
            let to = start + (rng.next(200) - 100) * DAY;
            let moved = event(&[
                format!("RECURRENCE-ID:{}", utc(start + 3 * DAY)),
                s(to),
                e(to + len),
            ]);
            format!("{master}{moved}")
        }
        13 => hostile()[n / 20 % 6].clone(),
        _ => event(&[s(start), e(start + len)]),
    }
}

fn fill(store: &SqliteStore, objects: &[String]) -> Vec<String> {
    let mut hrefs = Vec::new();
    for chunk in objects.chunks(250).enumerate() {
        let (c, chunk) = chunk;
        let writes = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let uid = format!("obj-{}", c * 250 + i);
                hrefs.push(format!("{uid}.ics"));
                ObjectWrite::new_event(CAL, &uid, &wrap(&uid, body))
            })
            .collect();
        store
            .commit(&Batch {
                user: BOB.into(),
                writes,
                ..Batch::default()
            })
            .unwrap();
    }
    hrefs
}

fn query_body(comp: &str, start: Option<i64>, end: Option<i64>, timezone: Option<&str>) -> String {
    let attr =
        |name: &str, t: Option<i64>| t.map_or(String::new(), |t| format!(" {name}=\"{}\"", utc(t)));
    let tz = timezone.map_or(String::new(), |z| {
        format!("<C:timezone>{}</C:timezone>", z.replace('\r', "&#13;"))
    });
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="{comp}">
    <C:time-range{}{}/>
  </C:comp-filter></C:comp-filter></C:filter>{tz}
</C:calendar-query>"#,
        attr("start", start),
        attr("end", end)
    )
}

fn report(store: &SqliteStore, body: &str) -> (u16, String) {
    let req = Request {
        method: "REPORT".into(),
        path: format!("/calendars/{BOB}/{CAL}/"),
        headers: vec![
            ("Depth".into(), "1".into()),
            ("Content-Type".into(), "application/xml".into()),
        ],
        body: body.as_bytes().to_vec(),
    };
    let response = handle(store, BOB, &Config::default(), &req);
    (
        response.status,
        String::from_utf8_lossy(&response.body).into_owned(),
    )
}

/// The object names a multistatus lists.
fn answered(xml: &str) -> BTreeSet<String> {
    xml.split("<d:href>")
        .skip(1)
        .filter_map(|s| s.split("</d:href>").next())
        .filter_map(|href| href.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the exact filter finds reading every object of the calendar (no index).
fn full_scan(store: &SqliteStore, body: &str) -> BTreeSet<String> {
    let Report::CalendarQuery(q) = parse_report(body.as_bytes()).unwrap() else {
        panic!("not a calendar-query: {body}");
    };
    let floating = q
        .timezone
        .as_deref()
        .and_then(query_timezone)
        .unwrap_or(calcard::common::timezone::Tz::UTC);
    let instances = Basic {
        budget: 10_000,
        floating,
    };
    store
        .objects_in(BOB, CAL, None)
        .unwrap()
        .into_iter()
        .filter(|o| {
            let calcard::Entry::ICalendar(cal) = calcard::Parser::new(&o.ics).entry() else {
                return false;
            };
            matches_calendar(&q.filter, &cal, &instances, floating).unwrap_or(true)
        })
        .map(|o| o.href)
        .collect()
}

/// A zone 14 hours ahead of UTC and one 11 behind: floating times are read in them.
fn zone(tzid: &str, offset: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n\
         BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\n\
         END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
    )
}

/// (component, start, end, query timezone)
type Query<'a> = (&'a str, Option<i64>, Option<i64>, Option<&'a str>);

#[test]
fn a_query_on_2000_objects_answers_what_the_full_scan_finds() {
    let (_dir, store) = store();
    let mut rng = Lcg(17);
    let objects: Vec<String> = (0..2_000).map(|n| varied(&mut rng, n)).collect();
    let hrefs = fill(&store, &objects);
    assert_eq!(store.objects_in(BOB, CAL, None).unwrap().len(), hrefs.len());
    let ahead = zone("Pacific/Kiritimati", "+1400");
    let behind = zone("Pacific/Pago_Pago", "-1100");
    let mut ranges: Vec<Query> = Vec::new();
    for week in [-60, -3, 0, 1, 10, 52, 80, 400] {
        let start = MONDAY + week * 7 * DAY;
        ranges.push(("VEVENT", Some(start), Some(start + 7 * DAY), None));
    }
    ranges.extend([
        (
            "VEVENT",
            Some(MONDAY + 3 * DAY),
            Some(MONDAY + 3 * DAY + 3600),
            None,
        ),
        (
            "VEVENT",
            Some(MONDAY),
            Some(MONDAY + DAY),
            Some(ahead.as_str()),
        ),
        (
            "VEVENT",
            Some(MONDAY),
            Some(MONDAY + DAY),
            Some(behind.as_str()),
        ),
        ("VEVENT", None, Some(MONDAY - 300 * DAY), None),
        ("VEVENT", Some(MONDAY + 900 * DAY), None, None),
        ("VTODO", Some(MONDAY), Some(MONDAY + 30 * DAY), None),
        (
            "VJOURNAL",
            Some(MONDAY - 100 * DAY),
            Some(MONDAY + 100 * DAY),
            None,
        ),
    ]);
    let mut narrowed = false;
    for (comp, start, end, tz) in ranges {
        let body = query_body(comp, start, end, tz);
        let (status, xml) = report(&store, &body);
        assert_eq!(status, 207, "{xml}");
        let got = answered(&xml);
        let want = full_scan(&store, &body);
        let differ: Vec<String> = got
            .symmetric_difference(&want)
            .map(|href| {
                let side = if got.contains(href) {
                    "only with the index"
                } else {
                    "only in the full scan"
                };
                let ics = objects[href[4..href.len() - 4].parse::<usize>().unwrap()].clone();
                format!("{href} {side}:\n{ics}")
            })
            .collect();
        assert!(
            differ.is_empty(),
            "{comp} {start:?}..{end:?} (tz {}): index and full scan differ:\n{}",
            tz.is_some(),
            differ.join("\n")
        );
        if let (Some(s), Some(e)) = (start, end) {
            let candidates = store.objects_in(BOB, CAL, Some((s, e))).unwrap().len();
            narrowed |= candidates < hrefs.len() / 2;
        }
    }
    assert!(narrowed, "the index never narrowed a query");
}

#[test]
fn hostile_rules_stay_bounded_and_open_ended() {
    let (_dir, store) = store();
    let hrefs = fill(&store, &hostile());
    // Far past every budget: each is still a candidate, and the exact filter, unable to
    // decide within its budget, answers it rather than drop it.
    let far = MONDAY + 150 * 365 * DAY;
    let candidates: BTreeSet<String> = store
        .objects_in(BOB, CAL, Some((far, far + DAY)))
        .unwrap()
        .into_iter()
        .map(|o| o.href)
        .collect();
    let all: BTreeSet<String> = hrefs.iter().cloned().collect();
    // DTSTART is always an instance, the rule that never matches included.
    let at_start = store
        .objects_in(BOB, CAL, Some((MONDAY, MONDAY + DAY)))
        .unwrap();
    assert_eq!(at_start.len(), all.len());
    let body = query_body("VEVENT", Some(far), Some(far + DAY), None);
    let (status, xml) = report(&store, &body);
    assert_eq!(status, 207, "{xml}");
    assert_eq!(answered(&xml), full_scan(&store, &body));
    assert!(answered(&xml).is_subset(&candidates));
    assert_eq!(candidates, all, "open-ended series dropped from the index");
}

#[test]
fn overrides_moved_into_and_out_of_a_range_are_found_where_they_are() {
    let (_dir, store) = store();
    let hrefs = fill(&store, &[moved_overrides()]);
    let href = &hrefs[0];
    let found = |start: i64, end: i64| {
        let body = query_body("VEVENT", Some(start), Some(end), None);
        let (status, xml) = report(&store, &body);
        assert_eq!(status, 207, "{xml}");
        let got = answered(&xml);
        assert_eq!(got, full_scan(&store, &body));
        got.contains(href)
    };
    // 2026-08-10, where only the moved second instance is.
    assert!(found(1_786_320_000, 1_786_406_400), "moved into August");
    // 2026-09-01, the third instance's new place.
    assert!(found(1_788_220_800, 1_788_307_200), "moved into September");
    // 2026-03-16, the week the third instance left.
    assert!(
        !found(1_773_619_200, 1_773_705_600),
        "moved out of March 16"
    );
    // 2026-03-23, the fourth, unmoved.
    assert!(
        found(1_774_224_000, 1_774_310_400),
        "unmoved fourth instance"
    );
}

#[test]
fn free_busy_reads_the_same_objects_with_and_without_the_index() {
    let (_dir, store) = store();
    let mut rng = Lcg(5);
    let objects: Vec<String> = (0..200).map(|n| varied(&mut rng, n)).collect();
    fill(&store, &objects);
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="{}" end="{}"/>
</C:free-busy-query>"#,
        utc(MONDAY),
        utc(MONDAY + 7 * DAY)
    );
    let (status, indexed) = report(&store, &body);
    assert_eq!(status, 200, "{indexed}");
    let busy = |text: &str| -> BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("FREEBUSY"))
            .map(str::to_string)
            .collect()
    };
    // The same calendar through the full scan: every object a candidate of an open range
    // reaches the same periods, as the exact computation clips them to the range.
    let mut want = BTreeSet::new();
    let range = imipd_dav::query::TimeRange {
        start: Some(MONDAY),
        end: Some(MONDAY + 7 * DAY),
    };
    let mut periods = Vec::new();
    let instances = Basic {
        budget: 10_000,
        floating: calcard::common::timezone::Tz::UTC,
    };
    for o in store.objects_in(BOB, CAL, None).unwrap() {
        if let calcard::Entry::ICalendar(cal) = calcard::Parser::new(&o.ics).entry() {
            let _ = imipd_dav::freebusy::busy_periods(&cal, &range, &instances, &mut periods);
        }
    }
    let rendered = imipd_dav::freebusy::render_vfreebusy(&range, periods, 0);
    want.extend(busy(&rendered));
    assert!(!want.is_empty(), "the week has busy time");
    assert_eq!(busy(&indexed), want);
}
