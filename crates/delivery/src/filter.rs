//! Stage 2, the filter: the recipient's Sieve script decides where the copy goes and which
//! calendar jobs the update stage gets.
//!
//! A recipient's calendar jobs follow its copy of the mail, in two phases: they are written
//! *held* here, before the sink stores the copy, and [`Pipeline::settle`] releases them once
//! the sink has said 250 (or drops them when it refused). So the jobs are durable before the
//! 250, and a calendar never changes for mail that was not delivered (a downstream store
//! that said 550, or was down). Holding first, rather than queueing after the copy is
//! stored, keeps a database that cannot take the job from costing the mail: the copy still
//! goes out, its outcome header saying the invitation was not queued. Redirects are queued
//! here too, before the copy is stored.

use crate::decide::action_for;
use crate::detect::Scan;
use crate::pipeline::{Pipeline, Plan, RecipientView};
use crate::redirect::redirect_mail;
use imipd_calendar::Outcome;
use imipd_lmtp::{Recipient, Reply};
use imipd_message::MessageInfo;
use imipd_scheduling::{Action, JobSpec, job_for_message};
use imipd_sieve::{CalendarJob, CalendarRequest, Delivery, Envelope, FilterResult, Host};
use imipd_store::CalendarObject;
use tracing::{info, warn};

/// What the filter stage decided for one recipient.
pub struct Filtered {
    pub deliveries: Vec<Delivery>,
    /// Calendar jobs written held, for [`Pipeline::settle`] to release or drop.
    pub held_jobs: Vec<i64>,
    /// `X-Imipd-Cal-Outcome` and friends, added on top of detection's headers.
    pub headers: String,
}

impl Pipeline {
    /// Runs the user's script on the message; reads the store, writes nothing.
    pub fn evaluate(
        &self,
        scan: &Scan,
        info: &MessageInfo,
        seen: &RecipientView,
        rcpt: &Recipient,
    ) -> Result<FilterResult, String> {
        let user = rcpt.user.as_str();
        let source = match self.store.sieve_script(user) {
            Ok(Some(s)) => s,
            Ok(None) => self.default_script.clone(),
            Err(e) => return Err(format!("cannot read the Sieve script: {e}")),
        };
        let script = self.scripts.get(user, &source);
        let host = StoreHost {
            pipeline: self,
            scan,
            info,
            rcpt,
            stored: &seen.stored,
        };
        let facts = imipd_sieve::Facts {
            spam: info.spam,
            spam_score: info.spam_score,
            authenticated: info.authenticated,
            sender: info.from.clone(),
        };
        let envelope = Envelope {
            from: &info.mail_from,
            to: &rcpt.address,
            user,
        };
        Ok(imipd_sieve::run(
            script.as_deref(),
            &seen.view,
            &envelope,
            &facts,
            &host,
        ))
    }

    pub(crate) fn filter(
        &self,
        scan: &Scan,
        info: &MessageInfo,
        seen: &RecipientView,
        message: &[u8],
        rcpt: &Recipient,
    ) -> Filtered {
        let user = rcpt.user.as_str();
        let result = match self.evaluate(scan, info, seen, rcpt) {
            Ok(result) => result,
            Err(e) => {
                warn!(user, "{e}; delivering to INBOX");
                return Filtered::inbox(scan, "calendar store unavailable");
            }
        };
        for e in &result.errors {
            warn!(user, "Sieve: {e}");
        }
        let mut outcome = result.outcome.clone();
        let mut held_jobs = Vec::new();
        if scan.invitation.is_some() {
            let queued =
                self.hold_calendar_jobs(&result, scan, info, seen, message, rcpt, &mut held_jobs);
            if queued.is_err() {
                // The outcome header will say nothing was queued: nothing may run.
                self.drop_held(user, std::mem::take(&mut held_jobs));
            }
            outcome = match (outcome, queued) {
                (_, Err(reason)) => Some(Outcome::error(reason)),
                (Some(o), Ok(_)) => Some(o),
                (None, Ok(Some(o))) => Some(o),
                (None, Ok(None)) => Some(Outcome::no_action(unprocessed_reason(info))),
            };
        } else if scan.had_calendar_part {
            outcome = Some(Outcome::no_action(scan.error.clone().unwrap_or_else(
                || "calendar part has no METHOD: not an invitation".into(),
            )));
        }
        self.queue_redirects(&result, message, user);
        Filtered {
            deliveries: result.deliveries,
            held_jobs,
            headers: outcome
                .as_ref()
                .map(imipd_sieve::outcome_header)
                .unwrap_or_default(),
        }
    }

