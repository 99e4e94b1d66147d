//! PROPFIND / PROPPATCH / MKCOL answers and calendar-data rendering, checked as the
//! bytes a client receives, and read back with the crate's own parser.

use calcard::Entry;
use imipd_dav::caldata::{address_data, calendar_data};
use imipd_dav::filter::Basic;
use imipd_dav::headers::Prefer;
use imipd_dav::name::{Name, Ns, PropName};
use imipd_dav::propfind::{
    Answerer, PropertySource, ResourceKind, check_proppatch, write_components,
};
use imipd_dav::request::Report;
use imipd_dav::response::Xml;
use imipd_dav::xml::parse_tree;
use imipd_dav::{
    Multistatus, Precondition, parse_mkcalendar, parse_propfind, parse_proppatch, parse_report,
};

struct Calendar {
    dead: Vec<(Name, String)>,
}

impl PropertySource for Calendar {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Calendar
    }
    fn live(&self, name: &PropName, x: &mut Xml<'_>) -> bool {
        match name {
            PropName::DisplayName => x.text("Work & play"),
            PropName::Getctag => x.text("\"7\""),
            PropName::SyncToken => x.text("http://imipd.invalid/sync/7"),
            PropName::CurrentUserPrincipal => x.href("/dav/principals/alice@example.com/"),
            PropName::SupportedCalendarComponentSet => write_components(x, &["VEVENT", "VTODO"]),
            PropName::CalendarColor => x.text("#1C4587FF"),
            _ => return false,
        }
        true
    }
    fn dead(&self, name: &Name) -> Option<&str> {
        self.dead
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn each_dead(&self, f: &mut dyn FnMut(&Name, &str)) {
        for (n, v) in &self.dead {
            f(n, v);
        }
    }
}

struct Object;

impl PropertySource for Object {
    fn kind(&self) -> ResourceKind {
        ResourceKind::CalendarObject
    }
    fn live(&self, name: &PropName, x: &mut Xml<'_>) -> bool {
        match name {
            PropName::GetEtag => x.text("\"e1\""),
            _ => return false,
        }
        true
    }
    fn dead(&self, _: &Name) -> Option<&str> {
        None
    }
    fn each_dead(&self, _: &mut dyn FnMut(&Name, &str)) {}
}

fn calendar() -> Calendar {
    Calendar {
        dead: vec![(
            Name::new(Ns::from_uri("urn:example:x"), "meta"),
            "<a xmlns=\"urn:example:x\">1</a>".into(),
        )],
    }
}

const PREAMBLE: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus",
    " xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:card=\"urn:ietf:params:xml:ns:carddav\"",
    " xmlns:cs=\"http://calendarserver.org/ns/\" xmlns:ical=\"http://apple.com/ns/ical/\">"
);

