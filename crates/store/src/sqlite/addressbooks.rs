//! Address books in SQLite: books, cards, the EMAIL index and the change log. Every card
//! write goes through [`put`] or [`delete`], so the index and the log never miss one.

use super::changes::{Log, since_in};
use super::{SqliteStore, users};
use crate::{
    AddressBook, AddressBookError, AddressBooks, CardConflict, CardFound, Changes,
    DEFAULT_ADDRESS_BOOK, Error, Expect, Result, StoredCard, canonical_address, card_href_for_uid,
    normalize_address,
};
use imipd_contacts::{Card, Remaining, new_uid};
use rusqlite::{Connection, OptionalExtension, params};

const DEFAULT_NAME: &str = "Contacts";
/// The `href` of a change-log row about the book itself.
const BOOK: &str = "";

const BOOK_COLUMNS: &str = "id, name, description, is_default, sync_seq";

fn book_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AddressBook> {
    Ok(AddressBook {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        is_default: r.get(3)?,
        sync_token: r.get(4)?,
    })
}

fn list(conn: &Connection, user: &str) -> Result<Vec<AddressBook>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {BOOK_COLUMNS} FROM addressbooks WHERE user = ?1 ORDER BY is_default DESC, id"
        ))?
        .query_map([user], book_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

fn get(conn: &Connection, user: &str, id: &str) -> Result<AddressBook> {
    conn.prepare_cached(&format!(
        "SELECT {BOOK_COLUMNS} FROM addressbooks WHERE user = ?1 AND id = ?2"
    ))?
    .query_row(params![user, id], book_from_row)
    .optional()?
    .ok_or_else(|| AddressBookError::NoSuchAddressBook(id.into()).into())
}

/// Records a change to the card at `href` (`None`: the book itself) and moves the book's
/// sync token; returns the change's sequence number, the card's new modseq.
fn log(
    conn: &Connection,
    user: &str,
    book: &str,
    href: Option<&str>,
    uid: &str,
    deleted: bool,
) -> Result<i64> {
    let href = href.unwrap_or(BOOK);
    conn.prepare_cached("DELETE FROM card_changes WHERE user = ?1 AND book_id = ?2 AND href = ?3")?
        .execute(params![user, book, href])?;
    let seq: i64 = conn
        .prepare_cached(
            "INSERT INTO card_changes (user, book_id, href, uid, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq",
        )?
        .query_row(params![user, book, href, uid, deleted], |r| r.get(0))?;
    conn.prepare_cached("UPDATE addressbooks SET sync_seq = ?3 WHERE user = ?1 AND id = ?2")?
        .execute(params![user, book, seq])?;
    Ok(seq)
}

pub fn ensure_default(conn: &Connection, user: &str) -> Result<AddressBook> {
    if let Some(book) = conn
        .prepare_cached(&format!(
            "SELECT {BOOK_COLUMNS} FROM addressbooks WHERE user = ?1 AND is_default = 1"
        ))?
        .query_row([user], book_from_row)
        .optional()?
    {
        return Ok(book);
    }
    insert(conn, user, DEFAULT_ADDRESS_BOOK, DEFAULT_NAME, "", true)
}

fn insert(
    conn: &Connection,
    user: &str,
    id: &str,
    name: &str,
    description: &str,
    is_default: bool,
) -> Result<AddressBook> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO addressbooks
             (user, id, name, description, is_default, sync_floor, sync_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
        params![user, id, name, description, is_default],
    )?;
    if inserted == 0 {
        return Err(AddressBookError::AddressBookExists(id.into()).into());
    }
    // Tokens from before the book existed (an earlier book of that id) are void.
    let seq = log(conn, user, id, None, "", false)?;
    conn.execute(
        "UPDATE addressbooks SET sync_floor = ?3 WHERE user = ?1 AND id = ?2",
        params![user, id, seq],
    )?;
    get(conn, user, id)
}

fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AddressBookError::InvalidId(id.into()).into())
    }
}

