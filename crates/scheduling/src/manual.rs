//! "Add to calendar" and "Update calendar": a message that no rule applied (a stranger's
//! invitation, an update with updates off, one over the sender's limit), applied because
//! the user asked. The same [`decide`] and [`execute`] as the worker's, under
//! [`Action::Manual`], so the calendar core has the last word on what the message means.

use crate::apply::{JobError, execute};
use crate::decide::{Ask, Executed, decide};
use crate::spec::{Action, JobSpec, SpecError};
use imipd_calendar::{ItipMessage, Limits, Outcome};
use imipd_store::{Batch, Job, Store};
use serde::{Deserialize, Serialize};

/// What the user applied by hand after a job, as the job records it: when, and the
/// outcome, also when that was nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByHand {
    pub at: i64,
    pub outcome: Outcome,
}

impl ByHand {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, SpecError> {
        serde_json::from_str(json).map_err(|e| SpecError::BadDecision(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("user {0} no longer exists")]
    NoUser(String),
    #[error("{0}")]
    Job(#[from] JobError),
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// Applies the calendar part of `job` for its user, into `calendar_id` (`None`: the
/// default calendar) for a new event. The outcome says what happened, also when that was
/// nothing (an older version, a cancelled event); the job records it ([`ByHand`]).
pub fn apply_by_hand(
    store: &dyn Store,
    job: &Job,
    calendar_id: Option<String>,
    now: i64,
    limits: &Limits,
) -> Result<Outcome, ManualError> {
    let mut spec = JobSpec::from_json(&job.spec)?;
    spec.action = Action::Manual { calendar_id };
    // The user asked after the page warned them that the sender was not authenticated:
    // their request vouches for it. Spam is still never applied.
    spec.authenticated = true;
    let text = std::str::from_utf8(&job.message)
        .map_err(|_| SpecError::Calendar("the calendar part is not UTF-8".into()))?;
    let message = match ItipMessage::parse(text.as_bytes(), limits) {
        Ok(Some(message)) => message,
        Ok(None) => return Err(SpecError::NotItip.into()),
        Err(e) => return Err(SpecError::Calendar(e.to_string()).into()),
    };
    let user = store
        .user(&job.user)?
        .ok_or_else(|| ManualError::NoUser(job.user.clone()))?;
    let stored = store.find_object(&user.name, &job.uid)?;
    let calendars = store.calendars(&user.name)?;
    let calendar_exists = |id: &str| calendars.iter().any(|c| c.id == id);
    let decided = decide(&Ask {
        user: &user.name,
        message: &message,
        spec: &spec,
        sender: &job.sender,
        user_addresses: &user.addresses(),
        stored: stored.as_ref(),
        calendar_exists: &calendar_exists,
        recent_actions: &|| Ok(0),
        // The user's own click is not an automatic action: no sender limit.
        max_per_sender_per_hour: 0,
        now,
        limits,
    });
    let outcome = decided.outcome.clone();
    let applied = execute(
        store,
        &user.name,
        &job.uid,
        &decided,
        stored.as_ref(),
        Executed::new(outcome.clone()),
    )?;
    if !applied.writes.is_empty() {
        store.commit(&Batch {
            user: user.name.clone(),
            writes: applied.writes,
            mails: applied.mails,
            job: None,
        })?;
    }
    let record = ByHand {
        at: now,
        outcome: outcome.clone(),
    };
    store.record_by_hand(job.id, &record.to_json())?;
    Ok(outcome)
}
