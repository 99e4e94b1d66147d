//! Address books against a real SQLite file: preconditions, the UID rule, the change log
//! behind sync tokens, the EMAIL index behind the contacts gate, and the upgrade of a
//! database whose contacts were a list of addresses.

use imipd_contacts::Card;
use imipd_store::{
    AddressBookError, AddressBooks, CardConflict, CardFound, DEFAULT_ADDRESS_BOOK, Error, Expect,
    SqliteStore, Store, card_href_for_uid,
};

const BOB: &str = "bob@example.org";
const BOOK: &str = DEFAULT_ADDRESS_BOOK;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    (dir, store)
}

fn card(uid: &str, emails: &[&str]) -> Card {
    let emails: String = emails.iter().map(|e| format!("EMAIL:{e}\r\n")).collect();
    Card::parse(&format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{uid}\r\n{emails}END:VCARD\r\n"
    ))
    .unwrap()
}

fn book_error(result: Result<impl std::fmt::Debug, Error>) -> AddressBookError {
    match result {
        Err(Error::AddressBook(e)) => e,
        other => panic!("expected an address book error, got {other:?}"),
    }
}

/// What a refused write found.
fn found(result: Result<impl std::fmt::Debug, Error>) -> CardFound {
    match book_error(result) {
        AddressBookError::Conflict(c) => c.found,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// (href, deleted) of each change since `token`, oldest first.
fn delta(s: &SqliteStore, book: &str, token: i64) -> Vec<(String, bool)> {
    let changes = s.card_changes(BOB, book, Some(token)).unwrap();
    let mut all: Vec<(i64, String, bool)> = changes
        .changed
        .into_iter()
        .map(|c| (c.modseq, c.href, false))
        .collect();
    all.extend(changes.deleted.into_iter().map(|h| (i64::MAX, h, true)));
    all.sort();
    all.into_iter().map(|(_, h, d)| (h, d)).collect()
}

#[test]
fn the_default_address_book_is_made_on_first_use() {
    let (_d, s) = open();
    let books = s.address_books(BOB).unwrap();
    assert_eq!(books.len(), 1);
    assert_eq!(
        (
            books[0].id.as_str(),
            books[0].name.as_str(),
            books[0].is_default
        ),
        (BOOK, "Contacts", true)
    );
    assert_eq!(s.default_address_book("BOB@example.org").unwrap(), books[0]);
    let work = s
        .create_address_book(BOB, "work", "Work", "colleagues")
        .unwrap();
    assert!(!work.is_default);
    let ids: Vec<String> = s
        .address_books(BOB)
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, ["default", "work"]);
    assert_eq!(
        book_error(s.create_address_book(BOB, "work", "Again", "")),
        AddressBookError::AddressBookExists("work".into())
    );
    assert_eq!(
        book_error(s.create_address_book(BOB, "../x", "X", "")),
        AddressBookError::InvalidId("../x".into())
    );
    let renamed = s.set_address_book(BOB, "work", "Office", "").unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str()),
        ("Office", "")
    );
    assert!(
        renamed.sync_token > work.sync_token,
        "a renamed book has a new ctag"
    );
    assert!(matches!(
        s.address_books("nobody@example.org"),
        Err(Error::NoSuchUser(_))
    ));
    assert_eq!(
        book_error(s.cards(BOB, "home")),
        AddressBookError::NoSuchAddressBook("home".into())
    );
}

