//! Scheduling over CalDAV (RFC 6638) on the real binary: a client's PUT or DELETE becomes
//! the iMIP mail the command line would send, at a real SMTP sink.

mod common;
// The relay stand-in the worker crate tests with; only some of its modes are used here.
#[allow(dead_code)]
#[path = "../../worker/tests/common/smtp_sink.rs"]
mod smtp_sink;

use common::http::{Reply, request};
use common::itip::Mail;
use common::*;
use smtp_sink::{Mode, Received, SmtpSink};
use std::net::SocketAddr;

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";
const DEFAULT: &str = "/calendars/bob@example.org/default/";

struct Setup {
    server: Imipd,
    http: SocketAddr,
    config: String,
}

/// bob (alias robert) with alice as a contact, the outbox relaying to `sink`.
fn setup(sink: &SmtpSink) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = relay_config(dir.path(), sink.addr.port());
    setup_in(dir, config)
}

/// The same with no relay configured at all (no `[smtp]` section).
fn setup_without_relay() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("imipd.toml");
    std::fs::write(&config, "").unwrap();
    let config = config.to_str().unwrap().to_string();
    setup_in(dir, config)
}

fn setup_in(dir: tempfile::TempDir, config: String) -> Setup {
    must(dir.path(), &["user", "add", BOB, "--password", PW]);
    must(
        dir.path(),
        &["user", "alias-add", BOB, "robert@example.org"],
    );
    must(dir.path(), &["contacts", "add", BOB, "alice@example.org"]);
    let server = Imipd::start_in(dir, &[("IMIPD_CONFIG", config.as_str())]);
    let http = wait_for_listen(&server.log, "http listening on");
    Setup {
        server,
        http,
        config,
    }
}

impl Setup {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        request(
            self.http,
            Some((BOB, PW)),
            method,
            path,
            headers,
            body.as_bytes(),
        )
    }

    fn put(&self, path: &str, ics: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("Content-Type", "text/calendar; charset=utf-8")];
        h.extend_from_slice(headers);
        self.send("PUT", path, &h, ics)
    }

    fn get(&self, path: &str) -> Reply {
        let r = self.send("GET", path, &[], "");
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r
    }

    /// The outbox as `imipd mail list` shows it.
    fn outbox(&self) -> String {
        let env = [("IMIPD_CONFIG", self.config.as_str())];
        let (code, out, err) = cli_env(self.server.data(), &["mail", "list"], &env);
        assert_eq!(code, 0, "{err}");
        out
    }

    /// Waits until the event at `path` says SCHEDULE-STATUS `status` for each of `who`.
    fn schedule_status(&self, path: &str, who: &[&str], status: &str) {
        eventually(30, &format!("SCHEDULE-STATUS={status} for {who:?}"), || {
            let stored = self.get(path).body.replace("\r\n ", "");
            who.iter()
                .all(|a| stored.contains(&format!("SCHEDULE-STATUS={status}:mailto:{a}")))
                .then_some(())
        });
    }

    /// A second user here, alice; her address and password.
    fn add_alice(&self) -> (&'static str, &'static str) {
        let alice = ("alice@example.org", "alice pw");
        must(
            self.server.data(),
            &["user", "add", alice.0, "--password", alice.1],
        );
        alice
    }

    /// alice, whose calendar takes every invitation.
    fn add_alice_taking_invitations(&self) -> (&'static str, &'static str) {
        let alice = self.add_alice();
        must(
            self.server.data(),
            &["prefs", "set", alice.0, "add_invitations=everyone"],
        );
        alice
    }

    fn invited(&self, uid: &str) -> String {
        self.server
            .connect()
            .deliver("alice@example.org", &[BOB], &Mail::request(uid).bytes());
        let path = format!("{DEFAULT}{uid}.ics");
        eventually(20, "the invitation in the calendar", || {
            let r = self.send("GET", &path, &[], "");
            (r.status == 200).then_some(())
        });
        path
    }
}

fn unfolded(mail: &Received) -> String {
    String::from_utf8_lossy(&mail.data).replace("\r\n ", "")
}

fn lines<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(name)).collect()
}

