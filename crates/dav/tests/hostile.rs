//! Bodies written to hurt a parser: every one is refused with a typed error that the
//! HTTP layer answers 400, quickly, without expanding anything.

use imipd_dav::xml::tree::XmlError;
use imipd_dav::{RequestError, parse_propfind, parse_proppatch, parse_report};

fn propfind_with(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>{inner}</D:prop></D:propfind>"#
    )
}

#[test]
fn hostile_bodies_are_refused_with_a_reason() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol9;</D:displayname></D:prop></D:propfind>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:propfind>"#;
    let deep = format!(
        r#"<D:propfind xmlns:D="DAV:">{}{}</D:propfind>"#,
        "<D:prop>".repeat(100_000),
        "</D:prop>".repeat(100_000)
    );
    let many = propfind_with(&"<D:getetag/>".repeat(60_000));
    let attrs: String = (0..1000).map(|i| format!(" a{i}=\"x\"")).collect();
    let many_attrs = format!(r#"<D:propfind xmlns:D="DAV:"><D:prop{attrs}/></D:propfind>"#);

    let cases: Vec<(&str, Vec<u8>, XmlError)> = vec![
        ("billion laughs", billion_laughs.into(), XmlError::Doctype),
        ("external entity", xxe.into(), XmlError::Doctype),
        ("bare DOCTYPE", b"<!DOCTYPE propfind><propfind xmlns=\"DAV:\"/>".to_vec(), XmlError::Doctype),
        (
            "undeclared entity in text",
            propfind_with("<D:displayname>&nbsp;</D:displayname>").into(),
            XmlError::Entity("nbsp".into()),
        ),
        (
            "undeclared entity in an attribute",
            br#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="&evil;"/></C:filter></C:calendar-query>"#.to_vec(),
            XmlError::Entity("evil".into()),
        ),
        ("nesting 100,000 deep", deep.into(), XmlError::TooDeep(48)),
        ("60,000 elements", many.into(), XmlError::TooManyElements(50_000)),
        ("1,000 attributes", many_attrs.into(), XmlError::TooManyAttributes(32)),
        ("undeclared prefix", b"<X:propfind/>".to_vec(), XmlError::UnknownPrefix("X".into())),
        ("empty after the declaration", b"<?xml version=\"1.0\"?>".to_vec(), XmlError::Empty),
    ];
    for (what, body, want) in cases {
        let got = parse_propfind(&body).or_else(|e| match e {
            // A body whose root is wrong for PROPFIND still has to fail for its XML first.
            RequestError::WrongRoot { .. } => parse_report(&body).map(|_| unreachable!()),
            other => Err(other),
        });
        match got {
            Err(RequestError::Xml(e)) => assert_eq!(e, want, "{what}"),
            other => panic!("{what}: expected {want:?}, got {other:?}"),
        }
    }
}

#[test]
fn malformed_bodies_are_400() {
    let cases: &[(&str, &[u8])] = &[
        (
            "mismatched end tag",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop></D:propfind>",
        ),
        ("unclosed root", b"<D:propfind xmlns:D=\"DAV:\"><D:prop/>"),
        (
            "two roots",
            b"<D:propfind xmlns:D=\"DAV:\"/><D:propfind xmlns:D=\"DAV:\"/>",
        ),
        (
            "text after the root",
            b"<D:propfind xmlns:D=\"DAV:\"/>trailing",
        ),
        (
            "duplicate attribute",
            b"<D:propfind xmlns:D=\"DAV:\" a=\"1\" a=\"2\"/>",
        ),
        (
            "invalid UTF-8",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:x>\xff\xfe</D:x></D:prop></D:propfind>",
        ),
        (
            "character reference to NUL",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:x>&#0;</D:x></D:prop></D:propfind>",
        ),
        (
            "unterminated reference",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:x>&amp</D:x></D:prop></D:propfind>",
        ),
    ];
    for (what, body) in cases {
        match parse_propfind(body) {
            Err(e) => assert_eq!(e.status(), 400, "{what}: {e}"),
            Ok(p) => panic!("{what}: accepted as {p:?}"),
        }
    }
}

#[test]
fn well_formed_but_wrong_requests_name_their_precondition() {
    use imipd_dav::Precondition;
    let q = |inner: &str| {
        format!(
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter>{inner}</C:filter></C:calendar-query>"#
        )
    };
    let cases: Vec<(&str, String, u16, Option<Precondition>)> = vec![
        ("no VCALENDAR", q(r#"<C:comp-filter name="VEVENT"/>"#), 403, Some(Precondition::ValidFilter)),
        (
            "local time in a time-range",
            q(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260101T000000"/></C:comp-filter></C:comp-filter>"#),
            403,
            Some(Precondition::ValidFilter),
        ),
        (
            "end before start",
            q(r#"<C:comp-filter name="VCALENDAR"><C:time-range start="20260102T000000Z" end="20260101T000000Z"/></C:comp-filter>"#),
            403,
            Some(Precondition::ValidFilter),
        ),
        (
            "unknown collation",
            q(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>"#),
            403,
            Some(Precondition::SupportedCollation),
        ),
        (
            "unknown report",
            r#"<X:make-coffee xmlns:X="urn:example"/>"#.into(),
            403,
            Some(Precondition::SupportedReport),
        ),
        (
            "calendar-data in another format",
            r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data content-type="application/calendar+json"/></D:prop><D:href>/x.ics</D:href></C:calendar-multiget>"#.into(),
            403,
            Some(Precondition::SupportedCalendarData),
        ),
        ("multiget without hrefs", r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop></C:calendar-multiget>"#.into(), 400, None),
    ];
    for (what, body, status, pre) in cases {
        match parse_report(body.as_bytes()) {
            Err(e) => {
                assert_eq!((e.status(), e.precondition()), (status, pre), "{what}: {e}");
            }
            Ok(r) => panic!("{what}: accepted as {r:?}"),
        }
    }
    assert!(matches!(
        parse_proppatch(br#"<D:propertyupdate xmlns:D="DAV:"/>"#),
        Err(RequestError::Invalid { .. })
    ));
}
