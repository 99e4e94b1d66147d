//! No byte input panics a parser: arbitrary bytes, and mutations of real bodies.

use imipd_dav::headers::Prefer;
use imipd_dav::name::{Name, PropName};
use imipd_dav::propfind::{Answerer, PropertySource, ResourceKind};
use imipd_dav::request::{PatchOp, PropSelection};
use imipd_dav::response::Xml;
use imipd_dav::{
    DavPath, parse_mkcalendar, parse_mkcol, parse_propfind, parse_proppatch, parse_report,
};
use imipd_dav::{Multistatus, xml::parse_tree};
use proptest::prelude::*;

/// A resource holding the dead properties a PROPPATCH stored.
struct Stored(Vec<(Name, String)>);

impl PropertySource for Stored {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Calendar
    }
    fn live(&self, _: &PropName, _: &mut Xml<'_>) -> bool {
        false
    }
    fn dead(&self, name: &Name) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn each_dead(&self, f: &mut dyn FnMut(&Name, &str)) {
        for (n, v) in &self.0 {
            f(n, v);
        }
    }
}

const PROPPATCH_SEED: &str = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><X:meta a="1 &amp; 2"><X:b>t&lt;u</X:b>tail<D:href>/p</D:href></X:meta><X:c/></D:prop></D:set></D:propertyupdate>"#;

const SEEDS: &[&str] = &[
    r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY" novalue="yes"/></C:comp></C:comp><C:expand start="20260101T000000Z" end="20260201T000000Z"/></C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:param-filter name="PARTSTAT"><C:text-match>X</C:text-match></C:param-filter></C:prop-filter><C:time-range start="20260101T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#,
    r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>a &amp; b</D:displayname></D:prop></D:set><D:remove><D:prop><X:y xmlns:X="urn:x"/></D:prop></D:remove></D:propertyupdate>"#,
    r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data><C:prop name="FN"/></C:address-data></D:prop><C:filter test="allof"><C:prop-filter name="EMAIL"><C:text-match match-type="ends-with">@x</C:text-match></C:prop-filter></C:filter><C:limit><C:nresults>5</C:nresults></C:limit></C:addressbook-query>"#,
    r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>t</D:sync-token><D:sync-level>1</D:sync-level><D:limit><D:nresults>2</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>"#,
];

