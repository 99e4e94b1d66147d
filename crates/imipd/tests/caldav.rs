//! CalDAV on the real binary over real sockets: discovery as clients do it, each method
//! and its status codes, the preconditions of PUT, the reports, and an invitation that
//! arrives by mail showing up through sync-collection with its update and its CANCEL.

mod common;

use common::http::{Reply, request};
use common::itip::Mail;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";
const HOME: &str = "/calendars/bob@example.org/";
const DEFAULT: &str = "/calendars/bob%40example.org/default/";

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
    must(dir, &["user", "alias-add", BOB, "robert@example.org"]);
    must(
        dir,
        &["user", "add", "alice@example.org", "--password", "alice pw"],
    );
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
}

struct Client {
    addr: SocketAddr,
    login: Option<(String, String)>,
}

impl Client {
    fn bob(addr: SocketAddr) -> Client {
        Client {
            addr,
            login: Some((BOB.into(), PW.into())),
        }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(
            self.addr,
            self.login.as_ref().map(|(l, p)| (l.as_str(), p.as_str())),
            method,
            path,
            headers,
            body,
        )
    }

    fn propfind(&self, path: &str, depth: &str, props: &str) -> Reply {
        let body = format!(
            r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/"><d:prop>{props}</d:prop></d:propfind>"#
        );
        self.send("PROPFIND", path, &[("Depth", depth)], body.as_bytes())
    }

    fn report(&self, path: &str, body: &str) -> Reply {
        self.send("REPORT", path, &[("Depth", "1")], body.as_bytes())
    }

    fn put(&self, path: &str, ics: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("Content-Type", "text/calendar; charset=utf-8")];
        h.extend_from_slice(headers);
        self.send("PUT", path, &h, ics.as_bytes())
    }
}

fn server() -> (Imipd, Client) {
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    (server, Client::bob(addr))
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Client//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// The text of every `<tag>` element of a body, in order.
fn all<'a>(body: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    body.match_indices(&open)
        .filter_map(|(i, _)| {
            let rest = &body[i + open.len()..];
            rest.find(&close).map(|j| &rest[..j])
        })
        .collect()
}

fn sync(client: &Client, token: &str) -> Reply {
    client.report(
        DEFAULT,
        &format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        ),
    )
}