#[test]
fn every_write_names_what_it_expects_and_a_conflict_is_typed() {
    let (_d, s) = open();
    let v1 = card("kate", &["kate@example.org"]);
    let first = s
        .put_card(BOB, BOOK, "kate.vcf", &v1, Expect::MustNotExist)
        .unwrap();
    let err = book_error(s.put_card(BOB, BOOK, "kate.vcf", &v1, Expect::MustNotExist));
    assert_eq!(
        err,
        AddressBookError::Conflict(Box::new(CardConflict {
            user: BOB.into(),
            book_id: BOOK.into(),
            href: "kate.vcf".into(),
            uid: "kate".into(),
            expected: Expect::MustNotExist,
            found: CardFound::Version(first),
        }))
    );
    assert!(err.to_string().contains("read it again and retry"), "{err}");
    let v2 = card("kate", &["kate@example.org", "k@example.net"]);
    let second = s
        .put_card(BOB, BOOK, "kate.vcf", &v2, Expect::Modseq(first))
        .unwrap();
    assert!(second > first);
    assert_eq!(
        found(s.put_card(BOB, BOOK, "kate.vcf", &v1, Expect::Modseq(first))),
        CardFound::Version(second)
    );
    assert_eq!(
        found(s.put_card(
            BOB,
            BOOK,
            "kate.vcf",
            &card("other", &[]),
            Expect::Modseq(second)
        )),
        CardFound::OtherUid("kate".into()),
        "a new version keeps its UID"
    );
    assert_eq!(
        found(s.put_card(BOB, BOOK, "nobody.vcf", &v1, Expect::Modseq(second))),
        CardFound::Nothing
    );
    let stored = s.card(BOB, BOOK, "kate.vcf").unwrap().unwrap();
    assert_eq!((stored.vcard.as_str(), stored.modseq), (v2.text(), second));
    assert_eq!(stored.etag(), format!("\"{second}\""));
    assert_eq!(s.card_by_uid(BOB, BOOK, "kate").unwrap(), Some(stored));
    assert_eq!(
        found(s.delete_card(BOB, BOOK, "kate.vcf", first)),
        CardFound::Version(second)
    );
    s.delete_card(BOB, BOOK, "kate.vcf", second).unwrap();
    assert!(s.card(BOB, BOOK, "kate.vcf").unwrap().is_none());
    assert_eq!(
        found(s.delete_card(BOB, BOOK, "kate.vcf", second)),
        CardFound::Nothing
    );
    for href in ["", "..", "a/b", "x\ny"] {
        assert_eq!(
            book_error(s.put_card(BOB, BOOK, href, &v1, Expect::MustNotExist)),
            AddressBookError::InvalidHref(href.into())
        );
    }
}

#[test]
fn one_card_per_uid_in_a_book() {
    let (_d, s) = open();
    let kate = card("kate", &["kate@example.org"]);
    s.put_card(BOB, BOOK, "a.vcf", &kate, Expect::MustNotExist)
        .unwrap();
    let at_a = CardFound::Uid {
        book_id: BOOK.into(),
        href: "a.vcf".into(),
    };
    assert_eq!(
        found(s.put_card(BOB, BOOK, "b.vcf", &kate, Expect::MustNotExist)),
        at_a
    );
    s.create_address_book(BOB, "work", "Work", "").unwrap();
    // Another book may hold the UID too, unless the writer asks for it to be unused.
    assert_eq!(
        found(s.put_card(BOB, "work", "b.vcf", &kate, Expect::UidUnused)),
        at_a
    );
    s.put_card(BOB, "work", "b.vcf", &kate, Expect::MustNotExist)
        .unwrap();
}

#[test]
fn the_change_log_answers_sync_tokens_with_tombstones() {
    let (_d, s) = open();
    let put = |href: &str, card: &Card, expect| s.put_card(BOB, BOOK, href, card, expect).unwrap();
    let a = put(
        "a.vcf",
        &card("a", &["a@example.org"]),
        Expect::MustNotExist,
    );
    let b = put(
        "b.vcf",
        &card("b", &["b@example.org"]),
        Expect::MustNotExist,
    );
    let initial = s.card_changes(BOB, BOOK, None).unwrap();
    assert_eq!(initial.token, b);
    let listed: Vec<(&str, &str, i64)> = initial
        .changed
        .iter()
        .map(|c| (c.href.as_str(), c.uid.as_str(), c.modseq))
        .collect();
    assert_eq!(listed, [("a.vcf", "a", a), ("b.vcf", "b", b)]);
    assert!(initial.deleted.is_empty());
    assert!(delta(&s, BOOK, initial.token).is_empty());

    let a2 = put("a.vcf", &card("a", &["a2@example.org"]), Expect::Modseq(a));
    s.delete_card(BOB, BOOK, "b.vcf", b).unwrap();
    let c = put("c.vcf", &card("c", &[]), Expect::MustNotExist);
    let changes = s.card_changes(BOB, BOOK, Some(initial.token)).unwrap();
    assert_eq!(changes.token, c);
    let changed: Vec<(&str, i64)> = changes
        .changed
        .iter()
        .map(|c| (c.href.as_str(), c.modseq))
        .collect();
    assert_eq!(changed, [("a.vcf", a2), ("c.vcf", c)]);
    assert_eq!(changes.deleted, ["b.vcf"]);
    assert_eq!(
        s.default_address_book(BOB).unwrap().sync_token,
        c,
        "the ctag moved"
    );
    // Only the initial sync lists what exists now: no tombstones there.
    let now = s.card_changes(BOB, BOOK, None).unwrap();
    let hrefs: Vec<&str> = now.changed.iter().map(|c| c.href.as_str()).collect();
    assert_eq!((hrefs, now.deleted.len()), (vec!["a.vcf", "c.vcf"], 0));
    // Another book's writes do not show here.
    s.create_address_book(BOB, "work", "Work", "").unwrap();
    s.put_card(BOB, "work", "w.vcf", &card("w", &[]), Expect::MustNotExist)
        .unwrap();
    assert!(delta(&s, BOOK, c).is_empty());

    let never_given = s.address_books(BOB).unwrap()[1].sync_token + 100;
    assert_eq!(
        book_error(s.card_changes(BOB, BOOK, Some(never_given))),
        AddressBookError::InvalidSyncToken {
            book_id: BOOK.into(),
            token: never_given,
        }
    );
    // A book deleted and made again does not answer the old book's tokens.
    s.delete_address_book(BOB, BOOK).unwrap();
    let again = s.default_address_book(BOB).unwrap();
    assert!(again.sync_token > c);
    assert!(matches!(
        book_error(s.card_changes(BOB, BOOK, Some(c))),
        AddressBookError::InvalidSyncToken { token, .. } if token == c
    ));
    assert!(delta(&s, BOOK, again.sync_token).is_empty());
    assert!(s.cards(BOB, BOOK).unwrap().is_empty());
}