fn all_parsers(body: &[u8]) {
    let _ = parse_propfind(body);
    let _ = parse_proppatch(body);
    let _ = parse_mkcalendar(body);
    let _ = parse_mkcol(body);
    let _ = parse_report(body);
    if let Ok(s) = std::str::from_utf8(body) {
        let _ = DavPath::parse(s);
        let _ = DavPath::parse_href(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&body);
    }

    #[test]
    fn mutated_real_bodies(seed in 0..SEEDS.len(), at in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), insert in "[<>&;/=\"' a-zA-Z0-9:#%]{0,12}") {
        let s = SEEDS[seed].as_bytes();
        let i = at.index(s.len());
        let j = i + cut.index(s.len() - i).min(16);
        let mut body = s[..i].to_vec();
        body.extend_from_slice(insert.as_bytes());
        body.extend_from_slice(&s[j..]);
        all_parsers(&body);
    }

    #[test]
    fn any_decoded_path_round_trips(segments in proptest::collection::vec("[^/\\x00-\\x1f\\x7f]{1,12}", 1..5)) {
        prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
        let p = DavPath::from_segments(segments.iter().map(String::as_str), false).unwrap();
        prop_assert_eq!(DavPath::parse(&p.encoded()), Ok(p));
    }

    #[test]
    fn escaped_text_reads_back(text in "\\PC{0,40}", attr in "\\PC{0,20}") {
        let mut body = String::from(r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname a=""#);
        imipd_dav::escape::attr_into(&attr, &mut body);
        body.push_str("\">");
        imipd_dav::escape::text_into(&text, &mut body);
        body.push_str("</D:displayname></D:prop></D:set></D:propertyupdate>");
        let update = parse_proppatch(body.as_bytes()).unwrap();
        let imipd_dav::request::PatchOp::Set(_, e) = &update.ops[0] else { panic!("{body}") };
        // Whitespace-only text between elements is formatting; everything else survives.
        if !text.trim().is_empty() {
            prop_assert_eq!(e.text(), text);
        }
        prop_assert_eq!(e.attr("a"), Some(attr.as_str()));
    }

    #[test]
    fn whatever_is_stored_renders_well_formed(at in any::<prop::sample::Index>(), cut in 0usize..8, insert in "[<>&;/=\"' a-zA-Z0-9:#]{0,10}") {
        let s = PROPPATCH_SEED.as_bytes();
        let i = at.index(s.len());
        let j = (i + cut).min(s.len());
        let mut body = s[..i].to_vec();
        body.extend_from_slice(insert.as_bytes());
        body.extend_from_slice(&s[j..]);
        let Ok(update) = parse_proppatch(&body) else { return Ok(()) };
        let dead: Vec<(Name, String)> = update
            .ops
            .iter()
            .filter_map(|op| match op {
                PatchOp::Set(PropName::Dead(n), e) => Some((n.clone(), e.inner_xml())),
                _ => None,
            })
            .collect();
        let names = dead.iter().map(|(n, _)| PropName::Dead(n.clone())).collect();
        let stored = Stored(dead);
        let mut ms = Multistatus::default();
        let mut a = Answerer::default();
        a.answer(&mut ms, "/c/", &PropSelection::names(names), &stored, Prefer::default());
        a.answer(&mut ms, "/c/", &PropSelection::allprop(), &stored, Prefer::default());
        let out = ms.finish(None);
        prop_assert!(parse_tree(out.as_bytes()).is_ok(), "{}\nrendered as\n{}", String::from_utf8_lossy(&body), out);
    }

    #[test]
    fn arbitrary_paths(path in "/[a-zA-Z0-9%@ ./~_-]{0,64}") {
        if let Ok(p) = DavPath::parse(&path) {
            // Whatever decodes re-encodes to a spelling that names the same path.
            prop_assert_eq!(DavPath::parse(&p.encoded()), Ok(p));
        }
    }
}

const CALENDAR_SEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki\r\nBEGIN:STANDARD\r\nDTSTART:19701025T040000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Helsinki:20260105T110000\r\nDURATION:PT30M\r\nRRULE:FREQ=DAILY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20270101T000000Z\r\nEXDATE:20260107T090000Z\r\nATTENDEE;PARTSTAT=ACCEPTED;CN=A:mailto:a@x\r\nCATEGORIES:a,b\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:-PT5M\r\nREPEAT:3\r\nDURATION:PT1M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w1\r\nRECURRENCE-ID;TZID=Europe/Helsinki:20260112T110000\r\nDTSTART;VALUE=DATE:20260113\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t\r\nDUE:20260110T100000Z\r\nCOMPLETED:20260109T100000Z\r\nEND:VTODO\r\nBEGIN:VFREEBUSY\r\nFREEBUSY:20260105T090000Z/PT1H\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";

