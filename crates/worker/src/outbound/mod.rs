//! Outbound mail: the outbox that submits queued mail to the relay, signing it (DKIM)
//! just before it goes, so queued mail gets the key of the moment it is sent. Mail is
//! only ever queued for something the user did (an RSVP, an event they organize, a Sieve
//! redirect), never in answer to incoming mail: no backscatter.

pub mod dkim;
pub mod local;
pub mod sender;
pub mod smtp;

pub use dkim::{Dkim, DkimError};
pub use local::LocalDelivery;
pub use sender::{OutboxConfig, outbox_round, run_outbox};
pub use smtp::{RelayConfig, SendError, Submitted, Tls, submit};
