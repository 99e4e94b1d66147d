//! The update stage and outbound mail of imipd.
//!
//! - [`spec`]: the job the filter stage queues, and its idempotency key.
//! - [`extract`]: the iTIP part of a queued mail.
//! - [`config`]: worker settings and the retry schedule.

pub mod config;
pub mod extract;
pub mod spec;

pub use config::{Backoff, WorkerConfig};
pub use spec::{Action, ItipKey, JobSpec, SpecError, idem_key, job_for_message};
pub mod outbound;
mod wait;
