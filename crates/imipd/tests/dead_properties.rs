//! Dead properties over real sockets: PROPPATCH of properties imipd gives no meaning to,
//! kept per collection and returned by PROPFIND (prop, allprop, propname), removable,
//! bounded with a reason, and gone with their collection.

mod common;

use common::http::{Reply, request};
use common::*;
use std::net::SocketAddr;
use std::path::Path;

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";
const DEFAULT: &str = "/calendars/bob@example.org/default/";
const BOOK: &str = "/addressbooks/bob@example.org/default/";
const NS: &str = r#"xmlns:d="DAV:" xmlns:ical="http://apple.com/ns/ical/" xmlns:x="urn:example:x" xmlns:c="urn:ietf:params:xml:ns:caldav""#;

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
}

fn send(addr: SocketAddr, method: &str, path: &str, depth: &str, body: &str) -> Reply {
    request(
        addr,
        Some((BOB, PW)),
        method,
        path,
        &[("Depth", depth)],
        body.as_bytes(),
    )
}

fn proppatch(addr: SocketAddr, path: &str, ops: &str) -> Reply {
    let body = format!(r#"<?xml version="1.0"?><d:propertyupdate {NS}>{ops}</d:propertyupdate>"#);
    send(addr, "PROPPATCH", path, "0", &body)
}

fn propfind(addr: SocketAddr, path: &str, what: &str) -> Reply {
    let body = format!(r#"<?xml version="1.0"?><d:propfind {NS}>{what}</d:propfind>"#);
    send(addr, "PROPFIND", path, "0", &body)
}

const ASK: &str = "<d:prop><ical:calendar-order/><x:thing/><c:schedule-calendar-transp/></d:prop>";

#[test]
fn properties_without_meaning_are_kept_returned_and_removed() {
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let r = proppatch(
        addr,
        DEFAULT,
        r#"<d:set><d:prop><ical:calendar-order>3</ical:calendar-order><x:thing><x:a n="1">one &amp; two</x:a></x:thing><c:schedule-calendar-transp><c:transparent/></c:schedule-calendar-transp></d:prop></d:set>"#,
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(
        r.body.contains("200 OK") && !r.body.contains("403"),
        "{}",
        r.body
    );

    let r = propfind(addr, DEFAULT, ASK);
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains(">3</ical:calendar-order>"), "{}", r.body);
    assert!(
        r.body
            .contains(r#"<a xmlns="urn:example:x" n="1">one &amp; two</a>"#),
        "{}",
        r.body
    );
    assert!(r.body.contains("transparent"), "{}", r.body);
    assert!(!r.body.contains("404"), "{}", r.body);

    let r = propfind(addr, DEFAULT, "<d:allprop/>");
    assert!(
        r.body.contains("one &amp; two") && r.body.contains("calendar-order"),
        "{}",
        r.body
    );
    assert_eq!(
        r.body.matches("calendar-order").count(),
        2,
        "listed once: {}",
        r.body
    );
    let r = propfind(addr, DEFAULT, "<d:propname/>");
    assert!(
        r.body.contains("thing") && !r.body.contains("one &amp; two"),
        "{}",
        r.body
    );

    // Another collection does not see them.
    must(server.data(), &["calendars", "add", BOB, "work"]);
    let r = propfind(addr, "/calendars/bob@example.org/work/", ASK);
    assert!(
        !r.body.contains("one &amp; two") && !r.body.contains(">3<"),
        "{}",
        r.body
    );

    let r = proppatch(
        addr,
        DEFAULT,
        "<d:remove><d:prop><x:thing/><ical:calendar-order/></d:prop></d:remove>",
    );
    assert_eq!(r.status, 207, "{}", r.body);
    let r = propfind(addr, DEFAULT, ASK);
    assert!(
        !r.body.contains("one &amp; two") && !r.body.contains(">3<"),
        "{}",
        r.body
    );
    assert!(r.body.contains("404 Not Found"), "{}", r.body);
    assert!(r.body.contains("transparent"), "{}", r.body);
}

#[test]
fn an_oversized_value_is_refused_with_a_reason_and_nothing_is_changed() {
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let big = "x".repeat(16 * 1024 + 1);
    let r = proppatch(
        addr,
        BOOK,
        &format!(
            "<d:set><d:prop><d:displayname>Renamed</d:displayname><x:small>s</x:small><x:big>{big}</x:big></d:prop></d:set>"
        ),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("507 Insufficient Storage"), "{}", r.body);
    assert!(r.body.contains("424 Failed Dependency"), "{}", r.body);
    assert!(
        r.body.contains(
            "<d:responsedescription>{urn:example:x}big not kept: its value is 16385 bytes"
        ),
        "{}",
        r.body
    );
    let r = propfind(addr, BOOK, "<d:prop><d:displayname/><x:small/></d:prop>");
    assert!(
        !r.body.contains("Renamed") && !r.body.contains(">s<"),
        "{}",
        r.body
    );

    // Within the bounds, an address book keeps them too, and a new one made by MKCOL
    // with one keeps it from the start.
    let r = proppatch(
        addr,
        BOOK,
        "<d:set><d:prop><x:small>s</x:small></d:prop></d:set>",
    );
    assert!(r.body.contains("200 OK"), "{}", r.body);
    let r = propfind(addr, BOOK, "<d:prop><x:small/></d:prop>");
    assert!(r.body.contains(">s</small>"), "{}", r.body);
    let mkcol = format!(
        r#"<?xml version="1.0"?><d:mkcol {NS} xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><x:small>new</x:small></d:prop></d:set></d:mkcol>"#
    );
    let team = "/addressbooks/bob@example.org/team/";
    let r = send(addr, "MKCOL", team, "0", &mkcol);
    assert_eq!(r.status, 201, "{}", r.body);
    let r = propfind(addr, team, "<d:prop><x:small/></d:prop>");
    assert!(r.body.contains(">new</small>"), "{}", r.body);
    // Deleted with the book: one made again under the name starts without.
    assert_eq!(send(addr, "DELETE", team, "0", "").status, 204);
    let r = send(
        addr,
        "MKCOL",
        team,
        "0",
        &mkcol.replace("<x:small>new</x:small>", ""),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = propfind(addr, team, "<d:prop><x:small/></d:prop>");
    assert!(
        !r.body.contains(">new<") && r.body.contains("404"),
        "{}",
        r.body
    );
}
