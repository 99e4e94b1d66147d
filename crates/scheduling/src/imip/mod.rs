//! iMIP mail (RFC 6047) composed for what the user did: an answer to the organizer, an
//! organizer's REQUEST or CANCEL, a REFRESH answer. The outbox entry is unsigned: the
//! outbox signs it (DKIM) just before it is submitted, with the key of that moment.

pub mod address;
pub mod compose;

pub use address::{Mailbox, is_valid_address, one_line};
pub use compose::{ComposeError, Composed, EventText, compose_itip};

use imipd_store::NewMail;

/// Turns a composed message into an outbox entry; `queue_id` names what it is for (the
/// message a job answers, or the user's action).
pub fn outgoing(user: &str, purpose: &str, composed: Composed, queue_id: &str) -> NewMail {
    NewMail {
        user: user.to_string(),
        mail_from: composed.mail_from,
        rcpt_to: composed.rcpt_to,
        data: composed.data,
        purpose: purpose.to_string(),
        idem_key: None,
        queue_id: queue_id.to_string(),
    }
}