fn check_href(href: &str) -> Result<()> {
    let ok = !href.is_empty()
        && href.len() <= 255
        && href != "."
        && href != ".."
        && !href.chars().any(|c| c == '/' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(AddressBookError::InvalidHref(href.into()).into())
    }
}

const CARD_COLUMNS: &str = "book_id, href, uid, vcard, modseq";

fn card_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCard> {
    Ok(StoredCard {
        book_id: r.get(0)?,
        href: r.get(1)?,
        uid: r.get(2)?,
        vcard: r.get(3)?,
        modseq: r.get(4)?,
    })
}

fn card(conn: &Connection, user: &str, book: &str, href: &str) -> Result<Option<StoredCard>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM cards WHERE user = ?1 AND book_id = ?2 AND href = ?3"
        ))?
        .query_row(params![user, book, href], card_from_row)
        .optional()?)
}

/// Where else the UID is: in this book for `MustNotExist`, in any of the user's books for
/// `UidUnused`.
fn uid_holder(
    conn: &Connection,
    user: &str,
    book: &str,
    href: &str,
    uid: &str,
    expect: Expect,
) -> Result<Option<CardFound>> {
    let sql = match expect {
        Expect::MustNotExist => {
            "SELECT book_id, href FROM cards WHERE user = ?1 AND uid = ?2
             AND book_id = ?3 AND href != ?4"
        }
        Expect::UidUnused => {
            "SELECT book_id, href FROM cards WHERE user = ?1 AND uid = ?2
             AND NOT (book_id = ?3 AND href = ?4)"
        }
        // A new version keeps the UID of the card it replaces (checked against it), and
        // that UID cannot be elsewhere in the book.
        Expect::Modseq(_) => return Ok(None),
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![user, uid, book, href], |r| {
            Ok(CardFound::Uid {
                book_id: r.get(0)?,
                href: r.get(1)?,
            })
        })
        .optional()?)
}

/// The one card write: checks the precondition, stores the card, indexes its EMAILs and
/// logs the change (inside the caller's transaction).
pub fn put(
    conn: &Connection,
    user: &str,
    book: &str,
    href: &str,
    card: &Card,
    expect: Expect,
) -> Result<i64> {
    check_href(href)?;
    if book == DEFAULT_ADDRESS_BOOK {
        ensure_default(conn, user)?;
    }
    get(conn, user, book)?;
    let stored = self::card(conn, user, book, href)?;
    let found = match (expect, &stored) {
        (Expect::MustNotExist | Expect::UidUnused, Some(s)) => Some(CardFound::Version(s.modseq)),
        (Expect::MustNotExist | Expect::UidUnused, None) => {
            uid_holder(conn, user, book, href, card.uid(), expect)?
        }
        (Expect::Modseq(n), Some(s)) if s.modseq == n && s.uid == card.uid() => None,
        (Expect::Modseq(n), Some(s)) if s.modseq == n => Some(CardFound::OtherUid(s.uid.clone())),
        (Expect::Modseq(_), Some(s)) => Some(CardFound::Version(s.modseq)),
        (Expect::Modseq(_), None) => Some(CardFound::Nothing),
    };
    if let Some(found) = found {
        return Err(conflict(user, book, href, card.uid(), expect, found));
    }
    let modseq = log(conn, user, book, Some(href), card.uid(), false)?;
    conn.prepare_cached(
        "INSERT INTO cards (user, book_id, href, uid, vcard, modseq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user, book_id, href) DO UPDATE SET vcard = excluded.vcard,
             modseq = excluded.modseq",
    )?
    .execute(params![user, book, href, card.uid(), card.text(), modseq])?;
    conn.prepare_cached("DELETE FROM card_emails WHERE user = ?1 AND book_id = ?2 AND href = ?3")?
        .execute(params![user, book, href])?;
    let mut index = conn.prepare_cached(
        "INSERT OR IGNORE INTO card_emails (user, book_id, href, address) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for address in card.emails().iter().map(|e| normalize_address(e)) {
        // What is not local@domain can never be a sender's address.
        if canonical_address(&address).is_some() {
            index.execute(params![user, book, href, address])?;
        }
    }
    Ok(modseq)
}