/// Waits until the sink holds `n` messages and returns them.
fn at_sink(sink: &SmtpSink, n: usize) -> Vec<Received> {
    eventually(30, &format!("{n} messages at the relay"), || {
        let got = sink.received();
        (got.len() >= n).then_some(got)
    })
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", r.headers))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendee_answers_from_the_client_reach_the_organizer_once() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let path = s.invited("answer@example.org");

    // The principal names its inbox, and the inbox holds the invitation as applied.
    let props = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-inbox-URL/><c:schedule-outbox-URL/></d:prop></d:propfind>"#;
    let r = s.send(
        "PROPFIND",
        "/principals/bob@example.org/",
        &[("Depth", "0")],
        props,
    );
    assert_eq!(r.status, 207, "{}", r.body);
    let inbox = "/calendars/bob%40example.org/.schedule-inbox/";
    assert!(r.body.contains(inbox), "{}", r.body);
    assert!(r.body.contains(".schedule-outbox/"), "{}", r.body);
    let listing = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#;
    let r = s.send("PROPFIND", inbox, &[("Depth", "1")], listing);
    assert_eq!(r.status, 207, "{}", r.body);
    let item = r
        .body
        .split("<d:href>")
        .filter_map(|h| h.split("</d:href>").next())
        .find(|h| h.ends_with(".ics"))
        .unwrap_or_else(|| panic!("no item in the inbox: {}", r.body))
        .to_string();
    let message = s.get(&item);
    assert!(message.body.contains("METHOD:REQUEST"), "{}", message.body);
    assert!(
        message.body.contains("UID:answer@example.org"),
        "{}",
        message.body
    );

    let got = s.get(&path);
    let tag = header(&got, "schedule-tag").to_string();
    let etag = header(&got, "etag").to_string();

    // A stale Schedule-Tag is refused; the right one, with the ETag, is taken.
    let accepted = got
        .body
        .replace("\r\n ", "")
        .replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED")
        .replace("SUMMARY:Planning 0", "SUMMARY:My own title");
    let r = s.put(&path, &accepted, &[("If-Schedule-Tag-Match", "\"stale\"")]);
    assert_eq!(r.status, 412, "{}", r.body);
    let r = s.put(
        &path,
        &accepted,
        &[("If-Match", &etag), ("If-Schedule-Tag-Match", &tag)],
    );
    assert_eq!(r.status, 204, "{}", r.body);
    // The answer is the attendee's own: the organizer's copy, and so its tag, stand.
    assert_eq!(header(&r, "schedule-tag"), tag);
    let stored = s.get(&path);
    assert!(
        stored.body.contains("SUMMARY:Planning 0"),
        "{}",
        stored.body
    );
    assert!(
        stored
            .body
            .replace("\r\n ", "")
            .contains("PARTSTAT=ACCEPTED")
    );

    let mails = at_sink(&sink, 1);
    assert_eq!(mails[0].rcpt_to, ["alice@example.org"]);
    assert_eq!(mails[0].mail_from, BOB);
    let text = unfolded(&mails[0]);
    assert!(text.contains("METHOD:REPLY"), "{text}");
    let attendees = lines(&text, "ATTENDEE");
    assert_eq!(attendees.len(), 1, "{text}");
    assert!(
        attendees[0].contains("PARTSTAT=ACCEPTED")
            && attendees[0].ends_with("mailto:bob@example.org"),
        "{attendees:?}"
    );
    assert!(text.contains("UID:answer@example.org"), "{text}");
    assert!(text.contains("SEQUENCE:0"), "{text}");

    // The same answer again, with only an alarm added: nothing for the organizer.
    let again = stored.body.replace(
        "END:VEVENT",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\nEND:VEVENT",
    );
    let r = s.put(&path, &again, &[("If-Match", header(&stored, "etag"))]);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(header(&r, "schedule-tag"), tag);
    assert_eq!(s.outbox().matches(" reply ").count(), 1, "{}", s.outbox());

    // The ORGANIZER of an invitation is not the attendee's to change.
    let hijack = again.replace("mailto:alice@example.org", "mailto:robert@example.org");
    let r = s.put(&path, &hijack, &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("allowed-attendee-scheduling-object-change"),
        "{}",
        r.body
    );

    // Deleting an accepted invitation declines it.
    let r = s.send("DELETE", &path, &[], "");
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 2);
    let text = unfolded(&mails[1]);
    assert!(text.contains("PARTSTAT=DECLINED"), "{text}");
    assert_eq!(lines(&text, "ATTENDEE").len(), 1, "{text}");

    // An unanswered invitation deleted with Schedule-Reply: F sends nothing.
    let path = s.invited("quiet@example.org");
    let r = s.send("DELETE", &path, &[("Schedule-Reply", "F")], "");
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.outbox().matches(" reply ").count(), 2, "{}", s.outbox());
}

