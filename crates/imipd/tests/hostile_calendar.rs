//! Issue 14, the calendar side, over LMTP to the real binary: a decoy component in front of
//! a takeover (item 1) and a REPLY bomb of invented instances (item 2). Every attack comes
//! from an authenticated sender who is Bob's contact, so only the calendar rules stand in
//! the way.

mod common;

use common::itip::Mail;
use common::*;
use std::path::Path;

const BOB: &str = "bob@example.org";

fn bob_knows_alice_and_mallory(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["contacts", "add", BOB, "alice@example.org"]);
    must(dir, &["contacts", "add", BOB, "mallory@example.org"]);
}

/// The stored iCalendar text of `uid` in Bob's calendars, unfolded.
fn stored(server: &Imipd, uid: &str) -> String {
    let db = rusqlite::Connection::open(server.data().join("imipd.sqlite3")).unwrap();
    let ics: String = db
        .query_row("SELECT ics FROM objects WHERE uid = ?1", [uid], |r| {
            r.get(0)
        })
        .unwrap();
    ics.replace("\r\n ", "")
}

fn deliver(server: &Imipd, from: &str, mail: &[u8]) -> String {
    let before = messages(&server.maildir(BOB), "").len();
    let (_, data) = server.connect().deliver(from, &[BOB], mail);
    assert!(data[0].starts_with("250"), "{data:?}");
    let all = messages(&server.maildir(BOB), "");
    assert_eq!(
        all.len(),
        before + 1,
        "the mail is delivered whatever its calendar"
    );
    settled(server);
    all.last().cloned().unwrap_or_default()
}

fn outcome(message: &str) -> String {
    header_values(message, "X-Imipd-Cal-Outcome").join(" | ")
}

/// A mail from Mallory (DMARC-aligned at example.org) whose calendar part is `components`.
fn from_mallory(method: &str, components: &str) -> Vec<u8> {
    format!(
        "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n\
         From: Mallory <mallory@example.org>\r\nTo: {BOB}\r\nSubject: Updated\r\n\
         Message-ID: <takeover-{}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Evil//EN\r\nMETHOD:{method}\r\n\
         {components}END:VCALENDAR\r\n",
        components.len()
    )
    .into_bytes()
}

fn takeover(uid: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:9\r\nDTSTAMP:20300201T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nSUMMARY:Taken\r\nSTATUS:CANCELLED\r\n\
         ORGANIZER:mailto:mallory@example.org\r\nATTENDEE:mailto:{BOB}\r\nEND:VEVENT\r\n"
    )
}

fn organize(server: &Imipd, uid: &str, extra: &str) {
    let file = server.data().join(format!("{uid}.ics"));
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\n\
             UID:{uid}\r\nDTSTAMP:20300101T090000Z\r\nDTSTART:20300110T100000Z\r\n\
             DTEND:20300110T110000Z\r\nSUMMARY:Bob's review\r\n{extra}\
             ORGANIZER;CN=Bob:mailto:{BOB}\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.org\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .unwrap();
    must(
        server.data(),
        &["events", "save", BOB, file.to_str().unwrap()],
    );
}

#[test]
fn a_decoy_component_cannot_take_over_an_event() {
    let server = Imipd::start(bob_knows_alice_and_mallory, &[]);
    let invited = deliver(
        &server,
        "alice@example.org",
        &Mail::request("alices@example.org").bytes(),
    );
    assert!(outcome(&invited).starts_with("added"), "{invited}");
    organize(&server, "bobs@example.org", "");
    let journal = "BEGIN:VJOURNAL\r\nUID:decoy\r\nDTSTAMP:20300201T090000Z\r\nEND:VJOURNAL\r\n";
    let nested = "BEGIN:X-WRAP\r\nBEGIN:VEVENT\r\nUID:decoy\r\nDTSTAMP:20300201T090000Z\r\n\
                  END:VEVENT\r\nEND:X-WRAP\r\n";
    for target in ["alices@example.org", "bobs@example.org"] {
        let before = stored(&server, target);
        let first_journal = from_mallory("REQUEST", &format!("{journal}{}", takeover(target)));
        let got = outcome(&deliver(&server, "mallory@example.org", &first_journal));
        assert!(got.starts_with("no_action"), "{target}: {got}");
        assert!(got.contains("UID"), "the reason names the UIDs: {got}");
        // Nested in an X- component the VEVENT is no scheduling component: the takeover
        // is the message's one event, and it is not the organizer's to send.
        let wrapped = from_mallory("REQUEST", &format!("{nested}{}", takeover(target)));
        let got = outcome(&deliver(&server, "mallory@example.org", &wrapped));
        assert!(got.starts_with("no_action"), "{target}: {got}");
        assert_eq!(stored(&server, target), before, "{target} was changed");
    }
    let list = must(server.data(), &["events", "list", BOB]);
    assert!(!list.contains("decoy"), "{list}");
    assert!(!list.to_ascii_uppercase().contains("CANCELLED"), "{list}");
}

#[test]
fn a_reply_bomb_of_invented_instances_changes_nothing_and_leaves_the_event_usable() {
    let server = Imipd::start(bob_knows_alice_and_mallory, &[]);
    organize(
        &server,
        "weekly@example.org",
        "RRULE:FREQ=WEEKLY;COUNT=4\r\n",
    );
    organize(&server, "once@example.org", "");
    let reply = |uid: &str, instance: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300102T090000Z\r\n\
             RECURRENCE-ID:{instance}\r\nORGANIZER:mailto:{BOB}\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\nEND:VEVENT\r\n"
        )
    };
    for uid in ["weekly@example.org", "once@example.org"] {
        let before = stored(&server, uid);
        let bomb: String = (0..999)
            .map(|i| {
                reply(
                    uid,
                    &format!("2031{:02}{:02}T100000Z", 1 + i % 12, 1 + i % 28),
                )
            })
            .collect();
        let mail = String::from_utf8(from_mallory("REPLY", &bomb))
            .unwrap()
            .replace("Mallory <mallory@", "Alice <alice@");
        let got = outcome(&deliver(&server, "alice@example.org", mail.as_bytes()));
        assert!(got.starts_with("no_action"), "{got}");
        assert!(got.contains("names instance 20310101T100000Z"), "{got}");
        assert_eq!(
            stored(&server, uid),
            before,
            "{uid}: invented instances were stored"
        );
        // One invented instance of a single event: no phantom occurrence either.
        let one = String::from_utf8(from_mallory("REPLY", &reply(uid, "20310301T100000Z")))
            .unwrap()
            .replace("Mallory <mallory@", "Alice <alice@");
        deliver(&server, "alice@example.org", one.as_bytes());
        assert!(!stored(&server, uid).contains("RECURRENCE-ID"), "{uid}");
        // The organizer's own commands still work on the event.
        must(server.data(), &["events", "cancel", BOB, uid]);
        assert!(stored(&server, uid).contains("STATUS:CANCELLED"), "{uid}");
    }
}
