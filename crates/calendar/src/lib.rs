//! iCalendar and iTIP (RFC 5546) logic for imipd.
//!
//! Pure: no I/O and no global state. Every caller — the LMTP detection stage, the Sieve
//! filter, the update worker, and later CalDAV and the web page — goes through the
//! functions here, so one iTIP message always has one meaning. Nothing here reads a clock:
//! every function that stamps a message takes `now` from its caller.

mod address;
mod answer;
mod build;
mod components;
mod datetime;
mod decision;
mod error;
mod expand;
mod instance;
mod itip;
mod limits;
mod message;
mod model;
mod object;
mod organize;
mod outcome;
mod partstat;
mod peek;
mod recur;
mod safety;
mod sanitize;
mod schedule;
mod summary;
mod timerange;
mod values;

pub use answer::set_partstat;
pub use build::{build_cancel, build_instance_request, build_reply, build_request};
pub use components::{ComponentTag, component_tags};
pub use decision::{Change, Decision, Facts, Policy};
pub use error::ItipError;
pub use itip::{apply, apply_message};
pub use limits::Limits;
pub use message::ItipMessage;
pub use object::{Identity, identify};
pub use organize::{OrganizerChange, organizer_cancel, organizer_update};
pub use outcome::{Outcome, OutcomeKind};
pub use partstat::PartStat;
pub use peek::{Method, Peek, PeekError, peek};
pub use schedule::{
    AttendeeWrite, Role, attendee_write, owes_decline, role, schedule_status_from, schedule_tag,
    with_schedule_status,
};
pub use summary::{EventSummary, summarize};
pub use timerange::{ComponentType, Instance, Instances, TimeRange, instances_between, time_range};

/// How many calendar objects (messages and stored copies) this process has parsed, with
/// the `parse-counts` feature: tests count the parses a delivery costs.
#[cfg(feature = "parse-counts")]
pub fn parses() -> usize {
    model::PARSES.load(std::sync::atomic::Ordering::Relaxed)
}

/// PRODID of the objects and messages this crate writes.
pub(crate) const PRODID: &str = "-//imipd//imipd-calendar//EN";
