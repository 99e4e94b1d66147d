//! The background loops of imipd: the update workers that execute queued calendar jobs,
//! and the outbox that submits mail to the relay, DKIM-signing it at send time.
//!
//! - [`runner`]: the worker loop: lease, apply (through `imipd-scheduling`), commit,
//!   retry, dead-letter.
//! - [`outbound`]: the outbox loop, SMTP submission and DKIM signing.
//! - [`housekeeping`]: the node's heartbeat, dead nodes' leases, pruning.

mod background;
pub mod config;
pub mod housekeeping;
pub mod outbound;
pub mod runner;

pub use config::{Backoff, WorkerConfig};
pub use housekeeping::{HousekeepingConfig, housekeeping_round, run_housekeeping};
pub use runner::{Processor, run_worker, worker_round};
