//! The organizer's changes going out: the user saves or calls off an event they organize,
//! their copy is written and the REQUEST or CANCEL for the attendees is queued in the
//! outbox. The command line uses this now; CalDAV and the web page call the same function.

use crate::change::CalendarChanged;
use crate::imip::{ComposeError, Composed, EventText, Mailbox, compose_itip, outgoing};
use imipd_calendar::{
    ItipError, Limits, Method, OrganizerChange, organizer_cancel, organizer_update, peek, summarize,
};
use imipd_store::{ObjectWrite, Store};

/// What the organizer does.
#[derive(Debug, Clone)]
pub enum Organize<'a> {
    /// Create or change the event: the whole calendar object as it should now be.
    Save { ics: &'a str },
    /// Call off the event, or one instance of it.
    Cancel {
        uid: &'a str,
        recurrence_id: Option<&'a str>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum OrganizeError {
    #[error("{user} has no event with UID {uid} (see `imipd events list {user}`)")]
    NoEvent { user: String, uid: String },
    #[error("the calendar object has no UID")]
    NoUid,
    #[error(transparent)]
    Calendar(#[from] ItipError),
    #[error("cannot compose the message to the attendees: {0}")]
    Compose(#[from] ComposeError),
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// What an organizer's action did.
#[derive(Debug, Clone)]
pub struct Organized {
    /// The outbox entry, when the event has attendees to tell.
    pub mail_id: Option<i64>,
    pub attendees: Vec<String>,
    pub change: CalendarChanged,
}

pub fn organize(
    store: &dyn Store,
    user: &str,
    action: &Organize<'_>,
    limits: &Limits,
    now: i64,
) -> Result<Organized, OrganizeError> {
    let own = store.addresses(user)?;
    let (change, calendar_id, method) = match action {
        Organize::Save { ics } => {
            let uid = peek(ics.as_bytes(), limits)
                .ok()
                .and_then(|p| p.uid)
                .ok_or(OrganizeError::NoUid)?;
            let previous = store.find_object(user, &uid)?;
            let change = organizer_update(
                previous.as_ref().map(|o| o.ics.as_str()),
                ics,
                &own,
                limits,
                now,
            )?;
            let calendar_id = match previous {
                Some(o) => o.calendar_id,
                None => store.default_calendar(user)?.id,
            };
            (change, calendar_id, Method::Request)
        }
        Organize::Cancel { uid, recurrence_id } => {
            let stored = store
                .find_object(user, uid)?
                .ok_or_else(|| OrganizeError::NoEvent {
                    user: user.to_string(),
                    uid: uid.to_string(),
                })?;
            let change = organizer_cancel(&stored.ics, *recurrence_id, &own, limits, now)?;
            (change, stored.calendar_id, Method::Cancel)
        }
    };
    let mail = if change.attendees.is_empty() {
        None
    } else {
        Some(outgoing(
            user,
            method.as_lower(),
            compose(&change, method, limits, now)?,
        ))
    };
    let mail_id = store.write_and_queue(
        user,
        &ObjectWrite::Put {
            calendar_id: calendar_id.clone(),
            uid: change.uid.clone(),
            ics: change.stored.clone(),
        },
        mail.as_ref(),
    )?;
    Ok(Organized {
        mail_id,
        attendees: change.attendees,
        change: CalendarChanged {
            user: user.to_string(),
            calendar_id,
            uid: change.uid,
        },
    })
}

fn compose(
    change: &OrganizerChange,
    method: Method,
    limits: &Limits,
    now: i64,
) -> Result<Composed, ComposeError> {
    let events = summarize(&change.stored, limits).unwrap_or_default();
    let event = events
        .iter()
        .find(|e| e.recurrence_id.is_none())
        .or(events.first());
    let title = event.map(|e| e.summary.clone()).unwrap_or_default();
    let text = EventText {
        when: event.map(|e| e.start.clone()).filter(|s| !s.is_empty()),
        location: event.and_then(|e| e.location.clone()),
        organizer: Some(change.organizer.clone()),
        note: match method {
            Method::Cancel => format!("{} cancelled this event.", change.organizer),
            _ => format!("{} invites you to this event.", change.organizer),
        },
        title,
        ..EventText::default()
    };
    let to: Vec<Mailbox> = change
        .attendees
        .iter()
        .map(|a| Mailbox::new(None, a))
        .collect();
    compose_itip(
        &Mailbox::new(None, &change.organizer),
        &to,
        method,
        &change.message,
        &text,
        now,
    )
}
