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
//! here too, before the copy is stored. Each job carries the calendar part detection chose.

use crate::decide::action_for;
use crate::detect::MessageView;
use crate::pipeline::{Pipeline, Plan, RecipientView};
use crate::redirect::redirect_mail;
use imipd_calendar::Outcome;
use imipd_lmtp::{Recipient, Reply};
use imipd_message::{HeaderFacts, Invitation, SieveView};
use imipd_scheduling::{Action, Decided, job_for_invitation};
use imipd_sieve::{CalendarJob, CalendarRequest, Delivery, Envelope, FilterResult, Host};
use imipd_store::{CalendarObject, NewJob};
use std::cell::RefCell;
use tracing::{info, warn};

/// What the filter stage decided for one recipient.
pub struct Filtered {
    pub deliveries: Vec<Delivery>,
    /// Calendar jobs written held, for [`Pipeline::settle`] to release or drop.
    pub held_jobs: Vec<i64>,
    /// What the `X-Imipd-Cal-Outcome` header says (a message with a calendar part).
    pub outcome: Option<Outcome>,
}

/// The user's script run on the message, and the decisions its `processcalendar`s took.
pub struct Evaluated {
    pub result: FilterResult,
    /// One per `processcalendar` run, in order, with its arguments.
    pub decided: Vec<(CalendarRequest, Decided)>,
}

impl Evaluated {
    /// Each of the script's calendar jobs with its decision: the one `processcalendar`
    /// took while the script ran, or (`notify addcal`, `updatecal`) one taken now.
    pub fn decisions(
        &self,
        pipeline: &Pipeline,
        view: &MessageView<'_>,
        seen: &RecipientView,
        rcpt: &Recipient,
    ) -> Vec<(Action, Decided)> {
        let mut recorded: Vec<Option<&(CalendarRequest, Decided)>> =
            self.decided.iter().map(Some).collect();
        let mut pending = self.decided.iter().filter(|(_, d)| d.acts()).count() as u64;
        let mut out = Vec::with_capacity(self.result.calendar_jobs.len());
        for job in &self.result.calendar_jobs {
            let action = action_for(job);
            let taken = match job {
                CalendarJob::Process(request) => recorded
                    .iter_mut()
                    .find(|r| r.is_some_and(|(asked, _)| asked == request))
                    .and_then(Option::take)
                    .map(|(_, d)| d.clone()),
                _ => None,
            };
            let decided = taken.unwrap_or_else(|| {
                let d = pipeline.decide(&action, view, rcpt, &seen.stored, pending);
                pending += u64::from(d.acts());
                d
            });
            out.push((action, decided));
        }
        out
    }
}

impl Pipeline {
    /// Runs the user's script on the message; reads the store, writes nothing.
    pub fn evaluate(
        &self,
        view: &MessageView<'_>,
        sieve: &mut SieveView<'_>,
        seen: &RecipientView,
        rcpt: &Recipient,
    ) -> Result<Evaluated, String> {
        let user = rcpt.user.as_str();
        let source = match self.store.sieve_script(user) {
            Ok(Some(s)) => s,
            Ok(None) => self.default_script.clone(),
            Err(e) => return Err(format!("cannot read the Sieve script: {e}")),
        };
        let script = self.scripts.get(user, &source);
        let host = StoreHost {
            pipeline: self,
            view,
            rcpt,
            stored: &seen.stored,
            decided: RefCell::new(Vec::new()),
        };
        let info = &view.facts;
        let facts = imipd_sieve::Facts {
            spam: info.spam,
            spam_score: info.spam_score,
            authenticated: info.authenticated,
            sender: info.from.clone(),
            organizer: view
                .calendar
                .invitation
                .as_ref()
                .and_then(|i| i.itip.organizer()),
        };
        let envelope = Envelope {
            from: &info.mail_from,
            to: &rcpt.address,
            user,
        };
        let result = imipd_sieve::run_view(
            script.as_deref(),
            sieve,
            &seen.headers,
            &envelope,
            &facts,
            &host,
        );
        Ok(Evaluated {
            result,
            decided: host.decided.into_inner(),
        })
    }

