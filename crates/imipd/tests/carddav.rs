//! CardDAV on the real binary over real sockets: the address book home and its books,
//! GET/PUT/DELETE of vCards with ETags and the RFC 6352 preconditions, the reports, and a
//! card put by a client making its second EMAIL a contact for the next invitation by mail.

mod common;

use common::http::{Reply, request};
use common::itip::Mail;
use common::*;
use std::net::SocketAddr;
use std::path::Path;

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";
const HOME: &str = "/addressbooks/bob@example.org/";
const BOOK: &str = "/addressbooks/bob%40example.org/default/";

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
}

struct Client {
    addr: SocketAddr,
}

impl Client {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.addr, Some((BOB, PW)), method, path, headers, body)
    }

    fn propfind(&self, path: &str, depth: &str, props: &str) -> Reply {
        let body = format!(
            r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>{props}</d:prop></d:propfind>"#
        );
        self.send("PROPFIND", path, &[("Depth", depth)], body.as_bytes())
    }

    fn report(&self, path: &str, body: &str) -> Reply {
        self.send("REPORT", path, &[("Depth", "1")], body.as_bytes())
    }

    fn put(&self, path: &str, vcard: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("Content-Type", "text/vcard; charset=utf-8")];
        h.extend_from_slice(headers);
        self.send("PUT", path, &h, vcard.as_bytes())
    }
}

fn server() -> (Imipd, Client) {
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    (server, Client { addr })
}

fn vcard(uid: &str, name: &str, emails: &[&str]) -> String {
    let mut v = format!("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{name}\r\n");
    for e in emails {
        v.push_str(&format!("EMAIL;TYPE=work:{e}\r\n"));
    }
    v.push_str("END:VCARD\r\n");
    v
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
        BOOK,
        &format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        ),
    )
}

