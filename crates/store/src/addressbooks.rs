//! Address books (RFC 6352 collections) holding vCards: the types, the errors and the
//! [`AddressBooks`] trait every backend implements.
//!
//! They work as calendars do: every card write names what it expects ([`Expect`]) and
//! fails with a typed [`CardConflict`] when that no longer holds; every write and delete
//! replaces the card's row in the book's change log under a new sequence number (its
//! `modseq`, the number in its ETag), a delete leaving a tombstone, so a book's sync token
//! is its newest change. Every EMAIL of every card is indexed on write: that index
//! answers [`crate::Store::is_contact`].

use crate::{Changes, Expect, Result};
use imipd_contacts::{Card, CardError};
use serde::Serialize;

/// The id of the address book made on first use.
pub const DEFAULT_ADDRESS_BOOK: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressBook {
    pub id: String,
    /// The display name.
    pub name: String,
    pub description: String,
    pub is_default: bool,
    /// Grows with every change to the book or its cards: its sync token and ctag (see
    /// [`AddressBooks::card_changes`]).
    pub sync_token: i64,
}

/// A card as stored: the vCard as it was written, under its resource name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCard {
    pub book_id: String,
    /// The resource name in its book: [`crate::card_href_for_uid`] for cards imipd files
    /// itself; CardDAV clients choose their own.
    pub href: String,
    pub uid: String,
    pub vcard: String,
    /// The sequence of the write that made this version: the number in its ETag.
    pub modseq: i64,
}

impl StoredCard {
    /// The strong ETag of this version, quoted as HTTP sends it.
    pub fn etag(&self) -> String {
        crate::etag(self.modseq)
    }
}

/// What a conflicting card write found instead of what it expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CardFound {
    /// No card at the href.
    Nothing,
    /// The card, at this version.
    Version(i64),
    /// A card with the UID, at `href` of `book_id`.
    Uid { book_id: String, href: String },
    /// The href holds a card with another UID.
    OtherUid(String),
}

impl std::fmt::Display for CardFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardFound::Nothing => f.write_str("none"),
            CardFound::Version(n) => write!(f, "version {n}"),
            CardFound::Uid { book_id, href } => {
                write!(f, "the UID already stored at {book_id}/{href}")
            }
            CardFound::OtherUid(uid) => write!(f, "a card with UID {uid:?} at that name"),
        }
    }
}

/// A card write refused because the card is not as the writer expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardConflict {
    pub user: String,
    pub book_id: String,
    pub href: String,
    pub uid: String,
    pub expected: Expect,
    pub found: CardFound,
}

impl std::fmt::Display for CardConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let expected = match self.expected {
            Expect::MustNotExist => "no such card in the address book".to_string(),
            Expect::UidUnused => "no card with this UID in any address book".to_string(),
            Expect::Modseq(n) => format!("version {n}"),
        };
        write!(
            f,
            "write to card {}/{} of {} (UID {:?}) refused: expected {expected}, found {} \
             (read it again and retry)",
            self.book_id, self.href, self.user, self.uid, self.found
        )
    }
}

/// Why an address-book call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressBookError {
    #[error("no such address book {0:?}")]
    NoSuchAddressBook(String),
    #[error("address book {0:?} exists already")]
    AddressBookExists(String),
    #[error("invalid address book id {0:?}: use 1-64 characters of A-Z a-z 0-9 - _")]
    InvalidId(String),
    #[error(
        "invalid card name {0:?}: a resource name is 1-255 bytes, without '/' or control \
         characters, and not . or .."
    )]
    InvalidHref(String),
    /// A write whose expectation no longer holds; nothing was written.
    #[error("{0}")]
    Conflict(Box<CardConflict>),
    #[error(
        "sync token {token} is not one of address book {book_id:?}'s (too old, from a book \
         deleted since, or never given out); sync again from the start"
    )]
    InvalidSyncToken { book_id: String, token: i64 },
    #[error("{0}")]
    Card(#[from] CardError),
}

impl From<CardError> for crate::Error {
    fn from(e: CardError) -> Self {
        AddressBookError::Card(e).into()
    }
}

/// Address books and their cards. Methods are blocking, like [`crate::Store`]'s.
pub trait AddressBooks: Send + Sync {
    /// The user's address books, the default one first (made on first use).
    fn address_books(&self, user: &str) -> Result<Vec<AddressBook>>;
    /// The user's default address book, made on first use.
    fn default_address_book(&self, user: &str) -> Result<AddressBook>;
    fn create_address_book(
        &self,
        user: &str,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<AddressBook>;
    /// Changes a book's display name and description (its cards stay as they are).
    fn set_address_book(
        &self,
        user: &str,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<AddressBook>;
    /// Deletes a book with its cards; their addresses stop being contacts.
    fn delete_address_book(&self, user: &str, id: &str) -> Result<()>;
    /// The cards of one book, by resource name.
    fn cards(&self, user: &str, book: &str) -> Result<Vec<StoredCard>>;
    fn card(&self, user: &str, book: &str, href: &str) -> Result<Option<StoredCard>>;
    fn card_by_uid(&self, user: &str, book: &str, uid: &str) -> Result<Option<StoredCard>>;
    /// Writes a card at `href` if `expect` holds, re-indexes its EMAILs and logs the
    /// change; returns its new `modseq`. [`AddressBookError::Conflict`] says what was
    /// found instead (another version, no card, the UID at another href).
    fn put_card(
        &self,
        user: &str,
        book: &str,
        href: &str,
        card: &Card,
        expect: Expect,
    ) -> Result<i64>;
    /// Deletes the card at `href` if it is still the version `modseq`, leaving a
    /// tombstone in the change log.
    fn delete_card(&self, user: &str, book: &str, href: &str, modseq: i64) -> Result<()>;
    /// What changed in a book since `token`, an [`AddressBook::sync_token`] read earlier
    /// (`None`: every card in it now). A token from before the book was created, or never
    /// given out, is [`AddressBookError::InvalidSyncToken`]: the client syncs from scratch.
    fn card_changes(&self, user: &str, book: &str, token: Option<i64>) -> Result<Changes>;
}
