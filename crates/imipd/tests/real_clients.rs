//! Real clients against the real binary over real sockets: vdirsyncer syncing a calendar and
//! an address book both ways with a local directory, and python-caldav following a
//! calendar by sync-collection while an invitation, its update and its CANCEL arrive by
//! LMTP. Both come from the venv scripts/test.sh makes (see `common::clients`).

mod common;

use common::http::{Reply, request};
use common::itip::Mail;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";
const CALENDAR: &str = "/calendars/bob%40example.org/default/";
const BOOK: &str = "/addressbooks/bob%40example.org/default/";

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
}

fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    request(
        addr,
        Some((BOB, PW)),
        method,
        path,
        headers,
        body.as_bytes(),
    )
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Client//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn card(uid: &str, name: &str, email: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEMAIL:{email}\r\nEND:VCARD\r\n"
    )
}

/// PROPFIND of one DAV: property.
fn propfind(addr: SocketAddr, path: &str, depth: &str, prop: &str) -> Reply {
    let body = format!(
        r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:{prop}/></d:prop></d:propfind>"#
    );
    let r = send(addr, "PROPFIND", path, &[("Depth", depth)], &body);
    assert_eq!(r.status, 207, "{}", r.body);
    r
}

/// The members of a collection: (href, ETag, data), by href.
fn members(addr: SocketAddr, collection: &str) -> Vec<(String, String, String)> {
    let r = propfind(addr, collection, "1", "getetag");
    let mut out: Vec<(String, String, String)> = r
        .body
        .split("<d:href>")
        .skip(1)
        .filter_map(|s| s.split("</d:href>").next())
        .filter(|href| !href.ends_with('/'))
        .map(|href| {
            let got = send(addr, "GET", href, &[], "");
            assert_eq!(got.status, 200, "GET {href}");
            let etag = got.header("etag").unwrap_or_default().to_string();
            (href.to_string(), etag, got.body)
        })
        .collect();
    out.sort();
    out
}

/// The member holding `uid`.
fn member(addr: SocketAddr, collection: &str, uid: &str) -> (String, String, String) {
    members(addr, collection)
        .into_iter()
        .find(|(_, _, data)| data.contains(&format!("UID:{uid}\r\n")))
        .unwrap_or_else(|| panic!("no member with UID {uid} in {collection}"))
}