fn conflict(
    user: &str,
    book: &str,
    href: &str,
    uid: &str,
    expected: Expect,
    found: CardFound,
) -> Error {
    AddressBookError::Conflict(Box::new(CardConflict {
        user: user.into(),
        book_id: book.into(),
        href: href.into(),
        uid: uid.into(),
        expected,
        found,
    }))
    .into()
}

/// The one card delete: the card goes (its EMAILs with it), a tombstone stays in the log.
pub fn delete(conn: &Connection, user: &str, book: &str, href: &str, modseq: i64) -> Result<()> {
    get(conn, user, book)?;
    let stored = self::card(conn, user, book, href)?;
    let expect = Expect::Modseq(modseq);
    let uid = match stored {
        Some(s) if s.modseq == modseq => s.uid,
        Some(s) => {
            let found = CardFound::Version(s.modseq);
            return Err(conflict(user, book, href, &s.uid, expect, found));
        }
        None => return Err(conflict(user, book, href, "", expect, CardFound::Nothing)),
    };
    conn.prepare_cached("DELETE FROM cards WHERE user = ?1 AND book_id = ?2 AND href = ?3")?
        .execute(params![user, book, href])?;
    log(conn, user, book, Some(href), &uid, true)?;
    Ok(())
}

pub fn is_contact(conn: &Connection, user: &str, address: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM card_emails WHERE user = ?1 AND address = ?2)",
        )?
        .query_row(params![user, address], |r| r.get(0))?)
}

/// `address` must be normalised already.
pub fn add_contact(conn: &Connection, user: &str, address: &str) -> Result<bool> {
    if is_contact(conn, user, address)? {
        return Ok(false);
    }
    let book = ensure_default(conn, user)?;
    let uid = new_uid();
    let card = Card::simple(&uid, None, address)?;
    put(
        conn,
        user,
        &book.id,
        &card_href_for_uid(&uid),
        &card,
        Expect::MustNotExist,
    )?;
    Ok(true)
}

