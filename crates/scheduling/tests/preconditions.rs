//! The user's own actions against a calendar that changes under them, on a real SQLite
//! file: a write planned on a version that is gone is refused whole (no lost update), and
//! `rsvp` / `organize` plan again on the new version. A client's write that meets only the
//! server's own note (SCHEDULE-STATUS) is made again on the version found, when the
//! client's conditions allow.

use imipd_calendar::{Limits, PartStat, schedule_tag};
use imipd_scheduling::delivered::{DELIVERED, record_schedule_status};
use imipd_scheduling::organize::{Organize, organize};
use imipd_scheduling::rsvp::{self, Rsvp, rsvp};
use imipd_scheduling::{ClientDelete, ClientError, ClientPut, client_delete, client_put};
use imipd_store::{Batch, CalendarObject, Error, Expect, ObjectWrite, SqliteStore, Store};

const BOB: &str = "bob@example.org";
const ALICE: &str = "alice@example.com";
const NOW: i64 = 1_893_456_000;

fn event(uid: &str, summary: &str, organizer: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:{summary}\r\n\
         ORGANIZER:mailto:{organizer}\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:{organizer}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{BOB}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{ALICE}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn store_with(uid: &str, ics: &str) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    store
        .commit(&Batch {
            user: BOB.into(),
            writes: vec![ObjectWrite::new_event("default", uid, ics)],
            ..Batch::default()
        })
        .unwrap();
    (dir, store)
}

fn accept(uid: &str) -> Rsvp<'_> {
    Rsvp {
        user: BOB,
        uid,
        partstat: PartStat::Accepted,
        recurrence_id: None,
        comment: None,
    }
}

#[test]
fn an_answer_planned_on_a_version_that_is_gone_is_refused_whole_then_made_again() {
    let (_dir, store) = store_with("r-1", &event("r-1", "Planning", "carol@example.net"));
    let limits = Limits::default();
    let (stale, _) = rsvp::plan(&store, &accept("r-1"), &limits, NOW, "Q-1").unwrap();
    // Between the read and the write, the organizer's update lands.
    let read = store.find_object(BOB, "r-1").unwrap().unwrap();
    let moved = read.ics.replace("SUMMARY:Planning", "SUMMARY:Moved");
    store
        .commit(&Batch {
            user: BOB.into(),
            writes: vec![ObjectWrite::replace(&read, &moved)],
            ..Batch::default()
        })
        .unwrap();
    match store.commit(&stale) {
        Err(Error::Conflict(c)) => {
            assert_eq!(c.expected, Expect::Modseq(read.modseq), "{c}");
        }
        other => panic!("a stale answer must conflict, got {other:?}"),
    }
    let now = store.find_object(BOB, "r-1").unwrap().unwrap();
    assert!(
        now.ics.contains("SUMMARY:Moved") && !now.ics.contains("PARTSTAT=ACCEPTED:mailto:bob"),
        "the refused answer changed nothing: {}",
        now.ics
    );
    assert!(
        store.mails(&Default::default()).unwrap().is_empty(),
        "nor queued its reply"
    );
    // Made again, on the version now stored: both changes are there.
    let done = rsvp(&store, &accept("r-1"), &limits, NOW, "Q-2").unwrap();
    let after = store.find_object(BOB, "r-1").unwrap().unwrap();
    let unfolded = after.ics.replace("\r\n ", "");
    assert!(
        unfolded.contains("SUMMARY:Moved") && unfolded.contains("PARTSTAT=ACCEPTED:mailto:bob"),
        "{unfolded}"
    );
    let mails = store.mails(&Default::default()).unwrap();
    assert_eq!(
        mails.iter().map(|m| m.id).collect::<Vec<_>>(),
        [done.mail_id]
    );
}

#[test]
fn saving_a_new_event_whose_uid_appeared_meanwhile_becomes_an_update_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    let limits = Limits::default();
    let mine = event("o-1", "Bob's review", BOB);
    let save = Organize::Save { ics: &mine };
    let (stale, _) =
        imipd_scheduling::organize::plan(&store, BOB, "o-1", &save, &limits, NOW, "Q-3").unwrap();
    // The same UID is stored by another path before the save commits.
    store
        .commit(&Batch {
            user: BOB.into(),
            writes: vec![ObjectWrite::new_event("default", "o-1", &mine)],
            ..Batch::default()
        })
        .unwrap();
    assert!(
        matches!(store.commit(&stale), Err(Error::Conflict(ref c)) if c.expected == Expect::UidUnused),
        "a new event never replaces a stored one"
    );
    let before = store.find_object(BOB, "o-1").unwrap().unwrap();
    let done = organize(&store, BOB, &save, &limits, NOW, "Q-4").unwrap();
    let after = store.find_object(BOB, "o-1").unwrap().unwrap();
    assert!(
        after.modseq > before.modseq,
        "saved over the stored version"
    );
    assert_eq!(store.objects(BOB).unwrap().len(), 1, "one copy");
    // What is stored already says what the save says: nothing new for the attendees.
    assert!(done.mail_id.is_none());
}

