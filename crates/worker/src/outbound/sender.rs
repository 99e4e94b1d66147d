//! The outbox loop: claims queued mail with a lease, signs it, submits it to the relay, and
//! records the result. A crash mid-send loses nothing: the lease runs out and the mail is
//! claimed again (the relay may then see it twice, which SMTP allows; it never sees it
//! zero times).
//!
//! Mail waits in the outbox unsigned and is signed just before each attempt: whoever
//! queues mail needs no key, and a rotated key applies to mail already waiting.

use super::dkim::{Dkim, DkimError};
use super::local::LocalDelivery;
use super::smtp::{RelayConfig, SendError, Submitted, submit};
use crate::background::{blocking, next_round, now};
use crate::config::Backoff;
use imipd_scheduling::delivered::{DELIVERED, NO_SUCH_USER, NOT_DELIVERED, record_schedule_status};
use imipd_store::{NewMail, OutMail, Store};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::{Instrument, info, info_span, warn};

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub worker_id: String,
    /// Long enough for the slowest relay to take a batch.
    pub lease_secs: i64,
    pub batch: usize,
    pub poll_interval: Duration,
    pub backoff: Backoff,
    /// Signs outgoing mail just before it is submitted.
    pub dkim: Option<Arc<Dkim>>,
    /// Where mail for this server's own users goes instead of the relay.
    pub local: Option<Arc<dyn LocalDelivery>>,
}

/// The purpose of a Sieve redirect: someone else's message relayed unchanged, which keeps
/// its own signatures and gets none of ours.
const REDIRECT: &str = "redirect";

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            worker_id: "outbox-1".into(),
            lease_secs: 600,
            batch: 8,
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::mail(),
            dkim: None,
            local: None,
        }
    }
}

/// Runs until shutdown; `wake` is poked by whoever queues mail.
pub async fn run_outbox(
    store: Arc<dyn Store>,
    relay: Option<RelayConfig>,
    cfg: OutboxConfig,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    match &relay {
        Some(relay) => {
            if relay.tls == super::smtp::Tls::None && relay.password.is_some() {
                warn!(
                    "smtp.tls is \"none\": the relay password crosses the network in clear \
                     text (set smtp.tls = \"starttls\" or \"implicit\")"
                );
            }
            info!(
                worker = cfg.worker_id,
                "outbox started: relay {}:{}", relay.host, relay.port
            );
        }
        None => info!(
            worker = cfg.worker_id,
            "outbox started without a relay: mail for users here is delivered, other mail \
             waits in the outbox until smtp.host is set"
        ),
    }
    loop {
        let handled = outbox_round(&store, relay.as_ref(), &cfg).await;
        // A full batch means more may be waiting: go again at once.
        if handled < cfg.batch && !next_round(cfg.poll_interval, &wake, &mut shutdown).await {
            break;
        }
        if *shutdown.borrow() {
            break;
        }
    }
    info!(worker = cfg.worker_id, "outbox stopped");
}

/// Claims one batch of due mail and sends it; returns how many mails were claimed.
pub async fn outbox_round(
    store: &Arc<dyn Store>,
    relay: Option<&RelayConfig>,
    cfg: &OutboxConfig,
) -> usize {
    let (worker, lease, batch) = (cfg.worker_id.clone(), cfg.lease_secs, cfg.batch);
    let mails = match blocking(store, move |s| s.claim_mail(&worker, lease, batch)).await {
        Ok(mails) => mails,
        Err(e) => {
            warn!(worker = cfg.worker_id, "cannot claim outgoing mail: {e}");
            return 0;
        }
    };
    let count = mails.len();
    for mail in mails {
        // Every line about the mail carries the queue id of what it answers or redirects.
        let span = info_span!("mail", queue_id = %mail.queue_id);
        send_one(store, relay, cfg, mail).instrument(span).await;
    }
    count
}