#[test]
fn discovery_as_clients_do_it() {
    let (_server, bob) = server();
    let anonymous = Client { login: None, ..bob };
    for wk in ["/.well-known/caldav", "/.well-known/carddav"] {
        let r = anonymous.send("GET", wk, &[], b"");
        assert_eq!((r.status, r.header("location")), (301, Some("/")), "{wk}");
    }
    let r = anonymous.propfind("/", "0", "<d:current-user-principal/>");
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let wrong = Client {
        login: Some((BOB.into(), "wrong".into())),
        ..bob
    };
    assert_eq!(
        wrong
            .propfind("/", "0", "<d:current-user-principal/>")
            .status,
        401
    );

    let r = bob.send("OPTIONS", "/", &[], b"");
    let dav = r.header("dav").unwrap();
    assert!(
        dav.contains("1, 3") && dav.contains("calendar-access") && dav.contains("addressbook"),
        "{dav}"
    );
    assert!(dav.contains("calendar-auto-schedule"), "{dav}");

    // current-user-principal on every URL, the landing URL first.
    for path in ["/", HOME, DEFAULT, "/principals/bob@example.org/"] {
        let r = bob.propfind(path, "0", "<d:current-user-principal/>");
        assert_eq!(r.status, 207, "{path}: {}", r.body);
        assert_eq!(
            all(&r.body, "d:href")[1],
            "/principals/bob%40example.org/",
            "{path}"
        );
    }
    let r = bob.propfind(
        "/principals/bob%40example.org/",
        "0",
        "<c:calendar-home-set/><c:calendar-user-address-set/><d:displayname/><d:principal-URL/><card:addressbook-home-set xmlns:card=\"urn:ietf:params:xml:ns:carddav\"/>",
    );
    assert_eq!(r.status, 207);
    let hrefs = all(&r.body, "d:href");
    for want in [
        "/calendars/bob%40example.org/",
        "mailto:bob@example.org",
        "mailto:robert@example.org",
        "/addressbooks/bob%40example.org/",
    ] {
        assert!(hrefs.contains(&want), "{want} in {}", r.body);
    }
    assert_eq!(all(&r.body, "d:displayname"), [BOB]);

    let r = bob.propfind(HOME, "1", "<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/><cs:getctag/><d:sync-token/><d:current-user-privilege-set/><d:supported-report-set/>");
    assert_eq!(r.status, 207);
    assert!(all(&r.body, "d:href").contains(&DEFAULT), "{}", r.body);
    assert!(r.body.contains("<c:calendar/>") && r.body.contains("<c:comp name=\"VEVENT\"/>"));
    assert!(r.body.contains("<c:calendar-query/>") && r.body.contains("<d:sync-collection/>"));
    assert!(r.body.contains("<d:write/>"));
    assert_eq!(all(&r.body, "cs:getctag"), all(&r.body, "d:sync-token"));

    // Another user's collections are not there for bob.
    for path in [
        "/principals/alice@example.org/",
        "/calendars/alice@example.org/",
        "/calendars/alice%40example.org/default/",
    ] {
        assert_eq!(
            bob.propfind(path, "0", "<d:displayname/>").status,
            404,
            "{path}"
        );
    }
    assert_eq!(
        bob.put(
            "/calendars/alice@example.org/default/x.ics",
            &event("x", "x"),
            &[]
        )
        .status,
        409
    );
    // Without a Depth header: the members too.
    let r = bob.send("PROPFIND", HOME, &[], b"");
    assert_eq!(r.status, 207);
    assert!(all(&r.body, "d:href").contains(&DEFAULT), "{}", r.body);
    let r = bob.propfind(HOME, "infinity", "<d:displayname/>");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("propfind-finite-depth"), "{}", r.body);
}

