//! Parse once: what imipd reads from a mail, in one place every stage borrows from.
//!
//! - [`part`]: THE calendar-part rule ([`is_calendar_part`]), shared by detection, the
//!   Sieve `:organizers` scan and the worker's re-read of a queued mail.
//! - [`invitation`]: the iTIP invitation in a mail, within the MIME limits.
//! - [`extract`]: the iTIP part of a queued mail, matched to the job's UID.
//! - [`info`]: header facts: the From address, the spam verdict, and whether a trusted
//!   `Authentication-Results` header ([`auth`]) says the sender passed DMARC.
//! - [`organizer`]: the ORGANIZER address of the calendar part.
//!
//! No I/O: bytes in, values out.

pub mod auth;
pub mod extract;
pub mod info;
pub mod invitation;
pub mod organizer;
pub mod part;

pub use auth::sender_auth;
pub use extract::{ExtractError, ItipPart, itip_part};
pub use info::MessageInfo;
pub use invitation::{Invitation, MimeLimits, find_invitation};
pub use organizer::organizer;
pub use part::{calendar_by_headers, is_calendar_part, part_depths};
