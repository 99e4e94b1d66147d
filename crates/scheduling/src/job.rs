//! A queued job executed: the decision it carries from delivery carried out, after one
//! check, that what it was taken on (the stored event, the target calendar) has not changed
//! meanwhile. When it has (or the job came without a decision) the decision is taken again
//! with the same [`decide`], and the job records that, and why, next to the first. No MIME
//! is parsed here: the job carries the calendar part, not the mail.

use crate::apply::{Applied, JobError, execute};
use crate::decide::{Ask, Decided, Executed, SENDER_WINDOW_SECS, changed_since, decide};
use crate::spec::{Action, JobSpec};
use imipd_calendar::{Facts, ItipMessage, Limits, Outcome, Policy, apply};
use imipd_store::{Job, Store};

/// The rules a job is executed under.
#[derive(Debug, Clone)]
pub struct ApplyConfig {
    /// Calendar changes applied automatically from one sender to one user per hour.
    pub max_per_sender_per_hour: u64,
    pub limits: Limits,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        ApplyConfig {
            max_per_sender_per_hour: 50,
            limits: Limits::default(),
        }
    }
}

/// Processes one queued job. Never sends mail but the answer to a REFRESH the decision
/// holds: processing incoming mail must not cause outgoing mail (no backscatter).
pub fn process_job(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    let refused = |outcome| Ok(Applied::nothing(Executed::new(outcome)));
    let spec = match JobSpec::from_json(&job.spec) {
        Ok(spec) => spec,
        Err(e) => return refused(Outcome::error(e.to_string())),
    };
    let decided = match job.decided.as_deref().map(Decided::from_json).transpose() {
        Ok(decided) => decided,
        Err(e) => return refused(Outcome::error(e.to_string())),
    };
    if spec.action == Action::Record {
        let outcome = decided.map_or_else(
            || Outcome::no_action("no Sieve rule asked for calendar processing"),
            |d| d.outcome,
        );
        return refused(outcome);
    }
    let Some(user) = store.user(&job.user)? else {
        return refused(Outcome::error(format!(
            "user {} no longer exists",
            job.user
        )));
    };
    let stored = store.find_object(&user.name, &job.uid)?;
    let calendars = match spec.action.calendar_id() {
        Some(_) => store.calendars(&user.name)?,
        None => Vec::new(),
    };
    let calendar_exists = |id: &str| calendars.iter().any(|c| c.id == id);
    let redecided = decided
        .as_ref()
        .and_then(|d| changed_since(d, stored.as_ref(), &calendar_exists));
    let run = match decided {
        // What delivery decided, carried out: the calendar part is not even read.
        Some(d) if redecided.is_none() => d,
        previous => {
            let calendar = match calendar_part(&job.message) {
                Ok(text) => text,
                Err(why) => return refused(Outcome::error(why)),
            };
            let message = match ItipMessage::parse(calendar.as_bytes(), &cfg.limits) {
                Ok(Some(message)) => message,
                // Broken, or no METHOD: the calendar core says why in its own words (it
                // reads no facts before the message is read).
                _ => {
                    let policy = Policy {
                        now,
                        ..Policy::default()
                    };
                    let decision = apply(None, calendar, &Facts::default(), &policy, &cfg.limits);
                    return refused(decision.outcome);
                }
            };
            // The job's own place in the sender's count, taken at delivery, is its own.
            let since = now - SENDER_WINDOW_SECS;
            let own = previous.as_ref().is_some_and(Decided::acts) && job.created >= since;
            let recent = store
                .actions_since(&user.name, &job.sender, since)?
                .saturating_sub(u64::from(own));
            decide(&Ask {
                user: &user.name,
                message: &message,
                spec: &spec,
                sender: &job.sender,
                user_addresses: &user.addresses(),
                stored: stored.as_ref(),
                calendar_exists: &calendar_exists,
                recent_actions: &|| Ok(recent),
                max_per_sender_per_hour: cfg.max_per_sender_per_hour,
                now,
                limits: &cfg.limits,
            })
        }
    };
    let executed = Executed {
        outcome: run.outcome.clone(),
        redecided,
    };
    let mut applied = execute(store, &user.name, &job.uid, &run, stored.as_ref(), executed)?;
    // Queued in the job's own transaction: answered once, however often the job runs.
    if let Some(request) = &run.answer
        && let Some(mail) = crate::refresh::answer(
            request,
            &user.name,
            &job.sender,
            &cfg.limits,
            now,
            &job.queue_id,
        )
    {
        applied.mails.push(mail);
        applied.applied = true;
    }
    Ok(applied)
}

/// The job's calendar part as text.
fn calendar_part(message: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(message)
        .map_err(|_| "the job's calendar part is not UTF-8".to_string())?;
    let starts = text.trim_start().get(..15);
    if !starts.is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err(
            "the job holds no calendar part (a whole mail, queued by an older imipd: \
                    deliver the mail again)"
                .into(),
        );
    }
    Ok(text)
}