#[test]
fn every_email_of_every_card_is_a_contact_and_only_in_ascii_case() {
    let (_d, s) = open();
    let kate = card(
        "kate",
        &[
            "kate.work@other.example",
            "Kate@Example.ORG",
            "not an address",
        ],
    );
    let m = s
        .put_card(BOB, BOOK, "kate.vcf", &kate, Expect::MustNotExist)
        .unwrap();
    for (address, known) in [
        ("kate.work@other.example", true),
        ("kate@example.org", true),
        ("KATE@EXAMPLE.ORG", true),
        ("<mailto:kate@example.org>", true),
        ("\u{212A}ate@example.org", false),
        ("kate+tag@example.org", false),
        ("not an address", false),
        ("kate@example.org.evil", false),
    ] {
        assert_eq!(s.is_contact(BOB, address).unwrap(), known, "{address}");
    }
    assert_eq!(
        s.contacts(BOB).unwrap(),
        ["kate.work@other.example", "kate@example.org"]
    );
    assert!(
        !s.is_contact("carol@example.org", "kate@example.org")
            .unwrap()
    );
    // A second book counts too.
    s.create_address_book(BOB, "work", "Work", "").unwrap();
    let al = card("al", &["al@example.org"]);
    s.put_card(BOB, "work", "al.vcf", &al, Expect::MustNotExist)
        .unwrap();
    assert!(s.is_contact(BOB, "al@example.org").unwrap());
    // The index follows every write: a new version, a deleted card, a deleted book.
    let fewer = card("kate", &["kate.work@other.example"]);
    let m = s
        .put_card(BOB, BOOK, "kate.vcf", &fewer, Expect::Modseq(m))
        .unwrap();
    assert!(!s.is_contact(BOB, "kate@example.org").unwrap());
    s.delete_card(BOB, BOOK, "kate.vcf", m).unwrap();
    assert!(!s.is_contact(BOB, "kate.work@other.example").unwrap());
    s.delete_address_book(BOB, "work").unwrap();
    assert!(s.contacts(BOB).unwrap().is_empty());
}

#[test]
fn a_deleted_user_takes_the_address_books_along() {
    let (_d, s) = open();
    s.add_contact(BOB, "kate@example.org").unwrap();
    s.delete_user(BOB).unwrap();
    s.create_user(BOB, None).unwrap();
    assert!(!s.is_contact(BOB, "kate@example.org").unwrap());
    assert!(s.cards(BOB, BOOK).unwrap().is_empty());
}

