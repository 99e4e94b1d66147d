//! The update stage and outbound mail of imipd.
//!
//! - [`spec`]: the job the filter stage queues, and its idempotency key.
//! - [`extract`]: the iTIP part of a queued mail.
//! - [`events`]: "calendar changed" notifications for push.
//! - [`outbound`]: composing, signing and sending iMIP mail through the outbox.
//! - [`redirect`]: Sieve redirect as an outbox entry.

mod background;
pub mod config;
pub mod events;
pub mod extract;
pub mod outbound;
pub mod redirect;
pub mod spec;

pub use config::{Backoff, WorkerConfig};
pub use events::CalendarChanged;
pub use spec::{Action, ItipKey, JobSpec, SpecError, idem_key, job_for_message};
