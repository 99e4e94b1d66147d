//! Stage 3 end to end: LMTP in → durable job → worker → calendar, with the process killed
//! mid-stream, repeated deliveries, and pages told about changes as they happen, whichever
//! process makes them.

mod common;

use common::itip::Mail;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

const BOB: &str = "bob@example.org";

fn bob(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", "s3cret pass"]);
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
}

fn event_count(dir: &Path, uid_prefix: &str) -> usize {
    must(dir, &["events", "list", BOB])
        .lines()
        .filter(|l| l.contains(uid_prefix))
        .count()
}

fn jobs(dir: &Path) -> String {
    must(dir, &["jobs", "list", "--limit", "1000"])
}

#[test]
fn killed_mid_stream_every_invitation_applies_exactly_once() {
    let mut server = Imipd::start(bob, &[]);
    let mut lmtp = server.connect();
    let n = 30;
    for i in 0..n {
        let uid = format!("k-{i}@example.org");
        let (_, data) = lmtp.deliver("alice@example.org", &[BOB], &Mail::request(&uid).bytes());
        assert!(data[0].starts_with("250"), "{data:?}");
    }
    // Every 250 was given: whatever the worker had done, the jobs are on disk.
    server.kill9();
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    let restarted = Imipd::start_in(dir, &[]);
    let data = restarted.data();
    // The killed server's node is known to be gone at once: its process no longer runs.
    let store = imipd_store::SqliteStore::open(data.join("imipd.sqlite3")).unwrap();
    let nodes: Vec<u32> = imipd_store::Store::nodes(&store)
        .unwrap()
        .into_iter()
        .map(|n| n.node.pid)
        .collect();
    assert_eq!(nodes, [restarted.child.id()]);
    eventually(30, "all jobs done", || {
        let list = jobs(data);
        (list.matches(" done ").count() == n).then_some(())
    });
    assert_eq!(
        event_count(data, "k-"),
        n,
        "{}",
        must(data, &["events", "list", BOB])
    );
    let list = jobs(data);
    assert!(!list.contains("dead"), "{list}");
}

#[test]
fn a_repeated_delivery_is_applied_once() {
    let server = Imipd::start(bob, &[]);
    let invite = Mail::request("dup@example.org").bytes();
    for _ in 0..3 {
        let (_, data) = server
            .connect()
            .deliver("alice@example.org", &[BOB], &invite);
        assert!(data[0].starts_with("250"), "{data:?}");
    }
    eventually(20, "the event", || {
        (event_count(server.data(), "dup@") == 1).then_some(())
    });
    let list = jobs(server.data());
    assert_eq!(
        list.lines()
            .filter(|l| l.contains("dup@example.org"))
            .count(),
        1,
        "{list}"
    );
    // Three copies of the mail, one calendar entry.
    assert_eq!(messages(&server.maildir(BOB), "").len(), 3);
}

#[test]
fn a_flood_from_one_sender_is_capped() {
    let server = Imipd::start(bob, &[("IMIPD_MAX_PER_SENDER_PER_HOUR", "5")]);
    let mut lmtp = server.connect();
    for i in 0..12 {
        let uid = format!("flood-{i}@example.org");
        lmtp.deliver("alice@example.org", &[BOB], &Mail::request(&uid).bytes());
    }
    eventually(30, "the queue to drain", || {
        let list = jobs(server.data());
        (list.matches(" done ").count() == 12).then_some(())
    });
    assert_eq!(event_count(server.data(), "flood-"), 5);
    assert!(jobs(server.data()).contains("rate limit"));
}

#[test]
fn a_running_server_is_a_node_until_it_stops() {
    let mut server = Imipd::start(bob, &[]);
    let store = imipd_store::SqliteStore::open(server.data().join("imipd.sqlite3")).unwrap();
    let nodes = imipd_store::Store::nodes(&store).unwrap();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    let node = &nodes[0].node;
    assert_eq!(
        (node.host.as_str(), node.pid, node.id.len()),
        ("mx.test", server.child.id(), 32)
    );
    // SAFETY: kill(2) sends SIGTERM to the child this test started.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", server.log_text());
    assert!(
        imipd_store::Store::nodes(&store).unwrap().is_empty(),
        "a server that stops leaves the node list"
    );
}

fn http_addr(server: &Imipd) -> std::net::SocketAddr {
    wait_for_listen(&server.log, "http listening on")
}

#[test]
fn open_pages_hear_about_changes_at_once() {
    let server = Imipd::start(bob, &[]);
    let addr = http_addr(&server);
    let mut denied = TcpStream::connect(addr).unwrap();
    denied
        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Ym9iQGV4YW1wbGUub3JnOndyb25n\r\n\r\n")
        .unwrap();
    let mut status = String::new();
    BufReader::new(denied).read_line(&mut status).unwrap();
    assert!(status.contains("401"), "{status}");

    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // bob@example.org:s3cret pass
    (&stream)
        .write_all(
            b"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Ym9iQGV4YW1wbGUub3JnOnMzY3JldCBwYXNz\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("200"), "{line}");
    while line.trim() != ": changes to the calendars of bob@example.org" {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0);
    }
    server.connect().deliver(
        "alice@example.org",
        &[BOB],
        &Mail::request("push@example.org").bytes(),
    );
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        if line.starts_with("data:") && line.contains("push@example.org") {
            assert!(line.contains("\"calendar\":\"default\""), "{line}");
            break;
        }
    }
}

