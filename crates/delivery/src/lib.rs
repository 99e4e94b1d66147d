//! Stages 1 and 2 of the pipeline, behind the LMTP server's [`imipd_lmtp::Backend`]:
//! detect → filter → sink, one reply per recipient.
//!
//! - [`pipeline`]: [`Pipeline`], the backend: recipients resolved, each message parsed and
//!   detected once, filtered per user on that parse, stored, and answered.
//! - [`detect`]: the one parse (`imipd-message`'s view: forged headers, header facts, the
//!   calendar part) and the `X-ME-Cal-*` headers it earns each recipient.
//! - [`filter`], [`decide`], [`scripts`]: the recipient's Sieve script run on the mail,
//!   the calendar decision (taken once, one recipient at a time per user), and the jobs
//!   queued for the update stage with it.
//! - [`outcome_header`]: the `X-Imipd-Cal-Outcome` line, the decision as the mail shows it.
//! - [`redirect`]: a Sieve redirect as an outbox entry.
//! - [`sink`]: where the copy goes: [`maildir::Maildir`] writes the user's Maildir, and
//!   [`downstream::LmtpClient`] hands the message to another LMTP server.

pub mod config;
pub mod decide;
mod deciding;
pub mod detect;
pub mod downstream;
pub mod filter;
pub mod maildir;
pub mod outcome_header;
pub mod pipeline;
pub mod redirect;
pub mod scripts;
pub mod sink;

pub use config::DeliveryConfig;
pub use decide::action_for;
pub use pipeline::{Pipeline, Plan, RecipientView};
pub use scripts::ScriptCache;
pub use sink::Sink;
