//! The apply path: one iTIP message, checked against what the user's calendar holds,
//! turned into calendar writes. The worker ([`crate::process_job`]), and later the web
//! page's "Add to calendar" button and CalDAV, all go through [`apply_itip`], so one
//! message has one meaning.

use imipd_calendar::{
    Change, Decision, Facts, ItipMessage, Limits, Outcome, Policy, apply, apply_message,
};
use imipd_store::{Batch, Conflict, Expect, Found, JobDone, NewMail, ObjectWrite, Store};

/// A failure worth another attempt: the store is unavailable or busy. Anything wrong with
/// the message itself is not an error but an outcome (`error; reason=…`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// What applying a message commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The calendar writes, each expecting the store as it was read when planned.
    pub writes: Vec<ObjectWrite>,
    pub mails: Vec<NewMail>,
    /// The outcome to record (`added; reason="…"`).
    pub outcome: String,
    /// Whether this changed the calendar (counts toward per-sender rate limits).
    pub applied: bool,
}

impl Applied {
    /// A result that changes nothing.
    pub fn outcome(outcome: &Outcome) -> Self {
        Applied {
            outcome: outcome.to_string(),
            ..Applied::default()
        }
    }

    /// The batch that commits this result as the completion of job `job_id` of `user`,
    /// leased by `worker`.
    pub fn completing(&self, user: &str, job_id: i64, worker: &str) -> Batch {
        Batch {
            user: user.to_string(),
            writes: self.writes.clone(),
            mails: self.mails.clone(),
            job: Some(JobDone {
                job_id,
                worker: worker.to_string(),
                outcome: self.outcome.clone(),
                applied: self.applied,
            }),
        }
    }

    /// What a job ends with when its commit met `conflict`, if that settles it. A new
    /// event's write is insert-only: if the event was stored by another path while the job
    /// waited, the job changes nothing and says so (`None`: the object changed after it
    /// was read; plan again).
    pub fn after_conflict(conflict: &Conflict) -> Option<Self> {
        let found = match (&conflict.expected, &conflict.found) {
            (Expect::Modseq(_), _) => return None,
            (_, Found::Uid { calendar_id, .. }) => {
                format!("{} was stored in calendar {calendar_id:?}", conflict.uid)
            }
            (_, Found::OtherUid(other)) => format!(
                "the name {:?} in calendar {:?} was taken by {other}",
                conflict.href, conflict.calendar_id
            ),
            (_, Found::Version(_) | Found::Nothing) => format!(
                "{} was stored in calendar {:?}",
                conflict.uid, conflict.calendar_id
            ),
        };
        Some(Applied::outcome(&Outcome::no_action(format!(
            "{found} by another change while this message was applied; a new event never \
             replaces one already there, so this message changed nothing"
        ))))
    }
}

/// Applies one iTIP message to `user`'s calendars. A known event changes where it is
/// stored; a new one goes into `calendar_id`, or the default calendar. The message is
/// parsed once, here.
pub fn apply_itip(
    store: &dyn Store,
    user: &str,
    itip_text: &str,
    facts: &Facts,
    policy: &Policy,
    calendar_id: Option<&str>,
    limits: &Limits,
) -> Result<(Decision, Applied), JobError> {
    match ItipMessage::parse(itip_text.as_bytes(), limits) {
        Ok(Some(message)) => {
            apply_parsed(store, user, &message, facts, policy, calendar_id, limits)
        }
        // Broken, or no METHOD: the calendar core says why in its own words, and nothing
        // stored is read.
        _ => {
            let decision = apply(None, itip_text, facts, policy, limits);
            let applied = Applied::outcome(&decision.outcome);
            Ok((decision, applied))
        }
    }
}

/// [`apply_itip`] for a message already parsed.
pub fn apply_parsed(
    store: &dyn Store,
    user: &str,
    message: &ItipMessage,
    facts: &Facts,
    policy: &Policy,
    calendar_id: Option<&str>,
    limits: &Limits,
) -> Result<(Decision, Applied), JobError> {
    let uid = message.uid();
    let stored = store.find_object(user, uid)?;
    let decision = apply_message(
        stored.as_ref().map(|o| o.ics.as_str()),
        message,
        facts,
        policy,
        limits,
    );
    let write = match (&decision.change, &stored) {
        (Change::Put(ics), Some(object)) => ObjectWrite::replace(object, ics),
        // A new event goes where the action says, or to the default calendar.
        (Change::Put(ics), None) => {
            let home = match calendar_id {
                Some(wanted) if !store.calendars(user)?.iter().any(|c| c.id == wanted) => {
                    let refused = Outcome::error(format!(
                        "no calendar {wanted:?} for {user} (create it, or fix :calendarid)"
                    ));
                    return Ok((decision, Applied::outcome(&refused)));
                }
                Some(wanted) => wanted.to_string(),
                None => store.default_calendar(user)?.id,
            };
            ObjectWrite::new_event(&home, uid, ics)
        }
        (Change::Delete, Some(object)) => ObjectWrite::delete(object),
        // No change, or nothing stored to delete.
        _ => {
            let applied = Applied::outcome(&decision.outcome);
            return Ok((decision, applied));
        }
    };
    let applied = Applied {
        writes: vec![write],
        mails: Vec::new(),
        outcome: decision.outcome.to_string(),
        applied: true,
    };
    Ok((decision, applied))
}