    /// The filter stage for one recipient; `queue_id` names the message on its jobs and
    /// redirects.
    pub(crate) fn filter(
        &self,
        view: &MessageView<'_>,
        sieve: &mut SieveView<'_>,
        seen: &RecipientView,
        rcpt: &Recipient,
        queue_id: &str,
    ) -> Filtered {
        let user = rcpt.user.as_str();
        let evaluated = match self.evaluate(view, sieve, seen, rcpt) {
            Ok(evaluated) => evaluated,
            Err(e) => {
                warn!(user, "{e}; delivering to INBOX");
                return Filtered::inbox(view, "calendar store unavailable");
            }
        };
        let result = &evaluated.result;
        for e in &result.errors {
            warn!(user, "Sieve: {e}");
        }
        if let Some(e) = &result.unavailable {
            warn!(user, "Sieve: {e}; delivering to INBOX, nothing queued");
            return Filtered::inbox(view, "calendar store unavailable");
        }
        let mut outcome = result.outcome.clone();
        let mut held_jobs = Vec::new();
        let calendar = &view.calendar;
        if calendar.invitation.is_some() {
            let queued =
                self.hold_calendar_jobs(&evaluated, view, seen, rcpt, queue_id, &mut held_jobs);
            if queued.is_err() {
                // The outcome header will say nothing was queued: nothing may run.
                self.drop_held(user, std::mem::take(&mut held_jobs));
            }
            outcome = match (outcome, queued) {
                (_, Err(reason)) => Some(Outcome::error(reason)),
                (Some(o), Ok(_)) => Some(o),
                (None, Ok(Some(o))) => Some(o),
                (None, Ok(None)) => {
                    let outcome = Outcome::no_action(unprocessed_reason(&view.facts));
                    self.hold_record_job(view, seen, rcpt, queue_id, &outcome, &mut held_jobs);
                    Some(outcome)
                }
            };
        } else if calendar.had_calendar_part {
            outcome = Some(Outcome::no_action(calendar.error.clone().unwrap_or_else(
                || "calendar part has no METHOD: not an invitation".into(),
            )));
        }
        self.queue_redirects(result, view.raw(), user, queue_id);
        Filtered {
            deliveries: evaluated.result.deliveries,
            held_jobs,
            outcome,
        }
    }

    /// The job `action` asks for on `inv`, carrying its decision.
    fn new_job(
        &self,
        action: &Action,
        view: &MessageView<'_>,
        inv: &Invitation,
        rcpt: &Recipient,
        decided: &Decided,
        queue_id: &str,
    ) -> NewJob {
        let spec = self.job_spec(action, view, rcpt);
        let sender = view.facts.from.as_deref().unwrap_or_default();
        job_for_invitation(
            &rcpt.user,
            sender,
            &spec,
            &inv.itip,
            &inv.calendar,
            Some(decided),
            queue_id,
        )
    }

