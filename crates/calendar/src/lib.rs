//! iCalendar and iTIP (RFC 5546) logic for imipd.
//!
//! Pure: no I/O, no clocks read implicitly, no global state. Every caller — the LMTP
//! detection stage, the Sieve filter, the update worker, and later CalDAV and the web
//! page — goes through the functions here, so one iTIP message always has one meaning.

mod limits;
mod outcome;
mod peek;

pub use limits::Limits;
pub use outcome::{Outcome, OutcomeKind};
pub use peek::{Method, Peek, PeekError, peek};