fn organized(uid: &str, start: &str, attendees: &[&str]) -> String {
    let mut lines = String::new();
    for a in attendees {
        lines.push_str(&format!(
            "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}\r\n"
        ));
    }
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Client//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n\
         SUMMARY:Review\r\nORGANIZER:mailto:bob@example.org\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_writes_invite_update_and_uninvite() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let path = format!("{DEFAULT}review.ics");
    let two = ["carol@elsewhere.test", "dave@elsewhere.test"];
    let r = s.put(&path, &organized("review@x", "20300110T100000Z", &two), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.header("schedule-tag").is_some(), "{:?}", r.headers);
    let mails = at_sink(&sink, 1);
    let mut to = mails[0].rcpt_to.clone();
    to.sort();
    assert_eq!(to, two);
    let text = unfolded(&mails[0]);
    assert!(text.contains("METHOD:REQUEST"), "{text}");
    assert!(text.contains("SEQUENCE:0"), "{text}");

    // The time moves: SEQUENCE goes up and everyone hears it.
    let moved = organized("review@x", "20300111T100000Z", &two);
    let r = s.put(&path, &moved, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 2);
    let text = unfolded(&mails[1]);
    assert!(
        text.contains("METHOD:REQUEST") && text.contains("SEQUENCE:1"),
        "{text}"
    );
    let stored = s.get(&path).body.replace("\r\n ", "");
    assert!(stored.contains("SEQUENCE:1"), "{stored}");
    // The relay took each attendee's message, as the organizer's copy comes to say.
    s.schedule_status(&path, &two, "1.2");

    // dave is dropped: a CANCEL for him alone.
    let one = organized("review@x", "20300111T100000Z", &two[..1])
        .replace("UID:review@x", "UID:review@x\r\nSEQUENCE:1");
    let r = s.put(&path, &one, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 4);
    let cancel = mails
        .iter()
        .find(|m| unfolded(m).contains("METHOD:CANCEL"))
        .unwrap_or_else(|| panic!("no CANCEL in {} mails", mails.len()));
    assert_eq!(cancel.rcpt_to, ["dave@elsewhere.test"]);

    // An event in the past is stored and sent to no one; SCHEDULE-AGENT=CLIENT neither.
    let sent = s.outbox().lines().count();
    let past = organized("old@x", "20200110T100000Z", &two);
    let r = s.put(&format!("{DEFAULT}old.ics"), &past, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    let client = organized("own@x", "20300110T100000Z", &two)
        .replace("ORGANIZER:", "ORGANIZER;SCHEDULE-AGENT=CLIENT:");
    let r = s.put(&format!("{DEFAULT}own.ics"), &client, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(s.outbox().lines().count(), sent, "{}", s.outbox());

    // Identity: no ORGANIZER change, no invitation in someone else's name.
    let r = s.put(&path, &one.replace("mailto:bob@", "mailto:eve@"), &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("allowed-organizer-scheduling-object-change"),
        "{}",
        r.body
    );
    let forged =
        organized("forged@x", "20300110T100000Z", &two).replace("mailto:bob@", "mailto:eve@");
    let r = s.put(&format!("{DEFAULT}forged.ics"), &forged, &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("valid-organizer"), "{}", r.body);

    // Deleting the event calls it off for whoever is still invited.
    let before = sink.received().len();
    let r = s.send("DELETE", &path, &[], "");
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, before + 1);
    let text = unfolded(&mails[before]);
    assert!(text.contains("METHOD:CANCEL"), "{text}");
    // What the server keeps per attendee stays with the server.
    assert!(!text.contains("SCHEDULE-STATUS"), "{text}");
    assert_eq!(mails[before].rcpt_to, ["carol@elsewhere.test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_queued_before_a_crash_goes_out_once_after_restart() {
    let sink = SmtpSink::start(Mode::Down).await;
    let mut s = setup(&sink);
    let path = s.invited("crash@example.org");
    let got = s.get(&path);
    let accepted = got
        .body
        .replace("\r\n ", "")
        .replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = s.put(&path, &accepted, &[("If-Match", header(&got, "etag"))]);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(sink.received().is_empty());
    let env = [("IMIPD_CONFIG", s.config.clone())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.server.restart(&env);
    sink.set_mode(Mode::Up);
    let mails = at_sink(&sink, 1);
    assert!(unfolded(&mails[0]).contains("METHOD:REPLY"));
    // Sent means done: the outbox holds it as sent, once.
    eventually(20, "the reply marked sent", || {
        let out = s.outbox();
        (out.matches(" reply ").count() == 1 && out.contains(" done ")).then_some(())
    });
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_here_invite_and_answer_with_no_relay_configured() {
    let s = setup_without_relay();
    let alice = s.add_alice_taking_invitations();
    let as_alice = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        request(s.http, Some(alice), method, path, headers, body.as_bytes())
    };
    let carol = "carol@elsewhere.test";
    let ics = organized("local@x", "20300110T100000Z", &[alice.0, carol]);
    let r = s.put(&format!("{DEFAULT}local.ics"), &ics, &[]);
    assert_eq!(r.status, 201, "{}", r.body);

    // The REQUEST went through alice's delivery, into her calendar.
    let hers = "/calendars/alice@example.org/default/local@x.ics";
    let invitation = eventually(30, "the invitation in alice's calendar", || {
        let r = as_alice("GET", hers, &[], "");
        (r.status == 200).then_some(r)
    });
    assert!(invitation.header("schedule-tag").is_some());
    // Delivered here counts as delivered: bob's copy says so.
    s.schedule_status(&format!("{DEFAULT}local.ics"), &[alice.0], "1.2");
    let accepted = invitation
        .body
        .replace("\r\n ", "")
        .replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = as_alice(
        "PUT",
        hers,
        &[
            ("Content-Type", "text/calendar"),
            ("If-Match", header(&invitation, "etag")),
        ],
        &accepted,
    );
    assert_eq!(r.status, 204, "{}", r.body);

    // Her REPLY came back the same way, into bob's copy.
    eventually(30, "alice's answer in bob's copy", || {
        let mine = s
            .get(&format!("{DEFAULT}local.ics"))
            .body
            .replace("\r\n ", "");
        mine.lines()
            .any(|l| l.starts_with("ATTENDEE") && l.contains("ACCEPTED") && l.ends_with(alice.0))
            .then_some(())
    });
    let outbox = s.outbox();
    assert!(
        outbox.contains(" request ") && outbox.contains(" reply "),
        "{outbox}"
    );
    // carol is not a user here: her REQUEST waits for a relay, and says so.
    let waiting = eventually(30, "carol's REQUEST waiting for a relay", || {
        let outbox = s.outbox();
        outbox
            .lines()
            .find(|l| l.contains(carol) && l.contains("smtp.host is not set"))
            .map(str::to_string)
    });
    assert!(waiting.contains("queued"), "{waiting}");
}

/// The hrefs of the `.ics` members in a multistatus.
fn item_hrefs(body: &str) -> Vec<String> {
    body.split("<d:href>")
        .filter_map(|h| h.split("</d:href>").next())
        .filter(|h| h.ends_with(".ics"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_answers_sync_query_and_multiget() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    s.invited("inbox-one@example.org");
    let inbox = "/calendars/bob@example.org/.schedule-inbox/";
    let sync = |token: &str| {
        format!(
            r#"<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &sync(""));
    assert_eq!(r.status, 207, "{}", r.body);
    let first = item_hrefs(&r.body);
    assert_eq!(first.len(), 1, "{}", r.body);
    assert!(r.body.contains("<d:getetag>"), "{}", r.body);
    let token_of = |body: &str| {
        body.split("<d:sync-token>")
            .nth(1)
            .and_then(|t| t.split("</d:sync-token>").next())
            .unwrap_or_else(|| panic!("no sync-token: {body}"))
            .to_string()
    };
    let token = token_of(&r.body);

    // Nothing new since the token; a second invitation is the one change after it.
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &sync(&token));
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(item_hrefs(&r.body).is_empty(), "{}", r.body);
    s.invited("inbox-two@example.org");
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &sync(&token));
    let second = item_hrefs(&r.body);
    assert_eq!(second.len(), 1, "{}", r.body);
    assert_ne!(second, first);
    let before_delete = token_of(&r.body);

    // calendar-query picks the item by its UID; multiget reads both.
    let query = r#"<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">inbox-two@example.org</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#;
    let r = s.send("REPORT", inbox, &[("Depth", "1")], query);
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(item_hrefs(&r.body), second, "{}", r.body);
    assert!(r.body.contains("METHOD:REQUEST"), "{}", r.body);
    let multiget = format!(
        r#"<?xml version="1.0"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{}</d:href><d:href>{}</d:href></c:calendar-multiget>"#,
        first[0], second[0]
    );
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &multiget);
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body.contains("UID:inbox-one@example.org"), "{}", r.body);
    assert!(r.body.contains("UID:inbox-two@example.org"), "{}", r.body);

    // DELETE takes an item out of the inbox; the job stays in the queue's history.
    let r = s.send("DELETE", &second[0], &[], "");
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.send("GET", &second[0], &[], "").status, 404);
    let listing = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#;
    let r = s.send("PROPFIND", inbox, &[("Depth", "1")], listing);
    assert_eq!(item_hrefs(&r.body), first, "{}", r.body);
    assert_eq!(s.send("DELETE", &second[0], &[], "").status, 404);
    // A client that synced before the DELETE hears of it as a member gone.
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &sync(&before_delete));
    assert_eq!(r.status, 207, "{}", r.body);
    let gone = format!(
        "<d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status>",
        second[0]
    );
    assert!(
        r.body
            .replace(['\n', ' '], "")
            .contains(&gone.replace(' ', "")),
        "{}",
        r.body
    );
    let after_delete = token_of(&r.body);
    assert_ne!(after_delete, before_delete);
    let r = s.send("REPORT", inbox, &[("Depth", "1")], &sync(&after_delete));
    assert!(!r.body.contains("404"), "reported once: {}", r.body);
    let env = [("IMIPD_CONFIG", s.config.as_str())];
    let (code, jobs, err) = cli_env(s.server.data(), &["jobs", "list"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(jobs.contains("inbox-two@example.org"), "{jobs}");
}

/// A VFREEBUSY REQUEST from `organizer` about `attendees` on 2030-01-10, 08:00 to 18:00 UTC.
fn free_busy_question(organizer: &str, attendees: &[&str]) -> String {
    let lines: String = attendees
        .iter()
        .map(|a| format!("ATTENDEE:mailto:{a}\r\n"))
        .collect();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Client//EN\r\nMETHOD:REQUEST\r\n\
         BEGIN:VFREEBUSY\r\nUID:fb@x\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:20300110T080000Z\r\nDTEND:20300110T180000Z\r\n\
         ORGANIZER:mailto:{organizer}\r\n{lines}END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_answers_free_busy_for_users_here_only() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let alice = s.add_alice();
    let r = s.put(
        &format!("{DEFAULT}mine.ics"),
        &organized("mine@x", "20300110T100000Z", &[]),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let hers = organized("hers@x", "20300110T140000Z", &[])
        .replace("mailto:bob@example.org", "mailto:alice@example.org");
    let r = request(
        s.http,
        Some(alice),
        "PUT",
        "/calendars/alice@example.org/default/hers.ics",
        &[("Content-Type", "text/calendar")],
        hers.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    // Asked as bob's alias: bob and alice answer with their busy hour, a stranger with 3.7.
    let outbox = "/calendars/bob@example.org/.schedule-outbox/";
    let ask = free_busy_question(
        "robert@example.org",
        &[BOB, alice.0, "kim@elsewhere.example"],
    );
    let h = [("Content-Type", "text/calendar; charset=utf-8")];
    let r = s.send("POST", outbox, &h, &ask);
    assert_eq!(r.status, 200, "{}", r.body);
    let parts: Vec<&str> = r.body.split("<c:response>").skip(1).collect();
    assert_eq!(parts.len(), 3, "{}", r.body);
    let want = [
        (BOB, Some("FREEBUSY:20300110T100000Z/20300110T110000Z")),
        (alice.0, Some("FREEBUSY:20300110T140000Z/20300110T150000Z")),
        ("kim@elsewhere.example", None),
    ];
    for (part, (who, busy)) in parts.iter().zip(want) {
        // The calendar-data's CRs come as character references.
        let part = &part.replace("&#13;", "");
        assert!(part.contains(&format!("mailto:{who}")), "{part}");
        match busy {
            Some(line) => {
                assert!(part.contains("2.0;Success"), "{part}");
                assert!(part.contains("METHOD:REPLY"), "{part}");
                assert_eq!(lines(part, "FREEBUSY"), [line], "{part}");
            }
            None => {
                assert!(part.contains("3.7;"), "{part}");
                assert!(!part.contains("FREEBUSY"), "{part}");
            }
        }
    }

    // Not as someone else, and nothing but a free-busy question.
    let r = s.send("POST", outbox, &h, &free_busy_question(alice.0, &[alice.0]));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("organizer-allowed"), "{}", r.body);
    let r = s.send(
        "POST",
        outbox,
        &h,
        &organized("e@x", "20300110T100000Z", &[]),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("valid-scheduling-message"), "{}", r.body);
    let r = s.send("POST", inbox_path(), &h, &ask);
    assert_eq!(r.status, 405, "{}", r.body);
}

fn inbox_path() -> &'static str {
    "/calendars/bob@example.org/.schedule-inbox/"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_relay_refuses_for_good_says_so_on_the_attendee() {
    let sink = SmtpSink::start(Mode::RefuseAtData).await;
    let s = setup(&sink);
    let path = format!("{DEFAULT}refused.ics");
    let who = ["carol@elsewhere.test"];
    let r = s.put(
        &path,
        &organized("refused@x", "20300110T100000Z", &who),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    s.schedule_status(&path, &who, "5.1");
    // The Schedule-Tag stays: the status is the server's note, not the organizer's change.
    let tag = header(&r, "schedule-tag").to_string();
    assert_eq!(header(&s.get(&path), "schedule-tag"), tag);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_the_relay_refuses_is_an_invalid_calendar_user_the_others_delivered() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let path = format!("{DEFAULT}half.ics");
    let (taken, refused) = ("carol@elsewhere.test", "reject-dave@elsewhere.test");
    let ics = organized("half@x", "20300110T100000Z", &[taken, refused]);
    let r = s.put(&path, &ics, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    s.schedule_status(&path, &[refused], "3.7");
    s.schedule_status(&path, &[taken], "1.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_read_before_the_delivery_note_is_taken_unless_its_if_match_is_stale() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let path = format!("{DEFAULT}noted.ics");
    let who = ["carol@elsewhere.test"];
    let r = s.put(&path, &organized("noted@x", "20300110T100000Z", &who), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    let read = s.get(&path);
    // The relay takes the REQUEST and the outbox notes it in the copy the client read.
    s.schedule_status(&path, &who, "1.2");
    let noted = s.get(&path);
    assert_ne!(header(&noted, "etag"), header(&read, "etag"));
    assert_eq!(
        header(&noted, "schedule-tag"),
        header(&read, "schedule-tag")
    );

    let alarm = read.body.replace(
        "END:VEVENT",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\nEND:VEVENT",
    );
    let r = s.put(&path, &alarm, &[("If-Match", header(&read, "etag"))]);
    assert_eq!(r.status, 412, "{}", r.body);
    let r = s.put(
        &path,
        &alarm,
        &[("If-Schedule-Tag-Match", header(&read, "schedule-tag"))],
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let r = s.put(&path, &alarm, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(header(&r, "schedule-tag"), header(&read, "schedule-tag"));
    let stored = s.get(&path).body.replace("\r\n ", "");
    assert!(stored.contains("BEGIN:VALARM"), "{stored}");
    // The client's stale copy of the status does not undo the server's note.
    assert!(
        stored.contains(&format!("SCHEDULE-STATUS=1.2:mailto:{}", who[0])),
        "{stored}"
    );
    assert_eq!(
        s.outbox().lines().count(),
        1,
        "an alarm is not news for carol: {}",
        s.outbox()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_moved_or_called_off_is_told_as_that_instance_alone() {
    let sink = SmtpSink::start(Mode::Up).await;
    let s = setup(&sink);
    let path = format!("{DEFAULT}daily.ics");
    let who = ["carol@elsewhere.test"];
    let series = daily("daily@x", &who);
    let r = s.put(&path, &series, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    at_sink(&sink, 1);

    // The second day moves an hour later: a REQUEST for that day alone.
    let moved = second_day_moved(&s.get(&path).body, "daily@x", "20300111T110000Z", who[0]);
    let r = s.put(&path, &moved, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 2);
    let text = one_instance(&mails[1], "REQUEST", "20300111T100000Z");
    assert!(!text.contains("RRULE"), "{text}");
    assert_eq!(mails[1].rcpt_to, who);

    // The fourth day is called off by an EXDATE: a CANCEL for that day alone.
    let stored = s.get(&path).body.replace("\r\n ", "");
    let excluded = stored.replacen(
        "RRULE:FREQ=DAILY;COUNT=5\r\n",
        "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20300113T100000Z\r\n",
        1,
    );
    let r = s.put(&path, &excluded, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 3);
    one_instance(&mails[2], "CANCEL", "20300113T100000Z");
    assert_eq!(mails[2].rcpt_to, who);
    s.schedule_status(&path, &who, "1.2");

    // The moved day is called off in its override: a CANCEL for it alone.
    let stored = s.get(&path).body.replace("\r\n ", "");
    let called_off = stored.replacen(
        "RECURRENCE-ID:20300111T100000Z\r\n",
        "RECURRENCE-ID:20300111T100000Z\r\nSTATUS:CANCELLED\r\n",
        1,
    );
    assert_ne!(called_off, stored);
    let r = s.put(&path, &called_off, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = at_sink(&sink, 4);
    one_instance(&mails[3], "CANCEL", "20300111T100000Z");
}

/// A daily series of five, from 2030-01-10 10:00 UTC, that bob organizes.
fn daily(uid: &str, attendees: &[&str]) -> String {
    organized(uid, "20300110T100000Z", attendees).replace(
        "DURATION:PT1H\r\n",
        "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\n",
    )
}

/// `stored` (one master) with the second day moved to `start`, for `attendee`.
fn second_day_moved(stored: &str, uid: &str, start: &str, attendee: &str) -> String {
    let stored = stored.replace("\r\n ", "");
    let (head, tail) = stored.split_once("END:VEVENT\r\n").unwrap();
    format!(
        "{head}END:VEVENT\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nRECURRENCE-ID:20300111T100000Z\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n\
         SUMMARY:Review\r\nORGANIZER:mailto:bob@example.org\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{attendee}\r\nEND:VEVENT\r\n{tail}"
    )
}

/// The text of `mail`, checked to be a `method` for the instance `rid` alone.
fn one_instance(mail: &Received, method: &str, rid: &str) -> String {
    let text = unfolded(mail);
    assert!(text.contains(&format!("METHOD:{method}")), "{text}");
    assert_eq!(
        lines(&text, "RECURRENCE-ID"),
        [format!("RECURRENCE-ID:{rid}")],
        "{text}"
    );
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 1, "{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_here_gets_an_instance_moved_as_that_instance() {
    let s = setup_without_relay();
    let alice = s.add_alice_taking_invitations();
    let path = format!("{DEFAULT}weekly.ics");
    let series = daily("weekly@x", &[alice.0]);
    assert_eq!(s.put(&path, &series, &[]).status, 201);
    let hers = "/calendars/alice@example.org/default/weekly@x.ics";
    let get_hers = || request(s.http, Some(alice), "GET", hers, &[], b"");
    eventually(30, "the series in alice's calendar", || {
        (get_hers().status == 200).then_some(())
    });
    let moved = second_day_moved(&s.get(&path).body, "weekly@x", "20300111T150000Z", alice.0);
    assert_eq!(s.put(&path, &moved, &[]).status, 204);
    let copy = eventually(30, "the moved day in alice's copy", || {
        let body = get_hers().body.replace("\r\n ", "");
        body.contains("DTSTART:20300111T150000Z").then_some(body)
    });
    assert!(
        copy.contains("RRULE:FREQ=DAILY;COUNT=5"),
        "the series stays: {copy}"
    );
}
