//! The one write path of imipd: every calendar change, whether it comes from mail, the
//! command line, or later CalDAV and the web page, goes through here.
//!
//! - [`spec`]: the job the filter stage queues, and its idempotency key.
//! - [`decide`]: the decision a job carries, taken once at delivery ([`Decided`]), and
//!   what the worker recorded ([`Executed`]).
//! - [`apply`]: a decision carried out as calendar writes ([`execute`]).
//! - [`job`]: a queued job executed: its decision carried out, or taken again when what it
//!   was taken on has changed.
//! - [`log`]: a job as the decision log shows it.
//! - [`manual`]: a message the user applies by hand ("Add to calendar").
//! - [`refresh`]: the answer to an attendee's REFRESH.
//! - [`rsvp`]: an attendee's answer: their copy changes, a REPLY goes to the organizer.
//! - [`organize`]: the organizer's changes: their copy written, REQUEST/CANCEL queued.
//! - [`retry`]: a user's action planned again when the event changed under it.
//! - [`imip`]: the iMIP mail those actions send, composed for the outbox.
//! - [`change`]: what a user's action changed.
//! - [`client`]: a CalDAV client's PUT or DELETE, scheduled ([`client_put`], [`client_delete`]).
//!
//! No network I/O: the store is the only thing touched, and mail only goes as far as
//! the outbox.

pub mod apply;
pub mod change;
pub mod client;
pub mod decide;
pub mod delivered;
pub mod imip;
pub mod job;
pub mod log;
pub mod manual;
pub mod news;
pub mod organize;
pub mod refresh;
pub mod retry;
pub mod rsvp;
pub mod spec;

pub use apply::{Applied, JobError, execute};
pub use change::CalendarChanged;
pub use client::{
    ClientDelete, ClientError, ClientPut, ClientWritten, Holds, Refusal, client_delete, client_put,
};
pub use decide::{Ask, Decided, Executed, SENDER_WINDOW_SECS, changed_since, decide};
pub use job::{ApplyConfig, process_job};
pub use spec::{
    Action, ItipKey, JobSpec, SpecError, idem_key, job_for_invitation, job_for_message,
};