/// Signs and submits one claimed mail, and records how it went.
async fn send_one(
    store: &Arc<dyn Store>,
    relay: Option<&RelayConfig>,
    cfg: &OutboxConfig,
    mail: OutMail,
) {
    if let Some(local) = &cfg.local
        && let Some(result) = deliver_here(store, local.as_ref(), &mail).await
    {
        record(store, cfg, mail, result).await;
        return;
    }
    let Some(relay) = relay else {
        wait_for_relay(store, cfg, &mail).await;
        return;
    };
    let result = match signed(cfg.dkim.as_deref(), &mail) {
        Ok(data) => submit(relay, &mail.mail_from, &mail.rcpt_to, &data).await,
        // Nothing the relay did: the mail waits for a working key, like for a relay.
        Err(e) => Err(SendError::Transient(e.to_string())),
    };
    record(store, cfg, mail, result).await;
}

/// Puts mail for recipients elsewhere back to wait, without counting an attempt: nothing
/// was tried, and it goes out once a relay is set (and the server restarted).
async fn wait_for_relay(store: &Arc<dyn Store>, cfg: &OutboxConfig, mail: &OutMail) {
    let (id, worker) = (mail.id, cfg.worker_id.clone());
    let retry_at = now() + NO_RELAY_RECHECK_SECS;
    let stored = blocking(store, move |s| {
        s.mail_waits(id, &worker, NO_RELAY, retry_at)
    })
    .await;
    match stored {
        Ok(()) => info!(
            mail = id,
            rcpt = mail.rcpt_to.join(","),
            "waits: {NO_RELAY}"
        ),
        Err(e) => warn!(
            mail = id,
            "cannot put the mail back to wait for a relay: {e}"
        ),
    }
}

/// Why mail waits when no relay is configured, as `imipd mail list` shows it.
const NO_RELAY: &str =
    "no relay: smtp.host is not set; the mail waits until it is (then restart imipd)";
/// How often mail waiting for a relay is looked at again.
const NO_RELAY_RECHECK_SECS: i64 = 300;

/// Delivers the mail to the recipients who are users here, when there are any; the others
/// go on as a mail of their own, to the relay. `None`: no recipient is local.
async fn deliver_here(
    store: &Arc<dyn Store>,
    local: &dyn LocalDelivery,
    mail: &OutMail,
) -> Option<Result<Submitted, SendError>> {
    let rcpts = mail.rcpt_to.clone();
    let resolved = blocking(store, move |s| {
        rcpts
            .into_iter()
            .map(|r| Ok((s.resolve_address(&r)?, r)))
            .collect::<imipd_store::Result<Vec<_>>>()
    })
    .await;
    let resolved = match resolved {
        Ok(resolved) => resolved,
        Err(why) => return Some(Err(SendError::Transient(why))),
    };
    let here: Vec<(String, String)> = resolved
        .iter()
        .filter_map(|(user, r)| user.clone().map(|u| (r.clone(), u)))
        .collect();
    if here.is_empty() {
        return None;
    }
    let stored = local.deliver(mail, &here).await;
    let failed: Vec<(String, String)> = here
        .iter()
        .zip(stored.iter().chain(std::iter::repeat(&false)))
        .filter(|(_, ok)| !**ok)
        .map(|((r, _), _)| (r.clone(), "local delivery failed (see the log)".to_string()))
        .collect();
    let remote: Vec<(String, String)> = resolved
        .into_iter()
        .filter(|(user, _)| user.is_none())
        .map(|(_, r)| (r, "not a user here: to the relay".to_string()))
        .collect();
    if failed.len() == here.len() && remote.is_empty() {
        return Some(Err(SendError::Transient(
            "local delivery failed (see the log)".into(),
        )));
    }
    info!(
        delivered = here.len() - failed.len(),
        "delivered to users of this server"
    );
    Some(Ok(Submitted {
        deferred: failed.into_iter().chain(remote).collect(),
        refused: Vec::new(),
    }))
}