/// The collection's sync token.
fn token(addr: SocketAddr, collection: &str) -> String {
    let r = propfind(addr, collection, "0", "sync-token");
    let at = r.body.find("<d:sync-token>").expect("a sync token");
    r.body[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// The files of a local vdir: (name, content), by name.
fn local(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn local_file(dir: &Path, uid: &str) -> PathBuf {
    let (name, _) = local(dir)
        .into_iter()
        .find(|(_, data)| data.contains(&format!("UID:{uid}")))
        .unwrap_or_else(|| panic!("no local file with UID {uid} in {}", dir.display()));
    dir.join(name)
}

struct Vdirsyncer {
    bin: PathBuf,
    config: PathBuf,
    cal: PathBuf,
    card: PathBuf,
}

impl Vdirsyncer {
    fn new(venv: &Path, root: &Path, addr: SocketAddr) -> Vdirsyncer {
        let (cal, card) = (root.join("calendar"), root.join("contacts"));
        std::fs::create_dir_all(&cal).unwrap();
        std::fs::create_dir_all(&card).unwrap();
        let config = root.join("config");
        let remote = |kind: &str, path: &str| {
            format!(
                "type = \"{kind}\"\nurl = \"http://{addr}{path}\"\nusername = \"{BOB}\"\npassword = \"{PW}\"\n"
            )
        };
        std::fs::write(
            &config,
            format!(
                "[general]\nstatus_path = \"{status}\"\n\n\
                 [pair calendar]\na = \"calendar_local\"\nb = \"calendar_remote\"\ncollections = null\n\n\
                 [storage calendar_local]\ntype = \"filesystem\"\npath = \"{cal}\"\nfileext = \".ics\"\n\n\
                 [storage calendar_remote]\n{calremote}\n\
                 [pair contacts]\na = \"contacts_local\"\nb = \"contacts_remote\"\ncollections = null\n\n\
                 [storage contacts_local]\ntype = \"filesystem\"\npath = \"{card}\"\nfileext = \".vcf\"\n\n\
                 [storage contacts_remote]\n{cardremote}",
                status = root.join("status").display(),
                cal = cal.display(),
                card = card.display(),
                calremote = remote("caldav", CALENDAR),
                cardremote = remote("carddav", BOOK),
            ),
        )
        .unwrap();
        let v = Vdirsyncer {
            bin: venv.join("bin/vdirsyncer"),
            config,
            cal,
            card,
        };
        v.run("discover");
        v
    }

    /// Runs a vdirsyncer command; returns what it printed.
    fn run(&self, command: &str) -> String {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .expect("run vdirsyncer");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "vdirsyncer {command} failed:\n{text}");
        text
    }

    /// A sync after a sync: nothing to copy, update or delete on either side, and neither
    /// side changes.
    fn sync_changes_nothing(&self, addr: SocketAddr) {
        let before = (
            token(addr, CALENDAR),
            token(addr, BOOK),
            local(&self.cal),
            local(&self.card),
        );
        let text = self.run("sync");
        for action in ["copying", "updating", "deleting"] {
            assert!(
                !text.to_lowercase().contains(action),
                "a second sync is {action}:\n{text}"
            );
        }
        let after = (
            token(addr, CALENDAR),
            token(addr, BOOK),
            local(&self.cal),
            local(&self.card),
        );
        assert_eq!(before, after, "a second sync changed something:\n{text}");
    }
}

#[test]
fn vdirsyncer_syncs_a_calendar_and_an_address_book_both_ways() {
    let Some(venv) = clients::venv() else { return };
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let root = tempfile::tempdir().unwrap();
    let v = Vdirsyncer::new(&venv, root.path(), addr);

    // Created on both sides: an event by HTTP and a contact by the command line on the
    // server, an event and a card as files on the client.
    let r = send(
        addr,
        "PUT",
        &format!("{CALENDAR}server-1.ics"),
        &[("Content-Type", "text/calendar"), ("If-None-Match", "*")],
        &event("server-1", "Made on the server"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    must(
        server.data(),
        &["contacts", "add", BOB, "carol@example.org"],
    );
    std::fs::write(v.cal.join("local-1.ics"), event("local-1", "Made locally")).unwrap();
    std::fs::write(
        v.card.join("local-1.vcf"),
        card("local-1", "Dave Local", "dave@example.org"),
    )
    .unwrap();
    v.run("sync");
    let (_, _, data) = member(addr, CALENDAR, "local-1");
    assert!(data.contains("SUMMARY:Made locally"), "{data}");
    let contacts = must(server.data(), &["contacts", "list", BOB]);
    assert!(contacts.contains("dave@example.org"), "{contacts}");
    let carol = member(addr, BOOK, &card_uid(addr, "carol@example.org"));
    let file = std::fs::read_to_string(local_file(&v.cal, "server-1")).unwrap();
    assert!(file.contains("SUMMARY:Made on the server"), "{file}");
    let file = std::fs::read_to_string(local_file(&v.card, &uid_of(&carol.2))).unwrap();
    assert!(file.contains("carol@example.org"), "{file}");
    v.sync_changes_nothing(addr);

    // Edited on both sides: each side edits what the other made.
    let (href, etag, _) = member(addr, CALENDAR, "local-1");
    let r = send(
        addr,
        "PUT",
        &href,
        &[("Content-Type", "text/calendar"), ("If-Match", &etag)],
        &event("local-1", "Edited on the server"),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let (href, etag, data) = member(addr, BOOK, "local-1");
    let r = send(
        addr,
        "PUT",
        &href,
        &[("Content-Type", "text/vcard"), ("If-Match", &etag)],
        &data.replace("FN:Dave Local", "FN:Dave Edited On The Server"),
    );
    assert!(matches!(r.status, 200 | 204), "{} {}", r.status, r.body);
    std::fs::write(
        local_file(&v.cal, "server-1"),
        event("server-1", "Edited locally"),
    )
    .unwrap();
    let carol_file = local_file(&v.card, &uid_of(&carol.2));
    let text = std::fs::read_to_string(&carol_file).unwrap();
    std::fs::write(
        &carol_file,
        text.replace("carol@example.org", "carol@example.net"),
    )
    .unwrap();
    v.run("sync");
    let (_, _, data) = member(addr, CALENDAR, "server-1");
    assert!(data.contains("SUMMARY:Edited locally"), "{data}");
    let contacts = must(server.data(), &["contacts", "list", BOB]);
    assert!(
        contacts.contains("carol@example.net") && !contacts.contains("carol@example.org"),
        "{contacts}"
    );
    let file = std::fs::read_to_string(local_file(&v.cal, "local-1")).unwrap();
    assert!(file.contains("SUMMARY:Edited on the server"), "{file}");
    let file = std::fs::read_to_string(local_file(&v.card, "local-1")).unwrap();
    assert!(file.contains("FN:Dave Edited On The Server"), "{file}");
    v.sync_changes_nothing(addr);

    // Deleted on both sides: each side deletes what it made.
    let (href, etag, _) = member(addr, CALENDAR, "server-1");
    let r = send(addr, "DELETE", &href, &[("If-Match", &etag)], "");
    assert_eq!(r.status, 204, "{}", r.body);
    must(
        server.data(),
        &["contacts", "del", BOB, "carol@example.net"],
    );
    std::fs::remove_file(local_file(&v.cal, "local-1")).unwrap();
    std::fs::remove_file(local_file(&v.card, "local-1")).unwrap();
    v.run("sync");
    assert_eq!(members(addr, CALENDAR), Vec::new());
    assert_eq!(members(addr, BOOK), Vec::new());
    assert_eq!(local(&v.cal), Vec::new());
    assert_eq!(local(&v.card), Vec::new());
    v.sync_changes_nothing(addr);
}

/// The UID of the card that has `email`.
fn card_uid(addr: SocketAddr, email: &str) -> String {
    let (_, _, data) = members(addr, BOOK)
        .into_iter()
        .find(|(_, _, data)| data.contains(email))
        .unwrap_or_else(|| panic!("no card with {email}"));
    uid_of(&data)
}

fn uid_of(data: &str) -> String {
    data.lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .expect("a UID")
        .trim()
        .to_string()
}

#[test]
fn an_invitation_by_mail_reaches_python_caldav_through_sync_collection() {
    let Some(venv) = clients::venv() else { return };
    let server = Imipd::start(users, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/watch_sync.py");
    let mut client = Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(format!("http://{addr}{CALENDAR}"))
        .args([BOB, PW])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python-caldav");
    let mut input = client.stdin.take().unwrap();
    let mut output = BufReader::new(client.stdout.take().unwrap());
    let mut line = || {
        let mut l = String::new();
        output.read_line(&mut l).unwrap();
        l.trim().to_string()
    };
    assert_eq!(line(), "ready 0");

    let uid = "mailed-1@example.org";
    let mut deliver_and_watch = |mail: Mail<'_>, expect: &str| {
        let mut lmtp = server.connect();
        let (_, replies) = lmtp.deliver("alice@example.org", &[BOB], &mail.bytes());
        assert!(replies[0].starts_with("250"), "{replies:?}");
        lmtp.quit();
        writeln!(input, "{uid} {expect}").unwrap();
        let seen = line();
        assert!(
            seen.starts_with(&format!("seen {uid} {expect}")),
            "python-caldav: {seen}\n{}",
            server.log_text()
        );
    };
    deliver_and_watch(Mail::request(uid), "0 CONFIRMED");
    deliver_and_watch(
        Mail {
            sequence: 1,
            ..Mail::request(uid)
        },
        "1 CONFIRMED",
    );
    // Kept, marked cancelled (the default policy).
    deliver_and_watch(Mail::cancel(uid, 2), "* CANCELLED");
    drop(input);
    assert!(client.wait().unwrap().success());
}
