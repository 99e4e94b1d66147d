//! The delivery pipeline, as the LMTP server sees it:
//!
//! ```text
//!   RCPT  → resolve the address to a user (550 if unknown)
//!   DATA  → detect: the message parsed once (MIME, header facts, the calendar part)
//!         → for each user: look up the UID → filter (Sieve, on the same parse)
//!           → hold calendar jobs (the calendar part) → sink (Maildir or downstream LMTP)
//!           → release the jobs if it said 250, else drop them
//!         → one reply per recipient
//! ```
//!
//! A user named by several RCPTs (aliases, repeats) gets one copy; each of those RCPTs
//! gets that copy's reply. Calendar trouble never costs mail: a panic or a store error in
//! detection or filtering degrades to delivering the message unchanged to the inbox.

use crate::config::DeliveryConfig;
use crate::deciding::Deciding;
use crate::detect::{self, MessageView, MimeLimits};
use crate::outcome_header::outcome_header;
use crate::scripts::ScriptCache;
use crate::sink::Sink;
use imipd_calendar::{Limits, Outcome};
use imipd_lmtp::{Backend, RcptCheck, Recipient, Reply, Transaction};
use imipd_message::{SieveView, header, normalize};
use imipd_sieve::Delivery;
use imipd_store::{CalendarObject, Store};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::Notify;
use tracing::{info, warn};

pub struct Pipeline {
    pub store: Arc<dyn Store>,
    pub detect: MimeLimits,
    pub limits: Limits,
    /// The sender's hourly limit (0: none).
    pub max_per_sender_per_hour: u64,
    pub trusted_authserv_ids: Vec<String>,
    pub sink: Sink,
    pub scripts: ScriptCache,
    /// The script of users who never set preferences or rules: the defaults, generated.
    pub default_script: String,
    /// Unix seconds now.
    pub clock: fn() -> i64,
    /// Poked after jobs are queued so the update stage starts at once.
    pub wake: Arc<Notify>,
    /// Poked after mail (a Sieve redirect) is queued for the relay.
    pub outbox_wake: Arc<Notify>,
    deciding: Deciding,
}

/// What one recipient's copy becomes.
#[derive(Debug)]
pub struct Plan {
    pub user: String,
    /// Header lines added on top of the message.
    pub headers: String,
    pub deliveries: Vec<Delivery>,
    /// Calendar jobs held until the sink has answered ([`Pipeline::settle`]).
    pub held_jobs: Vec<i64>,
    /// The decision the copy's `X-Imipd-Cal-Outcome` header tells, for the log line.
    pub outcome: Option<Outcome>,
}

impl Backend for Pipeline {
    async fn check_recipient(&self, address: &str) -> RcptCheck {
        let store = self.store.clone();
        let address = address.to_string();
        let result = tokio::task::spawn_blocking(move || {
            store.check()?;
            store.resolve_address(&address)
        })
        .await;
        match result {
            Ok(Ok(Some(user))) => RcptCheck::Accept { user },
            Ok(Ok(None)) => RcptCheck::Unknown,
            Ok(Err(e)) => {
                warn!("cannot resolve recipient: {e}");
                RcptCheck::TempFail("user database unavailable, try again later".into())
            }
            Err(e) => {
                warn!("recipient lookup failed: {e}");
                RcptCheck::TempFail("internal error, try again later".into())
            }
        }
    }