#[test]
fn the_principal_leads_to_the_address_book_home_and_its_books() {
    let (_server, bob) = server();
    let r = bob.propfind(
        "/principals/bob@example.org/",
        "0",
        "<card:addressbook-home-set/>",
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(
        all(&r.body, "d:href").contains(&"/addressbooks/bob%40example.org/"),
        "{}",
        r.body
    );

    let r = bob.propfind(
        HOME,
        "1",
        "<d:resourcetype/><d:displayname/><card:addressbook-description/><cs:getctag/>\
         <d:sync-token/><d:supported-report-set/><card:supported-address-data/>",
    );
    assert_eq!(r.status, 207, "{}", r.body);
    let hrefs = all(&r.body, "d:href");
    assert!(
        hrefs.contains(&"/addressbooks/bob%40example.org/"),
        "{}",
        r.body
    );
    assert!(
        hrefs.contains(&"/addressbooks/bob%40example.org/default/"),
        "{}",
        r.body
    );
    assert!(r.body.contains("addressbook/>"), "{}", r.body);
    assert!(r.body.contains("addressbook-multiget"), "{}", r.body);
    assert!(r.body.contains("addressbook-query"), "{}", r.body);
    assert!(r.body.contains(r#"version="4.0""#), "{}", r.body);
    let ctag = all(&r.body, "cs:getctag");
    assert_eq!(ctag.len(), 1, "{}", r.body);
    assert!(ctag[0].starts_with("urn:imipd:sync:"), "{}", r.body);

    let r = bob.send(
        "PROPPATCH",
        BOOK,
        &[],
        br#"<d:propertyupdate xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:displayname>Friends</d:displayname><card:addressbook-description>People I know</card:addressbook-description></d:prop></d:set></d:propertyupdate>"#,
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("200 OK"), "{}", r.body);
    let r = bob.propfind(BOOK, "0", "<d:displayname/><card:addressbook-description/>");
    assert!(
        r.body.contains("<d:displayname>Friends</d:displayname>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("People I know"), "{}", r.body);

    let r = bob.send(
        "PROPPATCH",
        BOOK,
        &[],
        br#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Other</d:displayname><d:getetag>"1"</d:getetag></d:prop></d:set></d:propertyupdate>"#,
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("403"), "{}", r.body);
    assert!(r.body.contains("424"), "all or nothing: {}", r.body);
    let r = bob.propfind(BOOK, "0", "<d:displayname/>");
    assert!(r.body.contains("Friends"), "unchanged: {}", r.body);
}

#[test]
fn cards_with_etags_and_preconditions() {
    let (_server, bob) = server();
    let path = format!("{BOOK}al.vcf");
    let card = vcard("al-1", "Al", &["al@example.org"]);
    let r = bob.put(&path, &card, &[("If-None-Match", "*")]);
    assert_eq!(r.status, 201, "{}", r.body);
    let tag = r.header("etag").unwrap().to_string();
    assert!(tag.starts_with('"'), "a strong ETag: {tag}");

    let r = bob.send("GET", &path, &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, card, "stored as sent");
    assert_eq!(r.header("etag"), Some(tag.as_str()));
    assert!(r.header("content-type").unwrap().starts_with("text/vcard"));
    // RFC 4331's quota-used-bytes: the one card, in its book and in the home.
    for at in [BOOK, HOME] {
        let r = bob.propfind(at, "0", "<d:quota-used-bytes/>");
        let used = all(&r.body, "d:quota-used-bytes");
        assert_eq!(used, [card.len().to_string()], "{}", r.body);
    }
    let r = bob.send("HEAD", &path, &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(card.len().to_string().as_str())
    );

    let r = bob.put(&path, &card, &[("If-None-Match", "*")]);
    assert_eq!(r.status, 412, "{}", r.body);
    let r = bob.put(&path, &card, &[("If-Match", "\"999\"")]);
    assert_eq!(r.status, 412, "{}", r.body);
    let edited = vcard("al-1", "Al Example", &["al@example.org"]);
    let r = bob.put(&path, &edited, &[("If-Match", &tag)]);
    assert_eq!(r.status, 204, "{}", r.body);
    let new_tag = r.header("etag").unwrap().to_string();
    assert_ne!(new_tag, tag);

    let r = bob.put(&path, &vcard("al-2", "Al", &["al@example.org"]), &[]);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("no-uid-conflict"), "{}", r.body);
    let r = bob.put(&format!("{BOOK}twin.vcf"), &edited, &[]);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("no-uid-conflict"), "{}", r.body);
    assert!(r.body.contains("al.vcf"), "names the holder: {}", r.body);

    let r = bob.send(
        "PUT",
        &path,
        &[("Content-Type", "text/calendar")],
        card.as_bytes(),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("supported-address-data"), "{}", r.body);
    let r = bob.put("/addressbooks/bob%40example.org/nobook/x.vcf", &card, &[]);
    assert_eq!(r.status, 409, "{}", r.body);
    let r = bob.put(
        "/addressbooks/alice%40example.org/default/x.vcf",
        &card,
        &[],
    );
    assert_eq!(r.status, 409, "another user's book is nothing: {}", r.body);

    let r = bob.send("DELETE", &path, &[("If-Match", &tag)], b"");
    assert_eq!(r.status, 412, "{}", r.body);
    let r = bob.send("DELETE", &path, &[("If-Match", &new_tag)], b"");
    assert_eq!(r.status, 204, "{}", r.body);
    let r = bob.send("GET", &path, &[], b"");
    assert_eq!(r.status, 404);
    let r = bob.send("DELETE", &path, &[], b"");
    assert_eq!(r.status, 404);
}

#[test]
fn reports_multiget_query_and_sync() {
    let (_server, bob) = server();
    let initial = sync(&bob, "");
    assert_eq!(initial.status, 207, "{}", initial.body);
    let token = all(&initial.body, "d:sync-token")[0].to_string();
    for (href, uid, name, email) in [
        ("al.vcf", "al-1", "Al Example", "al@example.org"),
        ("kim.vcf", "kim-1", "Kim Other", "kim@other.example"),
    ] {
        let r = bob.put(&format!("{BOOK}{href}"), &vcard(uid, name, &[email]), &[]);
        assert_eq!(r.status, 201, "{}", r.body);
    }

    let r = bob.report(
        BOOK,
        &format!(
            r#"<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><d:href>{BOOK}al.vcf</d:href><d:href>{BOOK}gone.vcf</d:href></card:addressbook-multiget>"#
        ),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("FN:Al Example"), "{}", r.body);
    assert!(!r.body.contains("Kim"), "{}", r.body);
    assert!(r.body.contains("404"), "{}", r.body);

    let r = bob.report(
        BOOK,
        r#"<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data><card:prop name="FN"/></card:address-data></d:prop><card:filter><card:prop-filter name="EMAIL"><card:text-match match-type="ends-with">@other.example</card:text-match></card:prop-filter></card:filter></card:addressbook-query>"#,
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("kim.vcf"), "{}", r.body);
    assert!(!r.body.contains("al.vcf"), "{}", r.body);
    assert!(r.body.contains("FN:Kim Other"), "{}", r.body);
    assert!(
        !r.body.contains("EMAIL"),
        "only the FN asked for: {}",
        r.body
    );

    let r = sync(&bob, &token);
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(
        r.body.contains("al.vcf") && r.body.contains("kim.vcf"),
        "{}",
        r.body
    );
    let token = all(&r.body, "d:sync-token")[0].to_string();
    let kim = bob.send("GET", &format!("{BOOK}kim.vcf"), &[], b"");
    let r = bob.send("DELETE", &format!("{BOOK}kim.vcf"), &[], b"");
    assert_eq!(r.status, 204);
    let r = sync(&bob, &token);
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(
        r.body.contains("kim.vcf") && r.body.contains("404"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("al.vcf"), "only the delta: {}", r.body);
    assert!(!r.body.contains(kim.header("etag").unwrap()), "{}", r.body);

    let r = sync(&bob, "urn:imipd:sync:999999");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("valid-sync-token"), "{}", r.body);
    let r = bob.report(
        HOME,
        r#"<card:addressbook-query xmlns:card="urn:ietf:params:xml:ns:carddav"><card:filter/></card:addressbook-query>"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("supported-report"), "{}", r.body);
}

fn deliver(server: &Imipd, mail: &Mail) -> String {
    let before = messages(&server.maildir(BOB), "").len();
    let (_, data) = server.connect().deliver(mail.from, &[BOB], &mail.bytes());
    assert!(data[0].starts_with("250"), "{data:?}");
    let all = messages(&server.maildir(BOB), "");
    assert_eq!(all.len(), before + 1, "one new message in INBOX");
    header_values(all.last().unwrap(), "X-Imipd-Cal-Outcome").join(" | ")
}

#[test]
fn a_card_put_by_a_client_makes_its_second_email_a_contact_and_a_malformed_one_changes_nothing() {
    let (server, bob) = server();
    let from_kate = |uid| Mail {
        from: "kate@example.org",
        ..Mail::request(uid)
    };
    let before = deliver(&server, &from_kate("before-card@example.org"));
    assert!(
        before.starts_with("no_action"),
        "a stranger first: {before}"
    );

    let ctag = |bob: &Client| {
        all(&bob.propfind(BOOK, "0", "<cs:getctag/>").body, "cs:getctag")[0].to_string()
    };
    let broken = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:mallory-1\r\nFN:Mallory\r\n\
                  EMAIL:mallory@example.org\r\n";
    let unchanged = ctag(&bob);
    let r = bob.put(&format!("{BOOK}mallory.vcf"), broken, &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("valid-address-data"), "{}", r.body);
    assert!(
        r.body.contains("END:VCARD"),
        "says what is wrong: {}",
        r.body
    );
    assert_eq!(ctag(&bob), unchanged, "nothing written");
    assert_eq!(
        bob.send("GET", &format!("{BOOK}mallory.vcf"), &[], b"")
            .status,
        404
    );
    let mallory = Mail {
        from: "mallory@example.org",
        ..Mail::request("from-mallory@example.org")
    };
    let outcome = deliver(&server, &mallory);
    assert!(outcome.starts_with("no_action"), "{outcome}");

    let card = vcard(
        "kate-1",
        "Kate Smith",
        &["kate.work@other.example", "kate@example.org"],
    );
    let r = bob.put(&format!("{BOOK}kate.vcf"), &card, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    let after = deliver(&server, &from_kate("after-card@example.org"));
    assert!(after.starts_with("added"), "{after}");
}

#[test]
fn address_books_made_by_mkcol_and_deleted_but_not_the_default() {
    let (_server, bob) = server();
    let work = "/addressbooks/bob%40example.org/work/";
    let r = bob.send(
        "MKCOL",
        work,
        &[],
        br#"<d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>Work</d:displayname></d:prop></d:set></d:mkcol>"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = bob.propfind(HOME, "1", "<d:displayname/>");
    assert!(all(&r.body, "d:href").contains(&work), "{}", r.body);
    assert!(
        r.body.contains("<d:displayname>Work</d:displayname>"),
        "{}",
        r.body
    );
    let r = bob.send("MKCOL", work, &[], b"");
    assert_eq!(r.status, 405, "{}", r.body);
    let r = bob.send(
        "MKCOL",
        "/addressbooks/bob%40example.org/cal/",
        &[],
        br#"<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop></d:set></d:mkcol>"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("valid-resourcetype"), "{}", r.body);

    let r = bob.put(
        &format!("{work}al.vcf"),
        &vcard("al-1", "Al", &["al@example.org"]),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = bob.send("DELETE", BOOK, &[], b"");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("need-privileges"), "{}", r.body);
    let r = bob.send("DELETE", work, &[], b"");
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        bob.send("GET", &format!("{work}al.vcf"), &[], b"").status,
        404
    );
    assert_eq!(bob.propfind(work, "0", "<d:displayname/>").status, 404);
}

/// The number of `<d:response>` elements of a multistatus.
fn responses(body: &str) -> usize {
    body.matches("<d:response>").count()
}

#[test]
fn addressbook_query_with_a_limit_answers_507_for_the_rest() {
    let (_server, bob) = server();
    for n in 0..3 {
        let r = bob.put(
            &format!("{BOOK}c{n}.vcf"),
            &vcard(
                &format!("c{n}"),
                &format!("Card {n}"),
                &[&format!("c{n}@x.example")],
            ),
            &[],
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let query = |limit: &str| {
        bob.report(
            BOOK,
            &format!(
                r#"<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><card:filter><card:prop-filter name="EMAIL"><card:text-match match-type="ends-with">@x.example</card:text-match></card:prop-filter></card:filter>{limit}</card:addressbook-query>"#
            ),
        )
    };
    // (limit element, cards answered, whether the book gets a 507)
    let cases = [
        (
            "<card:limit><card:nresults>2</card:nresults></card:limit>",
            2,
            true,
        ),
        (
            "<card:limit><card:nresults>3</card:nresults></card:limit>",
            3,
            false,
        ),
        (
            "<card:limit><card:nresults>5</card:nresults></card:limit>",
            3,
            false,
        ),
        ("", 3, false),
    ];
    for (limit, cards, truncated) in cases {
        let r = query(limit);
        assert_eq!(r.status, 207, "{limit}: {}", r.body);
        assert_eq!(
            r.body.matches(".vcf</d:href>").count(),
            cards,
            "{limit}: {}",
            r.body
        );
        let book_507 = format!(
            "<d:href>{BOOK}</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status><d:error><d:number-of-matches-within-limits/></d:error>"
        );
        assert_eq!(r.body.contains(&book_507), truncated, "{limit}: {}", r.body);
        assert_eq!(
            responses(&r.body),
            cards + usize::from(truncated),
            "{}",
            r.body
        );
    }
}

#[test]
fn address_books_answer_get_with_405_and_name_their_privileges() {
    let (_server, bob) = server();
    common::http::assert_get_refused(&[BOOK, HOME], |method, path| {
        bob.send(method, path, &[], b"")
    });
    for path in [BOOK, HOME, "/principals/bob@example.org/"] {
        let r = bob.propfind(path, "0", "<d:current-user-privilege-set/>");
        assert_eq!(r.status, 207, "{path}: {}", r.body);
        let set = all(&r.body, "d:current-user-privilege-set");
        assert_eq!(set.len(), 1, "{path}: {}", r.body);
        for privilege in [
            "<d:read/>",
            "<d:write/>",
            "<d:read-current-user-privilege-set/>",
        ] {
            assert!(
                set[0].contains(privilege),
                "{path}: {privilege} in {}",
                set[0]
            );
        }
        assert!(!r.body.contains("404 Not Found"), "{path}: {}", r.body);
    }
    // MKCOL below an address book names the address book home, not calendars.
    let r = bob.send("MKCOL", &format!("{BOOK}sub/"), &[], b"");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("addressbook-collection-location-ok")
            && r.body.contains("address book home"),
        "{}",
        r.body
    );
}
