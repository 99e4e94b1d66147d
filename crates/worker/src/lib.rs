//! The update stage and outbound mail of imipd.
//!
//! - [`spec`]: the job the filter stage queues, and its idempotency key.
//! - [`apply`]: the one apply path, for the worker, the web page and CalDAV.
//! - [`runner`]: the worker loop: lease, apply, commit, retry, dead-letter.
//! - [`events`]: "calendar changed" notifications for push.
//! - [`organize`]: the organizer's changes: their copy written, REQUEST/CANCEL queued.
//! - [`outbound`]: composing, signing and sending iMIP mail through the outbox.
//! - [`redirect`]: Sieve redirect as an outbox entry.
//! - [`refresh`]: the answer to an attendee's REFRESH.
//! - [`rsvp`]: an attendee's answer: their copy changes, a REPLY goes to the organizer.

pub mod apply;
mod background;
pub mod config;
pub mod events;
pub mod organize;
pub mod outbound;
pub mod redirect;
pub mod refresh;
pub mod rsvp;
pub mod runner;
pub mod spec;

pub use apply::{Applied, JobError, apply_itip, process_job};
pub use config::{Backoff, WorkerConfig};
pub use events::CalendarChanged;
pub use runner::{Processor, run_worker, worker_round};
pub use spec::{Action, ItipKey, JobSpec, SpecError, idem_key, job_for_message};