    async fn deliver(&self, txn: Transaction<'_>) -> Vec<Reply> {
        let message = normalize(txn.message);
        let view = tokio::task::block_in_place(|| {
            guarded("detection", || {
                detect::scan(
                    &message,
                    txn.mail_from,
                    &self.detect,
                    &self.trusted_authserv_ids,
                )
            })
        });
        let mut sieve = view
            .as_ref()
            .and_then(|v| guarded("the Sieve view", || SieveView::new(v)));
        let pieces = match &view {
            Some(view) => view.kept(),
            None => vec![&message[..]],
        };
        let invitation = view.as_ref().and_then(|v| v.calendar.invitation.as_ref());
        let crlf = view
            .as_ref()
            .map_or_else(|| header::crlf(&message), |v| v.crlf);
        let mut replies = Vec::with_capacity(txn.recipients.len());
        // One copy per user: a user named again gets the reply of the first copy.
        let mut done: HashMap<&str, Reply> = HashMap::new();
        for rcpt in txn.recipients {
            if let Some(first) = done.get(rcpt.user.as_str()) {
                info!(
                    rcpt = rcpt.address,
                    user = rcpt.user,
                    "same user as an earlier recipient: one copy"
                );
                replies.push(Reply::new(
                    first.code,
                    first.status,
                    format!("<{}> same user, one copy: {}", rcpt.address, first.text),
                ));
                continue;
            }
            let plan = match (&view, &mut sieve) {
                (Some(view), Some(sieve)) => tokio::task::block_in_place(|| {
                    guarded("calendar processing", || {
                        self.plan(view, sieve, rcpt, txn.queue_id.as_str())
                    })
                }),
                _ => None,
            }
            .unwrap_or_else(|| Plan {
                user: rcpt.user.clone(),
                headers: String::new(),
                deliveries: vec![Delivery::inbox()],
                held_jobs: Vec::new(),
                outcome: None,
            });
            let reply = self
                .sink
                .deliver(&plan, crlf, txn.mail_from, rcpt, &pieces)
                .await;
            let reply = tokio::task::block_in_place(|| self.settle(&plan, reply));
            info!(
                from = txn.mail_from,
                rcpt = rcpt.address,
                user = plan.user,
                size = txn.message.len(),
                method = invitation.map(|i| i.method.as_lower()),
                uid = invitation.map(|i| i.uid.as_str()),
                code = reply.code,
                outcome = plan.outcome.as_ref().map(|o| o.to_string()),
                "{}",
                reply.text
            );
            done.insert(rcpt.user.as_str(), reply.clone());
            replies.push(reply);
        }
        replies
    }
}

/// One recipient's view of the message after detection.
pub struct RecipientView {
    /// What the recipient's calendars hold under the invitation's UID, looked up once for
    /// the `X-ME-Cal-Exists` header and every calendar decision after it; `Err` when the
    /// store could not say.
    pub stored: Result<Option<CalendarObject>, String>,
    /// Detection's header lines for this recipient: what Sieve sees on top of the message.
    pub headers: String,
}

impl Pipeline {
    pub fn new(
        config: DeliveryConfig,
        store: Arc<dyn Store>,
        sink: Sink,
        wake: Arc<Notify>,
        outbox_wake: Arc<Notify>,
    ) -> Self {
        Pipeline {
            store,
            detect: config.mime,
            limits: config.limits,
            max_per_sender_per_hour: config.max_per_sender_per_hour,
            trusted_authserv_ids: config.trusted_authserv_ids,
            sink,
            scripts: ScriptCache::default(),
            default_script: config.default_script,
            clock: config.clock,
            wake,
            outbox_wake,
            deciding: Deciding::default(),
        }
    }

    /// Detection's per-recipient half: the UID lookup in that recipient's calendars.
    pub fn recipient_view(&self, view: &MessageView<'_>, rcpt: &Recipient) -> RecipientView {
        let stored = match &view.calendar.invitation {
            Some(inv) => self.store.find_object(&rcpt.user, &inv.uid).map_err(|e| {
                warn!(user = rcpt.user, "calendar lookup failed: {e}");
                format!("calendar store unavailable: {e}")
            }),
            None => Ok(None),
        };
        let (exists, error) = match &stored {
            Ok(Some(object)) => (Some(object.calendar_id.as_str()), None),
            Ok(None) => (None, None),
            Err(_) => (None, Some("calendar store unavailable")),
        };
        RecipientView {
            headers: detect::headers(view, exists, error),
            stored,
        }
    }

    /// Detection for the recipient, then the filter stage.
    fn plan(
        &self,
        view: &MessageView<'_>,
        sieve: &mut SieveView<'_>,
        rcpt: &Recipient,
        queue_id: &str,
    ) -> Plan {
        // Only the sender limit's count needs deciding in turn; without a limit, deliveries
        // to one user commit their jobs side by side.
        let deciding = (self.max_per_sender_per_hour > 0).then(|| self.deciding.lock(&rcpt.user));
        let seen = self.recipient_view(view, rcpt);
        let filtered = self.filter(view, sieve, &seen, rcpt, queue_id);
        drop(deciding);
        let added = filtered
            .outcome
            .as_ref()
            .map(outcome_header)
            .unwrap_or_default();
        // Added headers follow the message's own line endings.
        let added = if view.crlf {
            added
        } else {
            added.replace("\r\n", "\n")
        };
        Plan {
            user: rcpt.user.clone(),
            headers: seen.headers + &added,
            deliveries: filtered.deliveries,
            held_jobs: filtered.held_jobs,
            outcome: filtered.outcome,
        }
    }
}

/// Runs `f`, turning a panic into `None` with a log line: calendar code must never take
/// the mail down with it.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            warn!("{what} panicked ({msg}); delivering the message unchanged");
            None
        }
    }
}
