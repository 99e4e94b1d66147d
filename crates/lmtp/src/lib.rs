//! Stage 1 of the pipeline, the wire: the LMTP server (RFC 2033) that sits between the
//! MTA and the mail store.
//!
//! The protocol is a pure state machine over bytes (`protocol`, `session`, `data`);
//! `spool` holds a message while it arrives, and `server` is the thin tokio shell around
//! it all. What happens to an accepted message is the host's business, behind the
//! [`Backend`] trait: `imipd-delivery` wires detect → filter → sink there.

pub mod data;
pub mod protocol;
pub mod queue_id;
pub mod server;
pub mod session;
pub mod spool;

pub use queue_id::QueueId;

use std::future::Future;
use std::net::SocketAddr;

/// What the host says about a recipient at RCPT time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptCheck {
    /// Accept; `user` is the canonical account name the recipient maps to.
    Accept { user: String },
    /// `550 5.1.1` — no such user here.
    Unknown,
    /// `451 4.3.0` — cannot tell right now (e.g. the store is down); the MTA retries.
    TempFail(String),
}

/// An accepted recipient of the current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The address exactly as given in RCPT TO (without angle brackets).
    pub address: String,
    /// The canonical user it resolved to.
    pub user: String,
}

/// One SMTP/LMTP reply: code, enhanced status code (RFC 3463) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub status: (u8, u16, u16),
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u16, u16), text: impl Into<String>) -> Self {
        Reply {
            code,
            status,
            text: text.into(),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// A finished mail transaction handed to the host after the final dot (or last BDAT).
pub struct Transaction<'a> {
    /// The message's name, given at the end of DATA and already in every reply the
    /// recipients get; log lines during [`Backend::deliver`] carry it in their span.
    pub queue_id: QueueId,
    pub peer: SocketAddr,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub recipients: &'a [Recipient],
    /// The message exactly as received (dot-unstuffed, line endings as sent).
    pub message: &'a [u8],
}

/// The host side of the LMTP server.
pub trait Backend: Send + Sync + 'static {
    fn check_recipient(&self, address: &str) -> impl Future<Output = RcptCheck> + Send;

    /// Delivers the message; returns exactly one reply per recipient, in order. A reply
    /// is a success only when the message is durably stored for that recipient.
    fn deliver(&self, txn: Transaction<'_>) -> impl Future<Output = Vec<Reply>> + Send;
}
