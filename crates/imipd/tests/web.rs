//! The web page over real HTTP: a real imipd, signed in with a form and a session cookie as
//! a browser is, its pages read as HTML.

mod common;
#[allow(dead_code)]
#[path = "../../worker/tests/common/smtp_sink.rs"]
mod smtp_sink;

use common::http::{Reply, request};
use common::itip::Mail;
use common::*;
use smtp_sink::{Mode, SmtpSink};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const BOB: &str = "bob@example.org";
const PASSWORD: &str = "correct horse battery";

/// A signed-in browser: its session cookie and the session's form token.
struct Browser {
    http: SocketAddr,
    cookie: String,
    csrf: String,
}

impl Browser {
    fn sign_in(http: SocketAddr) -> Browser {
        let form = format!("login={}&password={}", enc(BOB), enc(PASSWORD));
        let r = request(
            http,
            None,
            "POST",
            "/web/signin",
            &[
                ("Origin", "http://test"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        );
        assert_eq!(r.status, 303, "sign-in: {}", r.body);
        let cookie = r
            .header("Set-Cookie")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string();
        let mut browser = Browser {
            http,
            cookie,
            csrf: String::new(),
        };
        let page = browser.get("/web/settings");
        browser.csrf = between(&page, "name=\"csrf\" value=\"", "\"")
            .expect("a form token")
            .to_string();
        browser
    }

    fn get(&self, path: &str) -> String {
        let r = request(
            self.http,
            None,
            "GET",
            path,
            &[("Cookie", &self.cookie)],
            b"",
        );
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.body
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut form = format!("csrf={}", enc(&self.csrf));
        for (k, v) in fields {
            form.push_str(&format!("&{k}={}", enc(v)));
        }
        request(
            self.http,
            None,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Origin", "http://test"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
    }

    fn set_zone(&self, zone: &str) -> Reply {
        self.post(
            "/web/settings/prefs",
            &[
                ("add_invitations", "contacts"),
                ("apply_updates", "on"),
                ("time_zone", zone),
            ],
        )
    }
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The HTML of one day of the calendar page (`<li id="day-DATE" …>` to its end).
fn day<'a>(page: &'a str, date: &str) -> &'a str {
    let from = page
        .find(&format!("id=\"day-{date}\""))
        .unwrap_or_else(|| panic!("no day {date} on the page: {page}"));
    let rest = &page[from..];
    let to = rest[1..].find("id=\"day-").map_or(rest.len(), |i| i + 1);
    &rest[..to]
}

fn start() -> (Imipd, SocketAddr) {
    let server = Imipd::start(
        |dir| {
            must(dir, &["user", "add", BOB, "--password", PASSWORD]);
            must(dir, &["contacts", "add", BOB, "alice@example.org"]);
        },
        &[],
    );
    let http = wait_for_listen(&server.log, "http listening on");
    (server, http)
}

fn deliver(server: &Imipd, mail: &[u8]) {
    let (_, replies) = server.connect().deliver("mailer@example.org", &[BOB], mail);
    assert!(replies[0].starts_with("250"), "LMTP: {replies:?}");
}

#[test]
fn times_are_shown_in_the_users_time_zone() {
    let (server, http) = start();
    // 2030-01-05 10:00–11:00 UTC.
    deliver(&server, &Mail::request("zone@example.org").bytes());
    settled(&server);
    let browser = Browser::sign_in(http);

    // Unset, the zone is UTC.
    let invitations = browser.get("/web/");
    assert!(
        invitations.contains("Sat 2030-01-05 10:00–11:00 UTC"),
        "{invitations}"
    );
    assert!(
        !invitations.contains("name=\"instance\""),
        "an event that does not recur has no instance to answer alone: {invitations}"
    );

    // A name chrono-tz does not know is refused, naming it, and nothing changes.
    let refused = browser.set_zone("Mars/Olympus");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("time_zone cannot be &quot;Mars/Olympus&quot;")
            || refused
                .body
                .contains("time_zone cannot be &#34;Mars/Olympus&#34;"),
        "{}",
        refused.body
    );
    assert!(!must(server.data(), &["prefs", "show", BOB]).contains("Mars"));

    // Set on the page, the command line reads it; the pages show Berlin's times.
    let saved = browser.set_zone("Europe/Berlin");
    assert_eq!(saved.status, 303, "{}", saved.body);
    let shown = must(server.data(), &["prefs", "show", BOB]);
    assert!(shown.contains("time_zone = Europe/Berlin"), "{shown}");
    let invitations = browser.get("/web/");
    assert!(
        invitations.contains("Sat 2030-01-05 11:00–12:00 Europe/Berlin"),
        "{invitations}"
    );
    let week = browser.get("/web/calendar?date=2030-01-05");
    assert!(day(&week, "2030-01-05").contains("11:00–12:00"), "{week}");
    assert!(week.contains("Times in Europe/Berlin"), "{week}");
    let log = browser.get("/web/log");
    assert!(log.contains(" Europe/Berlin · from "), "{log}");

    // Set by the command line: 10:00 UTC is midnight of the next day at UTC+14, and the
    // week and the month put the event there.
    let (code, _, err) = cli(
        server.data(),
        &["prefs", "set", BOB, "time_zone=Nowhere/Else"],
    );
    assert!(code != 0 && err.contains("\"Nowhere/Else\""), "{err}");
    must(
        server.data(),
        &["prefs", "set", BOB, "time_zone=Pacific/Kiritimati"],
    );
    for view in ["week", "month"] {
        let page = browser.get(&format!("/web/calendar?view={view}&date=2030-01-05"));
        assert!(!day(&page, "2030-01-05").contains("Planning 0"), "{page}");
        let next = day(&page, "2030-01-06");
        assert!(
            next.contains("Planning 0") && next.contains("00:00–01:00"),
            "{view}: {page}"
        );
    }
    let invitations = browser.get("/web/");
    assert!(
        invitations.contains("Sun 2030-01-06 00:00–01:00 Pacific/Kiritimati"),
        "{invitations}"
    );
}

/// Reads the open stream until `want` has come; the read timeout only ends a failing test.
fn read_until(stream: &mut TcpStream, want: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(want) {
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "the stream ended before {want:?}: {}",
                String::from_utf8_lossy(&seen)
            ),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no {want:?} on the stream ({e}): {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn a_kept_invitation_reaches_an_open_page_from_the_job_feed() {
    let (server, http) = start();
    let browser = Browser::sign_in(http);
    let mut live = TcpStream::connect(http).unwrap();
    live.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        live,
        "GET /web/live HTTP/1.1\r\nHost: test\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        browser.cookie
    )
    .unwrap();
    read_until(&mut live, "text/event-stream");

    // A contact's invitation is added: once the stream tells of it, it follows the feeds.
    deliver(&server, &Mail::request("added@example.org").bytes());
    read_until(&mut live, "event: change");

    // A stranger's invitation changes no calendar: it is kept for the user to add, and
    // the job feed tells the page.
    let stranger = Mail {
        from: "stranger@example.org",
        ..Mail::request("kept@example.org")
    };
    deliver(&server, &stranger.bytes());
    let jobs = settled(&server);
    let kept = jobs
        .lines()
        .find(|l| l.contains("uid=kept@example.org"))
        .unwrap_or_else(|| panic!("no job for the kept invitation: {jobs}"));
    assert!(nothing_applied(kept), "{kept}");
    let job = kept.split_whitespace().next().unwrap();
    read_until(&mut live, &format!("data: job {job}\n"));
    let page = browser.get("/web/");
    assert!(
        page.contains("Planning 0") && page.contains("Add to calendar"),
        "{page}"
    );
}

/// Text as the pages escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[test]
fn the_log_offers_the_manual_add_and_records_it_as_jobs_show_does() {
    let (server, http) = start();
    let stranger = Mail {
        from: "stranger@example.org",
        ..Mail::request("by-hand@example.org")
    };
    deliver(&server, &stranger.bytes());
    let jobs = settled(&server);
    assert!(nothing_applied(&jobs), "{jobs}");
    let job = jobs.split_whitespace().next().unwrap().to_string();
    let browser = Browser::sign_in(http);

    let log = browser.get("/web/log");
    let form = format!("name=\"job\" value=\"{job}\"");
    assert!(
        log.contains(&form) && log.contains("Add to calendar"),
        "{log}"
    );
    assert!(!log.contains("Show the event in the calendar"), "{log}");
    assert!(!log.contains("applied by hand"), "{log}");

    let applied = browser.post("/web/apply", &[("job", &job), ("back", "log")]);
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert_eq!(
        applied.header("Location"),
        Some("/web/log?done=applied-log")
    );
    let events = must(server.data(), &["events", "list", BOB]);
    assert!(events.contains("by-hand@example.org"), "{events}");

    // The command line and the page show the same second entry.
    let shown = must(server.data(), &["jobs", "show", &job]);
    let line = shown
        .lines()
        .find(|l| l.starts_with("by hand:"))
        .unwrap_or_else(|| panic!("no by-hand entry: {shown}"));
    let entry = &line[line.find("applied by hand:").expect("the entry's words")..];
    assert!(entry.starts_with("applied by hand: added;"), "{entry}");
    let log = browser.get("/web/log?done=applied-log");
    assert!(log.contains("what was applied by hand"), "{log}");
    assert!(log.contains(&escaped(entry)), "{entry:?} not in {log}");
    assert!(
        log.contains("href=\"/web/calendar?date=2030-01-05#day-2030-01-05\""),
        "{log}"
    );
    assert!(!log.contains(&form), "added: nothing left to do: {log}");
}

/// A weekly series of three from a contact, 2030-01-05 10:00 UTC on.
fn weekly(uid: &str) -> Vec<u8> {
    String::from_utf8(Mail::request(uid).bytes())
        .unwrap()
        .replace(
            "DTEND:20300105T110000Z\r\n",
            "DTEND:20300105T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n",
        )
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_of_a_series_is_answered_from_its_card() {
    let sink = SmtpSink::start(Mode::Up).await;
    let dir = tempfile::tempdir().unwrap();
    let config = relay_config(dir.path(), sink.addr.port());
    let env = [("IMIPD_CONFIG", config.as_str())];
    for args in [
        &["user", "add", BOB, "--password", PASSWORD][..],
        &["contacts", "add", BOB, "alice@example.org"],
    ] {
        let (code, _, err) = cli_env(dir.path(), args, &env);
        assert_eq!(code, 0, "imipd {args:?}: {err}");
    }
    let server = Imipd::start_in(dir, &env);
    let http = wait_for_listen(&server.log, "http listening on");
    deliver(&server, &weekly("series@example.org"));
    settled(&server);
    let browser = Browser::sign_in(http);

    // The card shows the series' next instance, and can answer it alone.
    let page = browser.get("/web/");
    let instance = between(&page, "name=\"instance\" value=\"", "\"")
        .unwrap_or_else(|| panic!("no instance to answer alone: {page}"))
        .to_string();
    assert_eq!(instance, "20300105T100000Z");
    let answered = browser.post(
        "/web/rsvp",
        &[
            ("uid", "series@example.org"),
            ("answer", "declined"),
            ("instance", &instance),
        ],
    );
    assert_eq!(answered.status, 303, "{}", answered.body);

    // The REPLY names the instance, and declines it alone.
    let mail = eventually(20, "the REPLY at the SMTP sink", || {
        sink.received()
            .into_iter()
            .find(|m| String::from_utf8_lossy(&m.data).contains("METHOD:REPLY"))
    });
    let text = String::from_utf8_lossy(&mail.data).replace("\r\n ", "");
    assert!(
        text.lines().any(|l| l == "RECURRENCE-ID:20300105T100000Z"),
        "{text}"
    );
    let attendee = text
        .lines()
        .find(|l| l.starts_with("ATTENDEE") && l.ends_with(":mailto:bob@example.org"))
        .unwrap_or_else(|| panic!("no ATTENDEE line for Bob: {text}"));
    assert!(attendee.contains("PARTSTAT=DECLINED"), "{attendee}");
    assert_eq!(mail.rcpt_to, ["alice@example.org"]);

    // The card, showing that instance, shows the answer the calendar now holds for it.
    let page = browser.get("/web/");
    assert!(
        page.contains("<dt>Your answer</dt><dd>declined</dd>"),
        "{page}"
    );
}