/// Opens `GET /events` as Bob (with `Last-Event-ID` when given) and reads up to the
/// stream's opening comment.
fn open_stream(addr: std::net::SocketAddr, last_event_id: Option<i64>) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let resume = last_event_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    // bob@example.org:s3cret pass
    (&stream)
        .write_all(
            format!(
                "GET /events HTTP/1.1\r\nHost: x\r\n{resume}Authorization: Basic \
                 Ym9iQGV4YW1wbGUub3JnOnMzY3JldCBwYXNz\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("200"), "{line}");
    while line.trim() != ": changes to the calendars of bob@example.org" {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
    }
    reader
}

/// Reads events until one whose data names `uid`; returns its id, type and data.
fn next_event_about(reader: &mut BufReader<TcpStream>, uid: &str) -> (i64, String, String) {
    let (mut id, mut kind) = (None, String::new());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        let line = line.trim_end();
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.parse().ok();
        } else if let Some(v) = line.strip_prefix("event: ") {
            kind = v.to_string();
        } else if let Some(data) = line.strip_prefix("data: ")
            && data.contains(uid)
        {
            return (id.expect("an id before the data"), kind, data.to_string());
        } else if line.is_empty() {
            id = None;
        }
    }
}

#[test]
fn an_answer_given_on_the_command_line_reaches_an_open_page() {
    let server = Imipd::start(bob, &[]);
    let uid = "cli-push@example.org";
    server
        .connect()
        .deliver("alice@example.org", &[BOB], &Mail::request(uid).bytes());
    settled(&server);
    let store = imipd_store::SqliteStore::open(server.data().join("imipd.sqlite3")).unwrap();
    let before = imipd_store::Store::feed_head(&store).unwrap();
    let mut page = open_stream(http_addr(&server), None);
    // Another process: the answer is written by the command line, not by the server.
    let out = must(server.data(), &["events", "rsvp", BOB, uid, "accepted"]);
    assert!(out.contains("reply queued"), "{out}");
    let (id, kind, data) = next_event_about(&mut page, uid);
    assert!(
        id > before,
        "the answer's change ({id}), not the delivery's (up to {before})"
    );
    assert_eq!(kind, "calendar");
    let href = format!("\"href\":\"{uid}.ics\"");
    assert!(
        data.contains("\"calendar\":\"default\"") && data.contains(&href),
        "{data}"
    );
    // A page that reconnects from before the answer is sent it again.
    let mut again = open_stream(http_addr(&server), Some(before));
    assert_eq!(next_event_about(&mut again, uid), (id, kind, data));
}

/// The server reads the change feed only while a page listens: after the last page closes
/// and changes go by unheard, the next page still hears what happens once it is open.
#[test]
fn a_page_opened_after_the_last_one_closed_still_hears_changes() {
    let server = Imipd::start(bob, &[]);
    let addr = http_addr(&server);
    let mut first = open_stream(addr, None);
    let mut delivery = server.connect();
    delivery.deliver(
        "alice@example.org",
        &[BOB],
        &Mail::request("heard@example.org").bytes(),
    );
    next_event_about(&mut first, "heard@example.org");
    drop(first);
    delivery.deliver(
        "alice@example.org",
        &[BOB],
        &Mail::request("unheard@example.org").bytes(),
    );
    settled(&server);
    let mut second = open_stream(addr, None);
    delivery.deliver(
        "alice@example.org",
        &[BOB],
        &Mail::request("later@example.org").bytes(),
    );
    let (_, kind, data) = next_event_about(&mut second, "later@example.org");
    assert_eq!(kind, "calendar", "{data}");
}

#[test]
fn a_large_invitation_is_queued_as_its_calendar_part() {
    let server = Imipd::start(bob, &[]);
    let invite = String::from_utf8(Mail::request("big@example.org").bytes()).unwrap();
    let padding = "x".repeat(76) + "\r\n";
    let big = invite.replacen(
        "See the invitation.\r\n",
        &format!("See the invitation.\r\n{}", padding.repeat(30_000)),
        1,
    );
    assert!(big.len() > 2_000_000);
    let (_, data) = server
        .connect()
        .deliver("alice@example.org", &[BOB], big.as_bytes());
    assert!(data[0].starts_with("250"), "{data:?}");
    eventually(20, "the event", || {
        (event_count(server.data(), "big@") == 1).then_some(())
    });
    let show = must(server.data(), &["jobs", "show", "1"]);
    let size: usize = show
        .lines()
        .find_map(|l| l.strip_prefix("message:"))
        .and_then(|v| v.trim().split(' ').next()?.parse().ok())
        .expect("message size in jobs show");
    assert!(size < 10_000, "the job keeps {size} bytes:\n{show}");
    // The mail itself is delivered whole.
    assert!(messages(&server.maildir(BOB), "")[0].len() > 2_000_000);
}