    /// Writes the script's calendar jobs to the queue, held, and adds their ids to `held`.
    /// Returns the outcome of the first notify-style job when the script did not record
    /// one itself (processcalendar did its deciding while the script ran).
    #[allow(clippy::too_many_arguments)]
    fn hold_calendar_jobs(
        &self,
        result: &FilterResult,
        scan: &Scan,
        info: &MessageInfo,
        seen: &RecipientView,
        message: &[u8],
        rcpt: &Recipient,
        held: &mut Vec<i64>,
    ) -> Result<Option<Outcome>, String> {
        let Some(inv) = &scan.invitation else {
            return Ok(None);
        };
        let mut first_outcome = None;
        for job in &result.calendar_jobs {
            let action = action_for(job);
            if first_outcome.is_none() && result.outcome.is_none() {
                first_outcome = Some(self.decide(&action, scan, info, rcpt, &seen.stored));
            }
            let known = matches!(seen.stored, Ok(Some(_)));
            if matches!(action, Action::UpdateCal) && !known {
                continue;
            }
            let spec = JobSpec {
                action,
                recipient: rcpt.address.clone(),
                authenticated: info.authenticated,
                spam: info.spam,
            };
            let sender = info.from.clone().unwrap_or_default();
            let new = job_for_message(
                &rcpt.user,
                &sender,
                &spec,
                &inv.calendar,
                &job_copy(message, &inv.calendar),
                &self.limits,
            )
            .map_err(|e| format!("not queued: {e}"))?;
            match self.store.hold_job(&new) {
                Ok(Some(id)) => held.push(id),
                Ok(None) => info!(
                    user = rcpt.user,
                    uid = inv.uid,
                    "calendar job already queued (a repeated delivery)"
                ),
                Err(e) => {
                    warn!(
                        user = rcpt.user,
                        uid = inv.uid,
                        "cannot queue calendar job: {e}"
                    );
                    return Err("calendar store unavailable; the invitation was not queued".into());
                }
            }
        }
        Ok(first_outcome)
    }

    /// The second phase: once the sink has answered for the recipient, its held jobs are
    /// released (a 250) or dropped (anything else). A 250 stands only if every job was
    /// released: a job that cannot be made due turns it into a 451, so the MTA delivers
    /// again (the copy may then be stored twice; the retry finds the held job under its
    /// key and releases it).
    pub fn settle(&self, plan: &Plan, reply: Reply) -> Reply {
        let user = plan.user.as_str();
        if !reply.is_success() {
            self.drop_held(user, plan.held_jobs.iter().copied());
            return reply;
        }
        for &id in &plan.held_jobs {
            match self.store.release_job(id) {
                Ok(_) => info!(user, job = id, "calendar job queued"),
                Err(e) => {
                    warn!(user, job = id, "cannot release held calendar job: {e}");
                    return Reply::new(
                        451,
                        (4, 3, 0),
                        "calendar store unavailable after the message was stored, try again later",
                    );
                }
            }
        }
        if !plan.held_jobs.is_empty() {
            self.wake.notify_one();
        }
        reply
    }

    fn drop_held(&self, user: &str, jobs: impl IntoIterator<Item = i64>) {
        for id in jobs {
            match self.store.drop_held_job(id) {
                Ok(_) => info!(
                    user,
                    job = id,
                    "calendar job dropped: the mail was not delivered"
                ),
                // Left held, it never runs; `imipd jobs list --state held` shows it.
                Err(e) => warn!(user, job = id, "cannot drop held calendar job: {e}"),
            }
        }
    }

    fn queue_redirects(&self, result: &FilterResult, message: &[u8], user: &str) {
        for to in &result.redirects {
            let queued = redirect_mail(user, message, to, (self.clock)())
                .map_err(|e| e.to_string())
                .and_then(|mail| self.store.queue_mail(&mail).map_err(|e| e.to_string()));
            match queued {
                Ok(id) => {
                    info!(user, to, mail = id, "redirect queued");
                    self.outbox_wake.notify_one();
                }
                Err(e) => warn!(user, to, "redirect not queued: {e}"),
            }
        }
    }
}

/// Mail over this size is queued as its calendar part alone: the worker needs nothing
/// else, and a 50 MB attachment is not copied into the database once per recipient.
const MAX_JOB_MESSAGE: usize = 1024 * 1024;

/// The mail a job keeps for the worker to read again.
fn job_copy<'m>(message: &'m [u8], calendar: &str) -> std::borrow::Cow<'m, [u8]> {
    if message.len() <= MAX_JOB_MESSAGE {
        return message.into();
    }
    format!("MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8\r\n\r\n{calendar}")
        .into_bytes()
        .into()
}

/// Why nothing processed an invitation, in the words a user can act on.
fn unprocessed_reason(info: &MessageInfo) -> &'static str {
    if info.spam {
        "marked as spam: calendar data is never processed"
    } else if !info.authenticated {
        "sender not authenticated (no DMARC pass from a trusted Authentication-Results \
         header): calendar data not processed"
    } else {
        "no Sieve rule asked for calendar processing (see `imipd prefs show`)"
    }
}

impl Filtered {
    fn inbox(scan: &Scan, reason: &str) -> Self {
        let headers = if scan.invitation.is_some() {
            imipd_sieve::outcome_header(&Outcome::error(reason))
        } else {
            String::new()
        };
        Filtered {
            deliveries: vec![Delivery::inbox()],
            held_jobs: Vec::new(),
            headers,
        }
    }
}

/// What Sieve may ask of the store while it runs.
struct StoreHost<'a> {
    pipeline: &'a Pipeline,
    scan: &'a Scan,
    info: &'a MessageInfo,
    rcpt: &'a Recipient,
    stored: &'a Result<Option<CalendarObject>, String>,
}

impl Host for StoreHost<'_> {
    fn is_contact(&self, address: &str) -> bool {
        self.pipeline
            .store
            .is_contact(&self.rcpt.user, address)
            .unwrap_or(false)
    }

    fn calendar_exists(&self, id: &str) -> bool {
        self.pipeline.calendar_exists(&self.rcpt.user, id)
    }

    fn folder_exists(&self, name: &str) -> bool {
        self.pipeline.sink.folder_exists(&self.rcpt.user, name)
    }

    fn decide(&self, request: &CalendarRequest) -> Outcome {
        let action = action_for(&CalendarJob::Process(request.clone()));
        self.pipeline
            .decide(&action, self.scan, self.info, self.rcpt, self.stored)
    }
}
