//! The apply path: one iTIP message, checked against what the user's calendar holds,
//! turned into calendar writes. The worker ([`crate::process_job`]), and later the web
//! page's "Add to calendar" button and CalDAV, all go through [`apply_itip`], so one
//! message has one meaning.

use crate::change::CalendarChanged;
use imipd_calendar::{
    Change, Decision, Facts, ItipMessage, Limits, Outcome, Policy, apply, apply_message,
};
use imipd_store::{Completion, ObjectWrite, Store};

/// A failure worth another attempt: the store is unavailable or busy. Anything wrong with
/// the message itself is not an error but an outcome (`error; reason=…`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// What applying a message commits, and what to announce once it is committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub completion: Completion,
    pub changes: Vec<CalendarChanged>,
}

impl Applied {
    /// A result that changes nothing.
    pub fn outcome(outcome: &Outcome) -> Self {
        Applied {
            completion: Completion {
                outcome: outcome.header_value(),
                ..Completion::default()
            },
            changes: Vec::new(),
        }
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
    let peeked_uid = Some(message.uid().to_string());
    let stored = store.find_object(user, message.uid())?;
    let decision = apply_message(
        stored.as_ref().map(|o| o.ics.as_str()),
        message,
        facts,
        policy,
        limits,
    );
    // Where a new event goes; a known one stays in its calendar.
    let new_home = match (&decision.change, &stored) {
        (Change::Put(_), None) => match calendar_id {
            Some(wanted) if !store.calendars(user)?.iter().any(|c| c.id == wanted) => {
                let refused = Outcome::error(format!(
                    "no calendar {wanted:?} for {user} (create it, or fix :calendarid)"
                ));
                return Ok((decision, Applied::outcome(&refused)));
            }
            Some(wanted) => Some(wanted.to_string()),
            None => Some(store.default_calendar(user)?.id),
        },
        _ => None,
    };
    let uid = decision.uid.clone().or(peeked_uid);
    let write = match (&decision.change, uid, &stored) {
        (Change::Put(ics), Some(uid), _) => {
            let calendar_id = stored
                .as_ref()
                .map(|o| o.calendar_id.clone())
                .or(new_home)
                .unwrap_or_default();
            Some((
                ObjectWrite::Put {
                    calendar_id: calendar_id.clone(),
                    uid: uid.clone(),
                    ics: ics.clone(),
                },
                calendar_id,
                uid,
            ))
        }
        (Change::Delete, Some(uid), Some(object)) => Some((
            ObjectWrite::Delete { uid: uid.clone() },
            object.calendar_id.clone(),
            uid,
        )),
        // No change, or nothing stored to delete.
        _ => None,
    };
    let Some((write, calendar_id, uid)) = write else {
        let applied = Applied::outcome(&decision.outcome);
        return Ok((decision, applied));
    };
    let applied = Applied {
        completion: Completion {
            writes: vec![write],
            mails: Vec::new(),
            outcome: decision.outcome.header_value(),
            applied: true,
        },
        changes: vec![CalendarChanged {
            user: user.to_string(),
            calendar_id,
            uid,
        }],
    };
    Ok((decision, applied))
}
