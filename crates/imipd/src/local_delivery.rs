//! The outbox's way to this server's own users: the delivery pipeline, in-process, with
//! the message as the LMTP server would have handed it over.

use imipd_delivery::Pipeline;
use imipd_lmtp::{Backend, QueueId, Recipient, Transaction};
use imipd_store::OutMail;
use imipd_worker::outbound::LocalDelivery;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// The purpose of a Sieve redirect: someone else's message, which this server vouches
/// nothing for.
const REDIRECT: &str = "redirect";

pub struct Local {
    pub pipeline: Arc<Pipeline>,
    /// The authserv-id this server trusts (`trusted_authserv_ids`), under which it vouches
    /// for the mail its own signed-in users send.
    pub authserv_id: String,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "local delivery as {}", self.authserv_id)
    }
}

impl Local {
    /// The message with this server's word that its From is the user who sent it: the
    /// outbox only holds mail composed here for a signed-in user's own action, from one
    /// of that user's addresses.
    fn vouched(&self, mail: &OutMail) -> Vec<u8> {
        if mail.purpose == REDIRECT {
            return mail.data.clone();
        }
        let domain = mail.mail_from.rsplit_once('@').map_or("", |(_, d)| d);
        let mut message = format!(
            "Authentication-Results: {}; dmarc=pass (a user of this server) header.from={domain}\r\n",
            self.authserv_id
        )
        .into_bytes();
        message.extend_from_slice(&mail.data);
        message
    }
}

impl LocalDelivery for Local {
    fn deliver<'a>(
        &'a self,
        mail: &'a OutMail,
        recipients: &'a [(String, String)],
    ) -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + 'a>> {
        Box::pin(async move {
            let message = self.vouched(mail);
            let recipients: Vec<Recipient> = recipients
                .iter()
                .map(|(address, user)| Recipient {
                    address: address.clone(),
                    user: user.clone(),
                })
                .collect();
            let txn = Transaction {
                queue_id: QueueId::generate(),
                peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                helo: "localhost",
                mail_from: &mail.mail_from,
                recipients: &recipients,
                message: &message,
            };
            self.pipeline
                .deliver(txn)
                .await
                .iter()
                .map(|r| r.code == 250)
                .collect()
        })
    }
}