pub fn remove_contact(conn: &Connection, user: &str, address: &str) -> Result<bool> {
    let target = normalize_address(address);
    let holders = conn
        .prepare_cached("SELECT book_id, href FROM card_emails WHERE user = ?1 AND address = ?2")?
        .query_map(params![user, target], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (book, href) in &holders {
        let Some(stored) = self::card(conn, user, book, href)? else {
            continue;
        };
        let card = Card::parse(&stored.vcard)?;
        match card.without_emails(|e| normalize_address(e) == target)? {
            Remaining::Unchanged => {}
            Remaining::Card(left) => {
                put(conn, user, book, href, &left, Expect::Modseq(stored.modseq))?;
            }
            Remaining::Nothing => delete(conn, user, book, href, stored.modseq)?,
        }
    }
    Ok(!holders.is_empty())
}

pub fn contacts(conn: &Connection, user: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT DISTINCT address FROM card_emails WHERE user = ?1 ORDER BY address",
        )?
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

const BOOKS: Log = Log {
    collections: "addressbooks",
    members: "cards",
    changes: "card_changes",
    column: "book_id",
    own_href: BOOK,
};

fn since(conn: &mut Connection, user: &str, book: &str, token: Option<i64>) -> Result<Changes> {
    since_in(
        conn,
        &BOOKS,
        user,
        book,
        token,
        || AddressBookError::NoSuchAddressBook(book.into()).into(),
        |token| {
            AddressBookError::InvalidSyncToken {
                book_id: book.into(),
                token,
            }
            .into()
        },
    )
}

impl SqliteStore {
    /// The user's canonical name, once `book` is known to exist: the default book is
    /// made on first use, by a read too.
    fn open_book(&self, user: &str, book: &str) -> Result<String> {
        let found = self.with(|conn| {
            let user = users::require(conn, user)?;
            let exists = get(conn, &user, book).map(|_| ());
            Ok((user, exists))
        })?;
        match found {
            (user, Ok(())) => Ok(user),
            (user, Err(Error::AddressBook(AddressBookError::NoSuchAddressBook(_))))
                if book == DEFAULT_ADDRESS_BOOK =>
            {
                self.write(|tx| ensure_default(tx, &user))?;
                Ok(user)
            }
            (_, Err(e)) => Err(e),
        }
    }
}

impl AddressBooks for SqliteStore {
    fn address_books(&self, user: &str) -> Result<Vec<AddressBook>> {
        let books = self.with(|conn| {
            let name = users::require(conn, user)?;
            list(conn, &name)
        })?;
        if books.first().is_some_and(|b| b.is_default) {
            return Ok(books);
        }
        self.write(|tx| {
            let name = users::require(tx, user)?;
            ensure_default(tx, &name)?;
            list(tx, &name)
        })
    }

    fn default_address_book(&self, user: &str) -> Result<AddressBook> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            ensure_default(tx, &name)
        })
    }

    fn create_address_book(
        &self,
        user: &str,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<AddressBook> {
        check_id(id)?;
        self.write(|tx| {
            let user = users::require(tx, user)?;
            ensure_default(tx, &user)?;
            insert(tx, &user, id, name, description, false)
        })
    }

    fn set_address_book(
        &self,
        user: &str,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<AddressBook> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            get(tx, &user, id)?;
            tx.execute(
                "UPDATE addressbooks SET name = ?3, description = ?4 WHERE user = ?1 AND id = ?2",
                params![user, id, name, description],
            )?;
            log(tx, &user, id, None, "", false)?;
            get(tx, &user, id)
        })
    }

    fn delete_address_book(&self, user: &str, id: &str) -> Result<()> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            get(tx, &user, id)?;
            tx.execute(
                "DELETE FROM addressbooks WHERE user = ?1 AND id = ?2",
                params![user, id],
            )?;
            super::dead_properties::forget(tx, &user, &crate::PropertyOwner::AddressBook(id))?;
            // Its cards' rows go with it; a book made again under this id starts afresh.
            tx.execute(
                "DELETE FROM card_changes WHERE user = ?1 AND book_id = ?2",
                params![user, id],
            )?;
            Ok(())
        })
    }

    fn cards(&self, user: &str, book: &str) -> Result<Vec<StoredCard>> {
        let user = self.open_book(user, book)?;
        self.with(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {CARD_COLUMNS} FROM cards WHERE user = ?1 AND book_id = ?2 ORDER BY href"
                ))?
                .query_map(params![user, book], card_from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    fn card(&self, user: &str, book: &str, href: &str) -> Result<Option<StoredCard>> {
        let user = self.open_book(user, book)?;
        self.with(|conn| card(conn, &user, book, href))
    }

    fn card_by_uid(&self, user: &str, book: &str, uid: &str) -> Result<Option<StoredCard>> {
        let user = self.open_book(user, book)?;
        self.with(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {CARD_COLUMNS} FROM cards WHERE user = ?1 AND book_id = ?2 AND uid = ?3"
                ))?
                .query_row(params![user, book, uid], card_from_row)
                .optional()?)
        })
    }

    fn put_card(
        &self,
        user: &str,
        book: &str,
        href: &str,
        card: &Card,
        expect: Expect,
    ) -> Result<i64> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            put(tx, &user, book, href, card, expect)
        })
    }

    fn delete_card(&self, user: &str, book: &str, href: &str, modseq: i64) -> Result<()> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            delete(tx, &user, book, href, modseq)
        })
    }

    fn card_changes(&self, user: &str, book: &str, token: Option<i64>) -> Result<Changes> {
        let user = self.open_book(user, book)?;
        self.with(|conn| since(conn, &user, book, token))
    }
}