#[test]
fn contacts_add_and_del_write_cards() {
    let (_d, s) = open();
    assert!(s.add_contact(BOB, "Kate@Example.org").unwrap());
    assert!(
        !s.add_contact(BOB, "kate@example.org").unwrap(),
        "known already"
    );
    let cards = s.cards(BOB, BOOK).unwrap();
    assert_eq!(cards.len(), 1);
    let simple = Card::parse(&cards[0].vcard).unwrap();
    assert_eq!(simple.emails(), ["kate@example.org"]);
    assert_eq!(cards[0].uid, simple.uid());
    assert_eq!(cards[0].href, card_href_for_uid(simple.uid()));

    let two = card("al", &["al@example.org", "al@example.net"]);
    s.put_card(BOB, BOOK, "al.vcf", &two, Expect::MustNotExist)
        .unwrap();
    assert!(
        !s.add_contact(BOB, "AL@example.net").unwrap(),
        "a second EMAIL is known"
    );
    let before = s.card_changes(BOB, BOOK, None).unwrap().token;
    // Taking one EMAIL out of a card with two keeps the card.
    assert!(s.remove_contact(BOB, "al@example.net").unwrap());
    let al = s.card(BOB, BOOK, "al.vcf").unwrap().unwrap();
    assert_eq!(Card::parse(&al.vcard).unwrap().emails(), ["al@example.org"]);
    // Taking the only EMAIL out of a simple card deletes it, with a tombstone.
    assert!(s.remove_contact(BOB, "kate@example.org").unwrap());
    assert_eq!(s.cards(BOB, BOOK).unwrap().len(), 1);
    assert_eq!(
        delta(&s, BOOK, before),
        [("al.vcf".to_string(), false), (cards[0].href.clone(), true)]
    );
    assert!(!s.remove_contact(BOB, "kate@example.org").unwrap());
    assert_eq!(s.contacts(BOB).unwrap(), ["al@example.org"]);
    assert!(matches!(
        s.add_contact(BOB, "nobody"),
        Err(Error::InvalidAddress(_))
    ));
}

#[test]
fn the_contacts_gate_is_one_indexed_lookup() {
    let (dir, s) = open();
    s.add_contact(BOB, "kate@example.org").unwrap();
    let db = rusqlite::Connection::open(dir.path().join("imipd.sqlite3")).unwrap();
    let plan: Vec<String> = db
        .prepare(
            "EXPLAIN QUERY PLAN
             SELECT EXISTS (SELECT 1 FROM card_emails WHERE user = ?1 AND address = ?2)",
        )
        .unwrap()
        .query_map([BOB, "kate@example.org"], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|p| p.contains("USING COVERING INDEX card_emails_address")),
        "{plan:?}"
    );
}

#[test]
fn an_old_contacts_list_becomes_cards_in_the_default_address_book() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imipd.sqlite3");
    let old = [
        (BOB, "kate@example.org"),
        (BOB, "odd,name;x\\y@example.org"),
        ("carol@example.org", "al@example.org"),
    ];
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(include_str!("fixtures/schema-v1.sql"))
            .unwrap();
        for user in [BOB, "carol@example.org", "dave@example.org"] {
            db.execute("INSERT INTO users (name, created) VALUES (?1, 0)", [user])
                .unwrap();
            db.execute(
                "INSERT INTO addresses (address, user, is_primary) VALUES (?1, ?1, 1)",
                [user],
            )
            .unwrap();
        }
        for (user, address) in old {
            db.execute(
                "INSERT INTO contacts (user, address) VALUES (?1, ?2)",
                [user, address],
            )
            .unwrap();
        }
        db.pragma_update(None, "user_version", 1).unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.contacts(BOB).unwrap(),
        ["kate@example.org", "odd,name;x\\y@example.org"]
    );
    assert!(s.is_contact("carol@example.org", "AL@example.org").unwrap());
    assert!(s.contacts("dave@example.org").unwrap().is_empty());
    for (user, address) in old {
        let cards = s.cards(user, BOOK).unwrap();
        let found = cards
            .iter()
            .map(|c| Card::parse(&c.vcard).unwrap())
            .find(|c| c.emails() == [address])
            .unwrap_or_else(|| panic!("no card for {address}: {cards:?}"));
        assert_eq!(found.formatted_name(), address);
        let stored = cards.iter().find(|c| c.uid == found.uid()).unwrap();
        assert_eq!(stored.href, card_href_for_uid(found.uid()));
    }
    let bob = s.cards(BOB, BOOK).unwrap();
    assert_ne!(bob[0].uid, bob[1].uid);
    let initial = s.card_changes(BOB, BOOK, None).unwrap();
    assert_eq!(initial.changed.len(), 2);
    assert_eq!(
        s.default_address_book(BOB).unwrap().sync_token,
        initial.token
    );
    // Writes after the upgrade take later sequences than the migrated cards.
    s.add_contact(BOB, "new@example.org").unwrap();
    assert_eq!(delta(&s, BOOK, initial.token).len(), 1);
    let db = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'contacts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "the old table is gone");
}