/// bob's new event for alice, PUT by a client at `href`: the REQUEST is queued and the
/// copy says 1.1 for her.
fn organized_by_client(store: &SqliteStore, href: &str) -> CalendarObject {
    let ics = event("c-1", "Review", BOB);
    let always = |_: Option<&CalendarObject>| true;
    let put = ClientPut {
        calendar_id: "default",
        href,
        uid: "c-1",
        ics: &ics,
        current: None,
        holds: &always,
    };
    client_put(store, BOB, &put, &Limits::default(), NOW, "Q-5").unwrap();
    store.object_at(BOB, "default", href).unwrap().unwrap()
}

/// The outbox's note that the relay took the REQUEST, as the outbox writes it.
fn relay_took_it(store: &SqliteStore) {
    let mail = store.mails(&Default::default()).unwrap().remove(0);
    record_schedule_status(store, &mail, &mail.rcpt_to, DELIVERED).unwrap();
}

#[test]
fn a_client_write_made_while_the_outbox_notes_the_delivery_goes_through_unless_its_if_match_is_stale()
 {
    let store = SqliteStore::open(tempfile::tempdir().unwrap().path().join("s.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    let limits = Limits::default();
    let read = organized_by_client(&store, "c-1.ics");
    assert!(read.ics.contains("SCHEDULE-STATUS=1.1"), "{}", read.ics);
    // Between the request's read and its write, the outbox writes 1.2 into the copy.
    relay_took_it(&store);
    let noted = store.object_at(BOB, "default", "c-1.ics").unwrap().unwrap();
    assert!(noted.ics.contains("SCHEDULE-STATUS=1.2"), "{}", noted.ics);
    assert_ne!(noted.modseq, read.modseq);
    assert_eq!(
        schedule_tag(&noted.ics, &limits),
        schedule_tag(&read.ics, &limits),
        "the server's note is not the organizer's change"
    );

    let retitled = read
        .ics
        .replace("SUMMARY:Review", "SUMMARY:Review in room 2");
    let stale_etag = |o: Option<&CalendarObject>| o.is_some_and(|o| o.modseq == read.modseq);
    let put = ClientPut {
        calendar_id: "default",
        href: "c-1.ics",
        uid: "c-1",
        ics: &retitled,
        current: Some(&read),
        holds: &stale_etag,
    };
    match client_put(&store, BOB, &put, &limits, NOW, "Q-6") {
        Err(ClientError::Store(Error::Conflict(c))) => {
            assert_eq!(c.expected, Expect::Modseq(read.modseq), "{c}");
        }
        other => panic!("a stale If-Match must conflict, got {other:?}"),
    }

    let always = |_: Option<&CalendarObject>| true;
    let put = ClientPut {
        holds: &always,
        ..put
    };
    let done = client_put(&store, BOB, &put, &limits, NOW, "Q-7").unwrap();
    assert!(done.replaced);
    let after = store.object_at(BOB, "default", "c-1.ics").unwrap().unwrap();
    assert!(
        after.ics.contains("SUMMARY:Review in room 2"),
        "{}",
        after.ics
    );
    assert_eq!(done.mail_ids.len(), 1, "the change goes out once");
}

#[test]
fn a_client_delete_made_while_the_outbox_notes_the_delivery_goes_through() {
    let store = SqliteStore::open(tempfile::tempdir().unwrap().path().join("s.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    let read = organized_by_client(&store, "c-1.ics");
    relay_took_it(&store);
    let always = |_: Option<&CalendarObject>| true;
    let delete = ClientDelete {
        object: &read,
        schedule_reply: true,
        holds: &always,
    };
    let done = client_delete(&store, BOB, &delete, &Limits::default(), NOW, "Q-8").unwrap();
    assert_eq!(done.mail_ids.len(), 1, "the CANCEL goes out once");
    assert!(
        store
            .object_at(BOB, "default", "c-1.ics")
            .unwrap()
            .is_none()
    );
}
