//! vCards for imipd's address books.
//!
//! A card is read once into a [`Card`]: its text as it was written (CardDAV serves it
//! byte for byte), its UID, its formatted name and its EMAIL values. Every card that
//! reaches an address book is a [`Card`], so what the store indexes (the known senders:
//! every EMAIL of every card) always agrees with what it stores. Pure: no I/O; the only
//! randomness is [`new_uid`].
//!
//! RFCs: 6350 (vCard 4.0), 2426 (vCard 3.0), 6352 section 5.1 (one vCard per address
//! object resource, each with a UID unique in its address book).

mod build;
mod card;
mod edit;
mod error;
mod split;

pub use build::new_uid;
pub use card::{Card, MAX_CARD_BYTES, MAX_EMAILS};
pub use edit::Remaining;
pub use error::CardError;
pub use split::{Piece, split};