/// The message as it goes out: with a DKIM-Signature on top when a key is set.
fn signed<'m>(dkim: Option<&Dkim>, mail: &'m OutMail) -> Result<Cow<'m, [u8]>, DkimError> {
    match dkim {
        Some(dkim) if mail.purpose != REDIRECT => dkim.sign(&mail.data).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(&mail.data)),
    }
}

/// Writes the result of one submission back to the outbox, with one log line.
async fn record(
    store: &Arc<dyn Store>,
    cfg: &OutboxConfig,
    mail: OutMail,
    result: Result<Submitted, SendError>,
) {
    let worker = cfg.worker_id.clone();
    let id = mail.id;
    let (purpose, rcpt) = (mail.purpose.clone(), mail.rcpt_to.join(","));
    let (summary, stored) = match result {
        Ok(submitted) => {
            let summary = sent_summary(&submitted);
            let stored = blocking(store, move |s| {
                let refused: Vec<String> =
                    submitted.refused.iter().map(|(r, _)| r.clone()).collect();
                let taken: Vec<String> = mail
                    .rcpt_to
                    .iter()
                    .filter(|r| {
                        !refused.contains(r) && !submitted.deferred.iter().any(|(d, _)| d == *r)
                    })
                    .cloned()
                    .collect();
                mark(s, &mail, &taken, DELIVERED);
                mark(s, &mail, &refused, NO_SUCH_USER);
                // Recipients the relay put off go out again as a mail of their own.
                if !submitted.deferred.is_empty() {
                    s.queue_mail(&NewMail {
                        rcpt_to: submitted.deferred.into_iter().map(|(r, _)| r).collect(),
                        user: mail.user,
                        mail_from: mail.mail_from,
                        data: mail.data,
                        purpose: mail.purpose,
                        idem_key: None,
                        queue_id: mail.queue_id,
                    })?;
                }
                s.mail_sent(id, &worker)
            })
            .await;
            (summary, stored)
        }
        Err(SendError::Permanent(why)) => {
            let summary = format!("dead: {why}");
            let stored = blocking(store, move |s| {
                mark(s, &mail, &mail.rcpt_to, NOT_DELIVERED);
                s.mail_failed(id, &worker, &why, None)
            })
            .await;
            (summary, stored)
        }
        Err(SendError::Transient(why)) => {
            let retry_at = cfg.backoff.retry_at(mail.attempts, now());
            let summary = match retry_at {
                Some(at) => format!("deferred until {at}: {why}"),
                None => format!("dead after {} attempts: {why}", mail.attempts),
            };
            let stored = blocking(store, move |s| {
                if retry_at.is_none() {
                    mark(s, &mail, &mail.rcpt_to, NOT_DELIVERED);
                }
                s.mail_failed(id, &worker, &why, retry_at)
            })
            .await;
            (summary, stored)
        }
    };
    match stored {
        Ok(()) => info!(mail = id, purpose, rcpt, "{summary}"),
        Err(e) => warn!(
            mail = id,
            purpose, rcpt, "{summary}; recording it failed: {e}"
        ),
    }
}

/// Writes what became of an organizer's REQUEST into their copy; a failure to do so is
/// logged and does not undo the send.
fn mark(store: &dyn Store, mail: &OutMail, rcpts: &[String], status: &str) {
    if let Err(e) = record_schedule_status(store, mail, rcpts, status) {
        warn!(mail = mail.id, "cannot write SCHEDULE-STATUS {status}: {e}");
    }
}

fn sent_summary(submitted: &Submitted) -> String {
    let mut summary = String::from("sent");
    for (rcpt, why) in &submitted.refused {
        summary.push_str(&format!("; refused {rcpt}: {why}"));
    }
    for (rcpt, why) in &submitted.deferred {
        summary.push_str(&format!("; deferred {rcpt}: {why}"));
    }
    summary
}
