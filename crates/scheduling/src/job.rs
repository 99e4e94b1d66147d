//! A queued job from the filter stage, executed: its calendar part (chosen at delivery)
//! applied under the job's action, the per-sender rate limit enforced. No MIME is parsed
//! here: the job carries the calendar part, not the mail.

use crate::apply::{Applied, JobError, apply_itip};
use crate::spec::JobSpec;
use imipd_calendar::{Facts, Limits, Outcome};
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

/// Processes one queued job: applies its calendar part under the job's action, and
/// enforces the per-sender rate limit. Never sends mail: processing incoming
/// mail must not cause outgoing mail (no backscatter).
pub fn process_job(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    let spec = match JobSpec::from_json(&job.spec) {
        Ok(spec) => spec,
        Err(e) => return Ok(Applied::outcome(&Outcome::error(e.to_string()))),
    };
    let Some(user) = store.user(&job.user)? else {
        return Ok(Applied::outcome(&Outcome::error(format!(
            "user {} no longer exists",
            job.user
        ))));
    };
    let calendar = match calendar_part(&job.message) {
        Ok(text) => text,
        Err(why) => return Ok(Applied::outcome(&Outcome::error(why))),
    };
    let (policy, explicit) = spec.action.policy(now);
    let user_addresses = explicit.clone().unwrap_or_else(|| user.addresses());
    let calendar_id = spec.action.calendar_id().map(str::to_string);
    let facts = Facts {
        // RFC 9671 `:addresses` names the user's addresses instead of the envelope recipient.
        recipient: if explicit.is_some() {
            String::new()
        } else {
            spec.recipient
        },
        user_addresses,
        sender: job.sender.clone(),
        authenticated: spec.authenticated,
        spam: spec.spam,
    };
    let (decision, mut applied) = apply_itip(
        store,
        &user.name,
        calendar,
        &facts,
        &policy,
        calendar_id.as_deref(),
        &cfg.limits,
    )?;
    // Queued in the job's own transaction: answered once, however often the job runs.
    // An answer counts against the sender's limit like a change: REFRESH cannot be used
    // to make imipd send mail in bulk.
    if let Some(mail) = crate::refresh::answer(&decision, &user.name, &job.sender, &cfg.limits, now)
    {
        applied.mails.push(mail);
        applied.applied = true;
    }
    if applied.applied && cfg.max_per_sender_per_hour > 0 {
        let recent = store.applied_since(&user.name, &job.sender, now - 3600)?;
        if recent >= cfg.max_per_sender_per_hour {
            return Ok(Applied::outcome(&Outcome::no_action(format!(
                "rate limit: {recent} automatic actions for {} in the last hour",
                job.sender
            ))));
        }
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
