//! Mail for another user of this imipd: handed to the delivery pipeline in-process, as if
//! it had come over LMTP, so that user's Sieve script and preferences decide what it does
//! to their calendar, and it never goes out to the relay and back.

use imipd_store::OutMail;
use std::future::Future;
use std::pin::Pin;

/// The delivery pipeline as the outbox reaches it.
pub trait LocalDelivery: Send + Sync + std::fmt::Debug {
    /// Delivers `mail` to `recipients` (the address as written, the user it names); for
    /// each, whether its copy is stored.
    fn deliver<'a>(
        &'a self,
        mail: &'a OutMail,
        recipients: &'a [(String, String)],
    ) -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + 'a>>;
}
