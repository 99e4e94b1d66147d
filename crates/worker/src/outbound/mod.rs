//! Outbound mail: composing iMIP messages, signing them, and the outbox that submits them
//! to the relay. Mail is only ever sent for something the user did (an RSVP, an event
//! they organize, a Sieve redirect), never in answer to incoming mail: no backscatter.

pub mod address;
pub mod compose;
pub mod dkim;
pub mod sender;
pub mod smtp;

pub use address::{Mailbox, is_valid_address};
pub use compose::{ComposeError, Composed, EventText, compose_itip};
pub use dkim::{Dkim, DkimError};
pub use sender::{OutboxConfig, outbox_round, run_outbox};
pub use smtp::{RelayConfig, SendError, Submitted, Tls, submit};

use imipd_store::NewMail;

/// Turns a composed message into an outbox entry, signed when `dkim` is set.
pub fn outgoing(
    user: &str,
    purpose: &str,
    composed: Composed,
    dkim: Option<&Dkim>,
) -> Result<NewMail, DkimError> {
    let data = match dkim {
        Some(dkim) => dkim.sign(&composed.data)?,
        None => composed.data,
    };
    Ok(NewMail {
        user: user.to_string(),
        mail_from: composed.mail_from,
        rcpt_to: composed.rcpt_to,
        data,
        purpose: purpose.to_string(),
    })
}
