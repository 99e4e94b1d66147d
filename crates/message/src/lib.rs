//! Parse once: what imipd reads from a mail, in one place every stage borrows from.
//!
//! - [`view`]: [`MessageView`], the one MIME parse of a message per delivery, with what
//!   every stage needs from it: the forged headers to strip, the header facts, the
//!   invitation.
//! - [`header`]: where the header section ends (and [`normalize`], so every reader agrees).
//! - [`facts`]: [`HeaderFacts`]: the author ([`author`]), whether a trusted
//!   `Authentication-Results` header ([`authres`], RFC 8601) vouches for it, the spam verdict.
//! - [`part`]: THE calendar-part rule ([`is_calendar_part`]); [`calendar`] applies it
//!   within the MIME limits and parses the chosen part once ([`Invitation`]).
//! - [`sieve_view`]: [`SieveView`], the parsed message lent to each recipient's script.
//! - [`counts`]: parse counters for tests (`parse-counts` feature).
//!
//! No I/O: bytes in, values out.

pub mod author;
pub mod authres;
pub mod calendar;
pub mod counts;
pub mod facts;
pub mod header;
pub mod part;
pub mod sieve_view;
pub mod view;

pub use author::author;
pub use calendar::{CalendarScan, Invitation, MAX_UID_BYTES, MimeLimits, find_invitation};
pub use facts::HeaderFacts;
pub use header::normalize;
pub use part::{calendar_by_headers, is_calendar_part, part_depths};
pub use sieve_view::{SIEVE_VIEW_BYTES, SieveView};
pub use view::MessageView;