#[test]
fn propfind_depth_1_as_thunderbird_asks() {
    let sel = parse_propfind(br#"<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:owner/><D:current-user-principal/><C:supported-calendar-component-set/><CS:getctag/><D:getetag/></D:prop></D:propfind>"#).unwrap();
    let mut ms = Multistatus::default();
    let mut a = Answerer::default();
    a.answer(
        &mut ms,
        "/dav/calendars/alice@example.com/work/",
        &sel,
        &calendar(),
        Prefer::default(),
    );
    a.answer(
        &mut ms,
        "/dav/calendars/alice@example.com/work/e 1.ics",
        &sel,
        &Object,
        Prefer::default(),
    );
    let body = ms.finish(None);
    let want = format!(
        "{PREAMBLE}{}{}</d:multistatus>\n",
        concat!(
            "<d:response><d:href>/dav/calendars/alice%40example.com/work/</d:href>",
            "<d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>",
            "<d:current-user-principal><d:href>/dav/principals/alice%40example.com/</d:href></d:current-user-principal>",
            "<c:supported-calendar-component-set><c:comp name=\"VEVENT\"/><c:comp name=\"VTODO\"/></c:supported-calendar-component-set>",
            "<cs:getctag>\"7\"</cs:getctag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>",
            "<d:propstat><d:prop><d:owner/><d:getetag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>",
            "</d:response>",
        ),
        concat!(
            "<d:response><d:href>/dav/calendars/alice%40example.com/work/e%201.ics</d:href>",
            "<d:propstat><d:prop><d:resourcetype></d:resourcetype><d:getetag>\"e1\"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>",
            "<d:propstat><d:prop><d:owner/><d:current-user-principal/><c:supported-calendar-component-set/><cs:getctag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>",
            "</d:response>",
        ),
    );
    assert_eq!(body, want);
    // Every client's XML parser reads it; so does ours.
    parse_tree(body.as_bytes()).expect("the multistatus is well-formed and namespace-correct");
}

#[test]
fn prefer_minimal_allprop_and_propname() {
    let sel = parse_propfind(br#"<propfind xmlns="DAV:"><prop><displayname/><owner/><quota-used-bytes/></prop></propfind>"#).unwrap();
    let mut ms = Multistatus::default();
    Answerer::default().answer(
        &mut ms,
        "/c/",
        &sel,
        &calendar(),
        Prefer {
            minimal: true,
            depth_noroot: false,
        },
    );
    let body = ms.finish(None);
    assert!(
        body.contains("<d:displayname>Work &amp; play</d:displayname>"),
        "{body}"
    );
    assert!(
        !body.contains("404"),
        "return=minimal leaves out what is not found: {body}"
    );

    let mut ms = Multistatus::default();
    Answerer::default().answer(
        &mut ms,
        "/c/",
        &parse_propfind(b"").unwrap(),
        &calendar(),
        Prefer::default(),
    );
    let body = ms.finish(None);
    for want in [
        "<d:displayname>Work &amp; play</d:displayname>",
        "<c:supported-calendar-data><c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/></c:supported-calendar-data>",
        "<meta xmlns=\"urn:example:x\"><a xmlns=\"urn:example:x\">1</a></meta>",
        "<ical:calendar-color>#1C4587FF</ical:calendar-color>",
    ] {
        assert!(body.contains(want), "allprop lacks {want}: {body}");
    }
    for unwanted in ["supported-report-set", "current-user-privilege-set", "404"] {
        assert!(!body.contains(unwanted), "allprop has {unwanted}: {body}");
    }
    parse_tree(body.as_bytes()).expect("well-formed");

    let mut ms = Multistatus::default();
    Answerer::default().answer(
        &mut ms,
        "/c/",
        &parse_propfind(br#"<propfind xmlns="DAV:"><propname/></propfind>"#).unwrap(),
        &calendar(),
        Prefer::default(),
    );
    let body = ms.finish(None);
    assert!(
        body.contains("<d:displayname/>")
            && body.contains("<cs:getctag/>")
            && body.contains("<meta xmlns=\"urn:example:x\"/>"),
        "{body}"
    );
}

#[test]
fn supported_report_set_and_privileges() {
    let sel = parse_propfind(br#"<propfind xmlns="DAV:"><prop><supported-report-set/><current-user-privilege-set/></prop></propfind>"#).unwrap();
    let mut ms = Multistatus::default();
    Answerer::default().answer(&mut ms, "/c/", &sel, &calendar(), Prefer::default());
    let body = ms.finish(None);
    for want in [
        "<d:supported-report><d:report><c:calendar-query/></d:report></d:supported-report>",
        "<d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>",
        "<d:privilege><d:write-content/></d:privilege>",
        "<d:privilege><c:read-free-busy/></d:privilege>",
    ] {
        assert!(body.contains(want), "lacks {want}: {body}");
    }
}

#[test]
fn proppatch_is_all_or_nothing() {
    let patch = |body: &str| {
        check_proppatch(
            &parse_proppatch(body.as_bytes()).unwrap(),
            ResourceKind::Calendar,
        )
    };
    let ok = patch(
        r##"<D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Home</D:displayname><I:calendar-color>#ff0000</I:calendar-color><I:calendar-order>3</I:calendar-order></D:prop></D:set></D:propertyupdate>"##,
    );
    assert!(ok.ok(), "{ok:?}");
    let bad = patch(
        r##"<D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Home</D:displayname><D:getetag>"x"</D:getetag><I:calendar-color>red</I:calendar-color></D:prop></D:set></D:propertyupdate>"##,
    );
    assert_eq!(
        bad.statuses,
        vec![
            (PropName::DisplayName, 424),
            (PropName::GetEtag, 403),
            (PropName::CalendarColor, 409)
        ]
    );
    let mut ms = Multistatus::default();
    bad.render(&mut ms, "/c/");
    let body = ms.finish(None);
    assert!(body.contains("<d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status></d:propstat>"), "{body}");
    assert!(body.contains("<d:propstat><d:prop><d:displayname/></d:prop><d:status>HTTP/1.1 424 Failed Dependency</d:status></d:propstat>"), "{body}");
    let principal = check_proppatch(
        &parse_proppatch(br#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>"#).unwrap(),
        ResourceKind::Principal,
    );
    assert_eq!(principal.statuses, vec![(PropName::DisplayName, 403)]);

    let m = parse_mkcalendar(br#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Tasks</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#).unwrap();
    assert!(m.check(ResourceKind::Calendar).ok());
    let failed = imipd_dav::propfind::PatchOutcome {
        statuses: vec![(PropName::DisplayName, 424), (PropName::GetEtag, 403)],
        description: None,
    };
    for (mkcalendar, root) in [
        (false, Name::new(Ns::Dav, "mkcol-response")),
        (true, Name::new(Ns::CalDav, "mkcalendar-response")),
    ] {
        let body = failed.render_creation_response(mkcalendar);
        let tree = parse_tree(body.as_bytes()).expect("well-formed");
        assert_eq!(tree.name, root, "{body}");
        assert!(
            body.contains("<d:getetag/></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status>"),
            "{body}"
        );
    }
}

#[test]
fn precondition_bodies() {
    let cases = [
        (
            Precondition::NoUidConflict {
                href: "/dav/calendars/bob@example.com/home/a b.ics".into(),
            },
            409,
            "<c:no-uid-conflict><d:href>/dav/calendars/bob%40example.com/home/a%20b.ics</d:href></c:no-uid-conflict>",
        ),
        (
            Precondition::ValidCalendarData,
            403,
            "<c:valid-calendar-data/>",
        ),
        (
            Precondition::SupportedCalendarComponent,
            403,
            "<c:supported-calendar-component/>",
        ),
        (Precondition::MaxResourceSize, 413, "<c:max-resource-size/>"),
        (
            Precondition::ValidAddressData,
            403,
            "<card:valid-address-data/>",
        ),
        (Precondition::ValidSyncToken, 403, "<d:valid-sync-token/>"),
        (
            Precondition::NumberOfMatchesWithinLimits,
            403,
            "<d:number-of-matches-within-limits/>",
        ),
        (
            Precondition::NeedPrivileges(vec![(
                "/dav/calendars/eve/".into(),
                imipd_dav::Privilege::Read,
            )]),
            403,
            "<d:need-privileges><d:resource><d:href>/dav/calendars/eve/</d:href><d:privilege><d:read/></d:privilege></d:resource></d:need-privileges>",
        ),
    ];
    for (p, status, element) in cases {
        let body = p.render(Some("UID <x> & co is used by another event"));
        assert_eq!(p.status(), status, "{p:?}");
        assert!(body.contains(element), "{p:?}: {body}");
        assert!(body.contains("UID &lt;x&gt; &amp; co"), "{body}");
        let tree = parse_tree(body.as_bytes()).expect("well-formed error body");
        assert!(tree.is(&Ns::Dav, "error"));
    }
}

fn ical(text: &str) -> calcard::icalendar::ICalendar {
    match calcard::Parser::new(text).entry() {
        Entry::ICalendar(c) => c,
        other => panic!("{other:?}"),
    }
}

const WEEKLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki\r\nBEGIN:STANDARD\r\nDTSTART:19701025T040000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Helsinki:20260105T110000\r\nDTEND;TZID=Europe/Helsinki:20260105T113000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Standup\r\nDESCRIPTION:daily sync\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Helsinki:20260112T110000\r\nDTSTART;TZID=Europe/Helsinki:20260113T170000\r\nDTEND;TZID=Europe/Helsinki:20260113T173000\r\nSUMMARY:Standup (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn data_request(prop: &str) -> imipd_dav::query::CalendarDataRequest {
    let body = format!(
        r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{prop}</D:prop><D:href>/x.ics</D:href></C:calendar-multiget>"#
    );
    match parse_report(body.as_bytes()) {
        Ok(Report::CalendarMultiget(m)) => m.select.calendar_data.expect("calendar-data"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn calendar_data_as_asked() {
    let cal = ical(WEEKLY);
    let basic = Basic::default();

    let plain = calendar_data(WEEKLY, &cal, &data_request("<C:calendar-data/>"), &basic).unwrap();
    assert_eq!(plain, WEEKLY, "no transformation: the stored bytes");

    let expanded = calendar_data(
        WEEKLY,
        &cal,
        &data_request(r#"<C:calendar-data><C:expand start="20260101T000000Z" end="20260120T000000Z"/></C:calendar-data>"#),
        &basic,
    )
    .unwrap();
    for want in [
        "DTSTART:20260105T090000Z",
        "DTEND:20260105T093000Z",
        "RECURRENCE-ID:20260105T090000Z",
        "DTSTART:20260113T150000Z",
        "RECURRENCE-ID:20260112T090000Z",
        "SUMMARY:Standup (moved)",
    ] {
        assert!(
            expanded.contains(want),
            "expanded lacks {want}:\n{expanded}"
        );
    }
    for unwanted in [
        "RRULE",
        "VTIMEZONE",
        "TZID",
        "20260126",
        "20260112T090000Z\r\nDTEND",
    ] {
        assert!(
            !expanded.contains(unwanted),
            "expanded has {unwanted}:\n{expanded}"
        );
    }
    assert_eq!(
        expanded.matches("BEGIN:VEVENT").count(),
        3,
        "three instances in range (the 5th, the 12th moved to the 13th, the 19th):\n{expanded}"
    );

    let subset = calendar_data(
        WEEKLY,
        &cal,
        &data_request(r#"<C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/><C:prop name="DESCRIPTION" novalue="yes"/></C:comp></C:comp></C:calendar-data>"#),
        &basic,
    )
    .unwrap();
    assert!(
        subset.contains("SUMMARY:Standup\r\n")
            && subset.contains("UID:w1")
            && subset.contains("VERSION:2.0"),
        "{subset}"
    );
    assert!(
        !subset.contains("PRODID")
            && !subset.contains("VTIMEZONE")
            && !subset.contains("DTSTART")
            && !subset.contains("daily sync"),
        "{subset}"
    );

    let limited = calendar_data(
        WEEKLY,
        &cal,
        &data_request(r#"<C:calendar-data><C:limit-recurrence-set start="20260120T000000Z" end="20260201T000000Z"/></C:calendar-data>"#),
        &basic,
    )
    .unwrap();
    assert!(
        limited.contains("RRULE") && !limited.contains("moved"),
        "the override outside the range is left out:\n{limited}"
    );
}

#[test]
fn address_data_subset() {
    let text = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Cyrus Daboo\r\nNICKNAME:me\r\nEMAIL:cyrus@example.com\r\nTEL:+358 40 123\r\nEND:VCARD\r\n";
    let card = match calcard::Parser::new(text).entry() {
        Entry::VCard(c) => c,
        other => panic!("{other:?}"),
    };
    let all = imipd_dav::query::AddressDataRequest::default();
    assert_eq!(address_data(text, &card, &all), text);
    let some = imipd_dav::query::AddressDataRequest {
        props: Some(vec!["EMAIL".into(), "FN".into()]),
        ..Default::default()
    };
    let out = address_data(text, &card, &some);
    assert!(
        out.contains("EMAIL:cyrus@example.com")
            && out.contains("FN:Cyrus Daboo")
            && out.contains("UID:c1"),
        "{out}"
    );
    assert!(!out.contains("TEL") && !out.contains("NICKNAME"), "{out}");
}

#[test]
fn dead_properties_round_trip() {
    // Stored from a PROPPATCH, rendered into a PROPFIND answer, read back by a client:
    // the same element, whatever prefixes the writer chose.
    let bodies = [
        r#"<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:example:x"><D:set><D:prop><X:meta><X:a k="v &amp; &lt;w&gt;">1 &lt; 2</X:a><D:href>/x%40y/</D:href><Y:b xmlns:Y="urn:example:y"/>tail</X:meta></D:prop></D:set></D:propertyupdate>"#,
        r#"<propertyupdate xmlns="DAV:"><set><prop><refreshrate xmlns="http://apple.com/ns/ical/">P1W</refreshrate></prop></set></propertyupdate>"#,
        r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><n:empty xmlns:n="urn:e"/></D:prop></D:set></D:propertyupdate>"#,
    ];
    for body in bodies {
        let update = parse_proppatch(body.as_bytes()).unwrap();
        let imipd_dav::request::PatchOp::Set(PropName::Dead(name), sent) = &update.ops[0] else {
            panic!("{body}: not a dead property set: {update:?}");
        };
        let stored = Calendar {
            dead: vec![(name.clone(), sent.inner_xml())],
        };
        let mut ms = Multistatus::default();
        let sel = imipd_dav::PropSelection::names(vec![PropName::Dead(name.clone())]);
        Answerer::default().answer(&mut ms, "/c/", &sel, &stored, Prefer::default());
        let rendered = ms.finish(None);
        let tree = parse_tree(rendered.as_bytes())
            .unwrap_or_else(|e| panic!("{body}\nrendered: {rendered}\n{e}"));
        let back = tree
            .child(&Ns::Dav, "response")
            .and_then(|r| r.child(&Ns::Dav, "propstat"))
            .and_then(|p| p.child(&Ns::Dav, "prop"))
            .and_then(|p| p.elements().next())
            .unwrap_or_else(|| panic!("{body}\nno property in {rendered}"));
        assert_eq!(back, sent, "{body}\nrendered: {rendered}");
    }
}