const QUERY_SEED: &str = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/></C:comp></C:comp><C:expand start="20260101T000000Z" end="20260301T000000Z"/><C:limit-recurrence-set start="20260101T000000Z" end="20260301T000000Z"/><C:limit-freebusy-set start="20260101T000000Z" end="20260301T000000Z"/></C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260101T000000Z" end="20260301T000000Z"/><C:prop-filter name="ATTENDEE"><C:param-filter name="PARTSTAT"><C:text-match>ACCEPTED</C:text-match></C:param-filter></C:prop-filter><C:comp-filter name="VALARM"><C:time-range start="20260101T000000Z" end="20260301T000000Z"/></C:comp-filter></C:comp-filter><C:comp-filter name="VTODO"><C:time-range start="20260101T000000Z"/></C:comp-filter><C:comp-filter name="VFREEBUSY"><C:time-range end="20260301T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Calendar data is hostile too: mutated objects go through every evaluation.
    #[test]
    fn mutated_calendars_through_filters_and_rendering(at in any::<prop::sample::Index>(), cut in 0usize..24, insert in "[A-Z0-9:;=,/\\-\\r\\n]{0,16}") {
        use imipd_dav::filter::{Basic, matches_calendar};
        let s = CALENDAR_SEED.as_bytes();
        let i = at.index(s.len());
        let j = (i + cut).min(s.len());
        let mut text = String::from_utf8_lossy(&s[..i]).into_owned();
        text.push_str(&insert);
        text.push_str(&String::from_utf8_lossy(&s[j..]));
        let calcard::Entry::ICalendar(cal) = calcard::Parser::new(&text).entry() else { return Ok(()) };
        let imipd_dav::Report::CalendarQuery(q) = parse_report(QUERY_SEED.as_bytes()).unwrap() else { unreachable!() };
        let basic = Basic { budget: 200, ..Basic::default() };
        let _ = matches_calendar(&q.filter, &cal, &basic, calcard::common::timezone::Tz::UTC);
        let data = q.select.calendar_data.as_ref().unwrap();
        let _ = imipd_dav::caldata::calendar_data(&text, &cal, data, &basic);
        let range = data.expand.unwrap();
        let mut busy = Vec::new();
        let _ = imipd_dav::freebusy::busy_periods(&cal, &range, &basic, &mut busy);
    }
}

/// The unmutated seeds reach every path the property test above drives.
#[test]
fn calendar_seed_exercises_the_evaluations() {
    use imipd_dav::filter::{Basic, matches_calendar};
    let calcard::Entry::ICalendar(cal) = calcard::Parser::new(CALENDAR_SEED).entry() else {
        panic!("seed does not parse")
    };
    let imipd_dav::Report::CalendarQuery(q) = parse_report(QUERY_SEED.as_bytes()).unwrap() else {
        panic!("query seed")
    };
    let basic = Basic {
        budget: 200,
        ..Basic::default()
    };
    assert_eq!(
        matches_calendar(&q.filter, &cal, &basic, calcard::common::timezone::Tz::UTC),
        Ok(true)
    );
    let data = q.select.calendar_data.as_ref().unwrap();
    let out = imipd_dav::caldata::calendar_data(CALENDAR_SEED, &cal, data, &basic).unwrap();
    assert!(
        out.contains("UID:w1") && !out.contains("RRULE") && !out.contains("DTSTART"),
        "{out}"
    );
}

const CARD_SEED: &str = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Cyrus Daboo\r\nN:Daboo;Cyrus;;;\r\nEMAIL;TYPE=work:cyrus@example.com\r\nTEL;TYPE=cell;PREF=1:+358 40 123\r\nBDAY:19700101\r\nEND:VCARD\r\n";

const CARD_QUERY_SEED: &str = r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data><C:prop name="EMAIL"/></C:address-data></D:prop><C:filter test="anyof"><C:prop-filter name="EMAIL" test="allof"><C:text-match match-type="ends-with">@example.com</C:text-match><C:param-filter name="TYPE"><C:text-match>work</C:text-match></C:param-filter></C:prop-filter><C:prop-filter name="TEL"><C:param-filter name="PREF"/></C:prop-filter><C:prop-filter name="BDAY"><C:text-match>1970</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn mutated_cards_through_filters_and_rendering(at in any::<prop::sample::Index>(), cut in 0usize..24, insert in "[A-Z0-9:;=,.\\-\\r\\n]{0,16}") {
        let s = CARD_SEED.as_bytes();
        let i = at.index(s.len());
        let j = (i + cut).min(s.len());
        let mut text = String::from_utf8_lossy(&s[..i]).into_owned();
        text.push_str(&insert);
        text.push_str(&String::from_utf8_lossy(&s[j..]));
        let calcard::Entry::VCard(card) = calcard::Parser::new(&text).entry() else { return Ok(()) };
        let imipd_dav::Report::AddressbookQuery(q) = parse_report(CARD_QUERY_SEED.as_bytes()).unwrap() else { unreachable!() };
        let _ = imipd_dav::filter::matches_card(&q.filter, &card);
        let _ = imipd_dav::caldata::address_data(&text, &card, q.select.address_data.as_ref().unwrap());
    }
}