#[test]
fn calendars_made_changed_and_deleted() {
    let (_server, bob) = server();
    let work = "/calendars/bob@example.org/work/";
    let r = bob.send(
        "MKCALENDAR",
        work,
        &[],
        br#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:ical="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Work</d:displayname><ical:calendar-color>#FF0000</ical:calendar-color><ical:calendar-order>2</ical:calendar-order><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let again = bob.send("MKCALENDAR", work, &[], b"");
    assert_eq!(again.status, 409);
    assert!(again.body.contains("resource-must-be-null"));
    let r = bob.propfind(
        work,
        "0",
        "<d:displayname/><ical:calendar-color/><c:supported-calendar-component-set/>",
    );
    assert_eq!(all(&r.body, "d:displayname"), ["Work"]);
    assert_eq!(all(&r.body, "ical:calendar-color"), ["#FF0000"]);
    assert!(
        r.body.contains("<c:comp name=\"VTODO\"/>") && !r.body.contains("VEVENT"),
        "{}",
        r.body
    );
    // A VTODO-only calendar refuses events.
    let r = bob.put(&format!("{work}e.ics"), &event("e1", "x"), &[]);
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("supported-calendar-component"),
        "{}",
        r.body
    );

    let patch = |body: &str| {
        bob.send(
            "PROPPATCH",
            work,
            &[],
            format!(r#"<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:ical="http://apple.com/ns/ical/"><d:set><d:prop>{body}</d:prop></d:set></d:propertyupdate>"#).as_bytes(),
        )
    };
    let tz = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
    let r = patch(&format!(
        "<d:displayname>Office</d:displayname><c:calendar-description>Desk &amp; phone</c:calendar-description><ical:calendar-color>blue</ical:calendar-color><c:calendar-timezone>{tz}</c:calendar-timezone>"
    ));
    assert_eq!(r.status, 207);
    assert_eq!(r.body.matches("HTTP/1.1 200 OK").count(), 1, "{}", r.body);
    let r = bob.propfind(
        work,
        "0",
        "<d:displayname/><c:calendar-description/><ical:calendar-color/><c:calendar-timezone/>",
    );
    assert_eq!(all(&r.body, "d:displayname"), ["Office"]);
    assert_eq!(all(&r.body, "c:calendar-description"), ["Desk &amp; phone"]);
    assert_eq!(all(&r.body, "ical:calendar-color"), ["#0000FF"]);
    assert!(r.body.contains("TZID:Europe/Berlin"), "{}", r.body);
    // One bad value: nothing changes, the good one answers 424.
    let r =
        patch("<d:displayname>Never</d:displayname><ical:calendar-color>#12</ical:calendar-color>");
    assert!(
        r.body.contains("409") && r.body.contains("424"),
        "{}",
        r.body
    );
    let r = patch("<d:getetag>x</d:getetag>");
    assert!(r.body.contains("403"), "{}", r.body);
    assert_eq!(
        all(
            &bob.propfind(work, "0", "<d:displayname/>").body,
            "d:displayname"
        ),
        ["Office"]
    );

    let r = bob.send(
        "MKCOL",
        "/calendars/bob@example.org/extended/",
        &[],
        br#"<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Extended</d:displayname></d:prop></d:set></d:mkcol>"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        bob.send("MKCOL", "/calendars/bob@example.org/plain/", &[], b"")
            .status,
        403
    );
    assert_eq!(
        bob.send("MKCALENDAR", "/calendars/bob@example.org/a/b/", &[], b"")
            .status,
        403
    );

    // A collection has no body of its own (RFC 4918 section 9.4 leaves GET on one open):
    // 405 with an Allow that leaves GET out, so clients list it with PROPFIND instead.
    common::http::assert_get_refused(
        &[work, DEFAULT, HOME, "/principals/bob@example.org/"],
        |method, path| bob.send(method, path, &[], b""),
    );

    assert_eq!(bob.send("DELETE", work, &[], b"").status, 204);
    assert_eq!(bob.propfind(work, "0", "<d:displayname/>").status, 404);
    // The default calendar, where invitations go, stays.
    let r = bob.send("DELETE", DEFAULT, &[], b"");
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn objects_with_etags_and_preconditions() {
    let (_server, bob) = server();
    // A client's own spelling (lower-case hex escapes, unfolded lines) is kept byte for byte.
    let ics = event("put-1@example.org", "First");
    let at = format!("{DEFAULT}put-1%40example.org.ics");
    let r = bob.put(&at, &ics, &[("If-None-Match", "*")]);
    assert_eq!(r.status, 201, "{}", r.body);
    let etag = r.header("etag").unwrap().to_string();
    // `@` and `%40` name the same resource.
    let same = format!("{HOME}default/put-1@example.org.ics");
    let r = bob.send("GET", &same, &[], b"");
    assert_eq!((r.status, r.header("etag")), (200, Some(etag.as_str())));
    assert_eq!(r.body, ics);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/calendar")
    );
    assert_eq!(bob.send("HEAD", &at, &[], b"").status, 200);

    assert_eq!(bob.put(&same, &ics, &[("If-None-Match", "*")]).status, 412);
    assert_eq!(
        bob.put(&at, &ics, &[("If-Match", "\"999999\"")]).status,
        412
    );
    let r = bob.put(
        &at,
        &event("put-1@example.org", "Second"),
        &[("If-Match", &etag)],
    );
    assert_eq!(r.status, 204);
    let etag2 = r.header("etag").unwrap().to_string();
    assert_ne!(etag, etag2);
    assert_eq!(
        bob.put(&at, &ics, &[("If-Match", &etag)]).status,
        412,
        "the old ETag"
    );

    // The UID of a resource cannot change, and a UID lives at one resource.
    let r = bob.put(&same, &event("other@example.org", "x"), &[]);
    assert_eq!(r.status, 409);
    assert!(r.body.contains("no-uid-conflict"), "{}", r.body);
    let r = bob.put(&format!("{DEFAULT}copy.ics"), &ics, &[]);
    assert_eq!(r.status, 409);
    assert!(
        r.body.contains("no-uid-conflict") && r.body.contains("put-1%40example.org.ics"),
        "{}",
        r.body
    );

    // Hostile and broken objects.
    let cases: [(&str, String, &str); 5] = [
        ("not iCalendar", "hello".into(), "valid-calendar-data"),
        ("unterminated", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\n".into(), "valid-calendar-data"),
        ("two UIDs", event("a", "a").replace("END:VCALENDAR\r\n", "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20300106T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), "valid-calendar-object-resource"),
        ("no UID", event("", "x").replace("UID:\r\n", ""), "valid-calendar-object-resource"),
        ("a decoy journal before the event", event("d", "x").replace("BEGIN:VEVENT", "BEGIN:VJOURNAL\r\nUID:d\r\nDTSTAMP:20260101T000000Z\r\nEND:VJOURNAL\r\nBEGIN:VEVENT"), "valid-calendar-object-resource"),
    ];
    for (what, body, precondition) in cases {
        let r = bob.put(&format!("{DEFAULT}bad.ics"), &body, &[]);
        assert_eq!(r.status, 403, "{what}: {}", r.body);
        assert!(r.body.contains(precondition), "{what}: {}", r.body);
    }
    let r = bob.send(
        "PUT",
        &format!("{DEFAULT}x.ics"),
        &[("Content-Type", "text/plain")],
        event("x", "x").as_bytes(),
    );
    assert!(r.body.contains("supported-calendar-data"), "{}", r.body);
    assert_eq!(
        bob.send("GET", &format!("{DEFAULT}bad.ics"), &[], b"")
            .status,
        404
    );

    assert_eq!(
        bob.send("DELETE", &at, &[("If-Match", &etag)], b"").status,
        412
    );
    assert_eq!(
        bob.send("DELETE", &at, &[("If-Match", &etag2)], b"").status,
        204
    );
    assert_eq!(bob.send("GET", &at, &[], b"").status, 404);
    assert_eq!(bob.send("DELETE", &at, &[], b"").status, 404);
}

#[test]
fn request_bodies_are_capped_and_entities_refused() {
    let (_server, bob) = server();
    // Refused on its Content-Length, before a byte of it is read.
    let mut conn = TcpStream::connect(bob.addr).unwrap();
    conn.write_all(
        format!(
            "PUT {DEFAULT}big.ics HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            1024 * 1024 + 1
        )
        .as_bytes(),
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(conn).read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // Sent in chunks, without a length: cut off at the cap.
    let mut conn = TcpStream::connect(bob.addr).unwrap();
    conn.write_all(
        format!("PUT {DEFAULT}big.ics HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    for _ in 0..16 {
        conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        conn.write_all(&chunk).unwrap();
        conn.write_all(b"\r\n").unwrap();
    }
    conn.write_all(b"1\r\nx\r\n0\r\n\r\n").unwrap();
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let entity = br#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>"#;
    assert_eq!(
        bob.send("PROPFIND", HOME, &[("Depth", "0")], entity).status,
        400
    );
    assert_eq!(
        bob.send("PROPFIND", HOME, &[("Depth", "0")], b"<d:propfind")
            .status,
        400
    );
}

#[test]
fn reports_multiget_query_and_sync() {
    let (_server, bob) = server();
    let initial = sync(&bob, "");
    assert_eq!(initial.status, 207);
    let token0 = all(&initial.body, "d:sync-token")[0].to_string();
    for (name, uid, start) in [
        ("a.ics", "a", "20300105T100000Z"),
        ("b.ics", "b", "20300205T100000Z"),
    ] {
        let ics = event(uid, uid)
            .replace("20300105T100000Z", start)
            .replace("20300105T110000Z", &start.replace("T10", "T11"));
        assert_eq!(bob.put(&format!("{DEFAULT}{name}"), &ics, &[]).status, 201);
    }
    let r = bob.report(
        DEFAULT,
        &format!(r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{DEFAULT}a.ics</d:href><d:href>{HOME}default/missing.ics</d:href></c:calendar-multiget>"#),
    );
    assert_eq!(r.status, 207);
    assert!(
        r.body.contains("UID:a") && !r.body.contains("UID:b"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("missing.ics</d:href><d:status>HTTP/1.1 404"),
        "{}",
        r.body
    );

    let query = |start: &str, end: &str| {
        bob.report(DEFAULT, &format!(r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#))
    };
    let r = query("20300201T000000Z", "20300301T000000Z");
    assert_eq!(all(&r.body, "d:href"), [format!("{DEFAULT}b.ics")]);
    assert_eq!(
        all(
            &query("20310101T000000Z", "20310201T000000Z").body,
            "d:href"
        )
        .len(),
        0
    );

    let r = sync(&bob, &token0);
    assert_eq!(all(&r.body, "d:href").len(), 2, "{}", r.body);
    let token1 = all(&r.body, "d:sync-token")[0].to_string();
    assert_ne!(token0, token1);
    assert_eq!(all(&sync(&bob, &token1).body, "d:href").len(), 0);
    assert_eq!(
        bob.send("DELETE", &format!("{DEFAULT}a.ics"), &[], b"")
            .status,
        204
    );
    let r = sync(&bob, &token1);
    assert!(
        r.body.contains("a.ics</d:href><d:status>HTTP/1.1 404"),
        "{}",
        r.body
    );

    for bad in [
        "urn:imipd:sync:99999999",
        "http://example.org/other-server/1",
    ] {
        let r = sync(&bob, bad);
        assert_eq!(r.status, 403, "{bad}");
        assert!(r.body.contains("valid-sync-token"), "{}", r.body);
    }
    let r = bob.report(DEFAULT, r#"<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20300201T000000Z" end="20300301T000000Z"/></c:free-busy-query>"#);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("FREEBUSY:20300205T100000Z/20300205T110000Z"),
        "{}",
        r.body
    );
    let r = bob.report(HOME, r#"<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>"#);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("supported-report"), "{}", r.body);
}

#[test]
fn an_invitation_by_mail_its_update_and_its_cancel_arrive_through_sync() {
    let (server, bob) = server();
    let token = all(&sync(&bob, "").body, "d:sync-token")[0].to_string();
    let uid = "mailed-1@example.org";
    let deliver = |mail: Mail<'_>| {
        let mut lmtp = server.connect();
        let (_, replies) = lmtp.deliver("alice@example.org", &[BOB], &mail.bytes());
        assert!(replies[0].starts_with("250"), "{replies:?}");
        lmtp.quit();
        settled(&server);
    };
    let changes = |token: &str| {
        let r = sync(&bob, token);
        assert_eq!(r.status, 207, "{}", r.body);
        let next = all(&r.body, "d:sync-token")[0].to_string();
        (r.body, next)
    };
    let get = || {
        bob.send(
            "GET",
            &format!("{DEFAULT}mailed-1%40example.org.ics"),
            &[],
            b"",
        )
    };

    deliver(Mail::request(uid));
    let (body, token) = changes(&token);
    assert!(body.contains("mailed-1%40example.org.ics"), "{body}");
    let first = get();
    assert!(first.body.contains("SUMMARY:Planning 0"), "{}", first.body);

    deliver(Mail {
        sequence: 1,
        ..Mail::request(uid)
    });
    let (body, token) = changes(&token);
    assert!(body.contains("mailed-1%40example.org.ics"), "{body}");
    let updated = get();
    assert!(
        updated.body.contains("SUMMARY:Planning 1"),
        "{}",
        updated.body
    );
    assert_ne!(first.header("etag"), updated.header("etag"));
    assert!(all(&body, "d:getetag").contains(&updated.header("etag").unwrap()));

    deliver(Mail::cancel(uid, 2));
    let (body, _) = changes(&token);
    assert!(body.contains("mailed-1%40example.org.ics"), "{body}");
    // Kept, marked cancelled (the default policy), so the app shows it struck through.
    let cancelled = get();
    assert_eq!(cancelled.status, 200);
    assert!(
        cancelled.body.contains("STATUS:CANCELLED"),
        "{}",
        cancelled.body
    );
    assert!(all(&body, "d:getetag").contains(&cancelled.header("etag").unwrap()));
}

#[test]
fn multiget_across_calendars_in_the_order_asked() {
    let (_server, bob) = server();
    let work = format!("{HOME}work/");
    assert_eq!(bob.send("MKCALENDAR", &work, &[], b"").status, 201);
    let a = format!("{DEFAULT}a%40example.org.ics");
    let w = format!("{work}w.ics");
    assert_eq!(bob.put(&a, &event("a@example.org", "A"), &[]).status, 201);
    assert_eq!(bob.put(&w, &event("w", "Work"), &[]).status, 201);
    // Each calendar's objects are read together; the answer still follows the request:
    // one href twice, both spellings of `@`, a missing name, another user's object and
    // an href that is not one.
    let hrefs = [
        w.clone(),
        format!("{HOME}default/a@example.org.ics"),
        format!("{DEFAULT}missing.ics"),
        "/calendars/alice@example.org/default/a.ics".to_string(),
        w.clone(),
        "/calendars/%zz/".to_string(),
    ];
    let body: String = hrefs
        .iter()
        .map(|h| format!("<d:href>{h}</d:href>"))
        .collect();
    let r = bob.report(
        DEFAULT,
        &format!(r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>{body}</c:calendar-multiget>"#),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    let answers = all(&r.body, "d:response");
    assert_eq!(answers.len(), hrefs.len(), "{}", r.body);
    let shows = |i: usize, what: &str| {
        assert!(
            answers[i].contains(what),
            "answer {i} lacks {what}: {}",
            answers[i]
        );
    };
    shows(0, "UID:w&#13;");
    shows(1, "UID:a@example.org&#13;");
    shows(2, "HTTP/1.1 404");
    shows(3, "HTTP/1.1 404");
    shows(4, "UID:w&#13;");
    shows(5, "HTTP/1.1 400");
}

#[test]
fn a_listing_that_reads_no_data_tells_what_reading_it_does_and_the_bytes_add_up() {
    let (_server, bob) = server();
    for (name, summary) in [("a.ics", "Ä longer summary"), ("b.ics", "B")] {
        let ics = event(name, summary);
        assert_eq!(bob.put(&format!("{DEFAULT}{name}"), &ics, &[]).status, 201);
    }
    let props = "<d:getetag/><d:getcontentlength/>";
    let light = bob.propfind(DEFAULT, "1", props);
    // Asking for the Schedule-Tag too makes the listing read each object's data.
    let full = bob.propfind(DEFAULT, "1", &format!("{props}<c:schedule-tag/>"));
    assert_eq!(light.status, 207, "{}", light.body);
    let mut bytes = 0;
    for name in ["a.ics", "b.ics"] {
        let get = bob.send("GET", &format!("{DEFAULT}{name}"), &[], b"");
        let of = |body: &str, tag: &str| -> String {
            all(body, "d:response")
                .into_iter()
                .find(|r| r.contains(&format!("/{name}<")))
                .and_then(|r| all(r, tag).first().map(|v| v.to_string()))
                .unwrap_or_default()
        };
        let length = get.body.len().to_string();
        assert_eq!(
            of(&light.body, "d:getcontentlength"),
            length,
            "{}",
            light.body
        );
        assert_eq!(
            of(&full.body, "d:getcontentlength"),
            length,
            "{}",
            full.body
        );
        let etag = of(&light.body, "d:getetag");
        assert_eq!(etag.replace("&quot;", "\""), get.header("etag").unwrap());
        assert_eq!(etag, of(&full.body, "d:getetag"));
        bytes += get.body.len();
    }
    // RFC 4331's quota-used-bytes adds the same lengths up, for the calendar and its home.
    for at in [DEFAULT, HOME] {
        let r = bob.propfind(at, "0", "<d:quota-used-bytes/>");
        assert_eq!(
            all(&r.body, "d:quota-used-bytes"),
            [bytes.to_string()],
            "{}",
            r.body
        );
    }
}