    /// Writes the script's calendar jobs to the queue, held, each with its decision, and
    /// adds their ids to `held`. Returns the outcome of the first job, for a script that did
    /// not record one itself (`processcalendar` records its own).
    fn hold_calendar_jobs(
        &self,
        evaluated: &Evaluated,
        view: &MessageView<'_>,
        seen: &RecipientView,
        rcpt: &Recipient,
        queue_id: &str,
        held: &mut Vec<i64>,
    ) -> Result<Option<Outcome>, String> {
        let Some(inv) = &view.calendar.invitation else {
            return Ok(None);
        };
        let decisions = evaluated.decisions(self, view, seen, rcpt);
        let first_outcome = decisions.first().map(|(_, d)| d.outcome.clone());
        for (action, decided) in decisions {
            let known = matches!(seen.stored, Ok(Some(_)));
            if matches!(action, Action::UpdateCal) && !known {
                continue;
            }
            let new = self.new_job(&action, view, inv, rcpt, &decided, queue_id);
            match self.store.hold_job(&new) {
                Ok(Some(id)) => {
                    info!(
                        user = rcpt.user,
                        job = id,
                        "calendar job held: {}",
                        decided.outcome
                    );
                    held.push(id);
                }
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

    /// Keeps an invitation no rule processed as an [`Action::Record`] job with the reason:
    /// the decision log lists it, and the user can still apply it by hand. Best effort: the
    /// copy is delivered either way.
    fn hold_record_job(
        &self,
        view: &MessageView<'_>,
        seen: &RecipientView,
        rcpt: &Recipient,
        queue_id: &str,
        outcome: &Outcome,
        held: &mut Vec<i64>,
    ) {
        // Spam is never processed, nor offered: it is not kept either.
        let Some(inv) = view
            .calendar
            .invitation
            .as_ref()
            .filter(|_| !view.facts.spam)
        else {
            return;
        };
        let seen_modseq = seen
            .stored
            .as_ref()
            .ok()
            .and_then(|s| s.as_ref())
            .map(|o| o.modseq);
        let decided = Decided::nothing(outcome.clone(), seen_modseq);
        let new = self.new_job(&Action::Record, view, inv, rcpt, &decided, queue_id);
        match self.store.hold_job(&new) {
            Ok(Some(id)) => held.push(id),
            Ok(None) => {}
            Err(e) => warn!(
                user = rcpt.user,
                uid = inv.uid,
                "cannot record the invitation: {e}"
            ),
        }
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

    fn queue_redirects(&self, result: &FilterResult, message: &[u8], user: &str, queue_id: &str) {
        for to in &result.redirects {
            let queued = redirect_mail(user, message, to, (self.clock)(), queue_id)
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

/// Why nothing processed an invitation, in the words a user can act on.
pub fn unprocessed_reason(info: &HeaderFacts) -> String {
    if info.spam {
        "marked as spam: calendar data is never processed".into()
    } else if !info.authenticated {
        format!(
            "sender not authenticated ({}): calendar data not processed",
            info.unauthenticated
                .as_deref()
                .unwrap_or("no DMARC pass from a trusted Authentication-Results header")
        )
    } else {
        "no Sieve rule asked for calendar processing (see `imipd prefs show`)".into()
    }
}

impl Filtered {
    fn inbox(view: &MessageView<'_>, reason: &str) -> Self {
        Filtered {
            deliveries: vec![Delivery::inbox()],
            held_jobs: Vec::new(),
            outcome: view
                .calendar
                .invitation
                .is_some()
                .then(|| Outcome::error(reason)),
        }
    }
}

/// What Sieve may ask of the store while it runs.
struct StoreHost<'a> {
    pipeline: &'a Pipeline,
    view: &'a MessageView<'a>,
    rcpt: &'a Recipient,
    stored: &'a Result<Option<CalendarObject>, String>,
    /// The decisions `processcalendar` took, for the jobs it asked for.
    decided: RefCell<Vec<(CalendarRequest, Decided)>>,
}

impl Host for StoreHost<'_> {
    fn is_contact(&self, address: &str) -> Result<bool, String> {
        self.pipeline
            .store
            .is_contact(&self.rcpt.user, address)
            .map_err(|e| format!("contacts unavailable: {e}"))
    }

    fn calendar_exists(&self, id: &str) -> bool {
        self.pipeline.calendar_exists(&self.rcpt.user, id)
    }

    fn folder_exists(&self, name: &str) -> bool {
        self.pipeline.sink.folder_exists(&self.rcpt.user, name)
    }

    fn decide(&self, request: &CalendarRequest) -> Outcome {
        let action = action_for(&CalendarJob::Process(request.clone()));
        let mut decided = self.decided.borrow_mut();
        let pending = decided.iter().filter(|(_, d)| d.acts()).count() as u64;
        let decision = self
            .pipeline
            .decide(&action, self.view, self.rcpt, self.stored, pending);
        let outcome = decision.outcome.clone();
        decided.push((request.clone(), decision));
        outcome
    }
}
