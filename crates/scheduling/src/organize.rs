//! The organizer's changes going out: the user saves or calls off an event they organize,
//! their copy is written and the REQUEST or CANCEL for the attendees is queued in the
//! outbox. The command line uses this now; CalDAV and the web page call the same function.

use crate::change::CalendarChanged;
use crate::imip::{ComposeError, Composed, EventText, Mailbox, compose_itip, outgoing};
use crate::news::{News, news};
use imipd_calendar::{
    ItipError, Limits, Method, OrganizerChange, build_cancel, build_instance_request,
    component_tags, organizer_cancel, organizer_update, peek, schedule_status_from, schedule_tag,
    summarize, time_range, with_schedule_status,
};
use imipd_store::{Batch, CalendarObject, ObjectWrite, Store};

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
    #[error(
        "{uid} kept changing while it was saved ({} attempts); try again",
        crate::retry::ATTEMPTS
    )]
    KeptChanging { uid: String },
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

/// Saves or cancels: the organizer's copy and the message to the attendees committed
/// together. If the event changes between reading and writing it, the action is made again
/// on the new version, a few times, before giving up.
pub fn organize(
    store: &dyn Store,
    user: &str,
    action: &Organize<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<Organized, OrganizeError> {
    let uid = match action {
        Organize::Save { ics } => peek(ics.as_bytes(), limits).ok().and_then(|p| p.uid),
        Organize::Cancel { uid, .. } => Some(uid.to_string()),
    }
    .ok_or(OrganizeError::NoUid)?;
    let (committed, planned) = crate::retry::commit(
        store,
        || plan(store, user, &uid, action, limits, now, queue_id),
        || OrganizeError::KeptChanging { uid: uid.clone() },
    )?;
    Ok(Organized {
        mail_id: committed.mail_ids.first().copied(),
        attendees: planned.attendees,
        change: planned.change,
    })
}

/// An organizer's action made on the event as stored now.
pub struct Planned {
    pub attendees: Vec<String>,
    pub change: CalendarChanged,
}

/// The action made on the event `uid` as stored now: the batch that commits it, expecting
/// that version (or no such event yet), and what it does. The mail to the attendees goes
/// under `queue_id`, the name of this request.
pub fn plan(
    store: &dyn Store,
    user: &str,
    uid: &str,
    action: &Organize<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<(Batch, Planned), OrganizeError> {
    let own = store.addresses(user)?;
    let previous = store.find_object(user, uid)?;
    let calendar = match &previous {
        Some(_) => None,
        None => Some(store.default_calendar(user)?.id),
    };
    let write = |stored: &str| match (&previous, &calendar) {
        (Some(object), _) => ObjectWrite::replace(object, stored),
        (None, calendar) => {
            ObjectWrite::new_event(calendar.as_deref().unwrap_or_default(), uid, stored)
        }
    };
    let at = Organizing {
        user,
        uid,
        own: &own,
        previous: previous.as_ref(),
    };
    plan_at(&at, action, &write, limits, now, queue_id)
}

/// Where an organizer's action is made: the user, their addresses and the version of the
/// event it replaces.
pub struct Organizing<'a> {
    pub user: &'a str,
    pub uid: &'a str,
    pub own: &'a [String],
    pub previous: Option<&'a CalendarObject>,
}

/// The action made on `at.previous`, written by `write` (the command line names the
/// resource after the UID; a CalDAV client names its own). Nothing is sent for an event
/// that is over, nor for a save that changes nothing the attendees see; attendees dropped
/// from the event are told it is cancelled for them.
pub fn plan_at(
    at: &Organizing<'_>,
    action: &Organize<'_>,
    write: &dyn Fn(&str) -> ObjectWrite,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<(Batch, Planned), OrganizeError> {
    let (user, uid, own, previous) = (at.user, at.uid, at.own, at.previous);
    let (change, method) = match action {
        Organize::Save { ics } => {
            let change = organizer_update(previous.map(|o| o.ics.as_str()), ics, own, limits, now)?;
            (change, Method::Request)
        }
        Organize::Cancel { recurrence_id, .. } => {
            let stored = previous.ok_or_else(|| OrganizeError::NoEvent {
                user: user.to_string(),
                uid: uid.to_string(),
            })?;
            let change = organizer_cancel(&stored.ics, *recurrence_id, own, limits, now)?;
            (change, Method::Cancel)
        }
    };
    let over = time_range(&change.stored, limits)
        .ok()
        .and_then(|r| r.last_end)
        .is_some_and(|end| end <= now);
    let unchanged = method == Method::Request
        && previous
            .is_some_and(|p| schedule_tag(&p.ics, limits) == schedule_tag(&change.stored, limits));
    let mut mails = Vec::new();
    let announced = !over && !unchanged && !change.attendees.is_empty();
    let mut told = Vec::new();
    if announced {
        let whole = || vec![(method, change.clone())];
        let messages = match method {
            Method::Request => previous
                .and_then(|p| instance_messages(&p.ics, &change, limits, now))
                .unwrap_or_else(whole),
            _ => whole(),
        };
        for (method, message) in messages {
            mails.push(outgoing(
                user,
                method.as_lower(),
                compose(&message, method, limits, now)?,
                queue_id,
            ));
            told.extend(message.attendees);
        }
    }
    if !over
        && method == Method::Request
        && let Some(previous) = previous
        && let Some(dropped) = dropped(&previous.ics, &change, own, limits, now)?
    {
        mails.push(outgoing(
            user,
            Method::Cancel.as_lower(),
            compose(&dropped, Method::Cancel, limits, now)?,
            queue_id,
        ));
    }
    // What became of each attendee's last message is the server's to say, whatever the
    // client's copy repeats; those told now have theirs on its way (1.1).
    let stored = match previous {
        Some(p) if matches!(action, Organize::Save { .. }) => {
            schedule_status_from(&change.stored, &p.ics, limits)?
        }
        _ => change.stored.clone(),
    };
    let stored = if announced {
        with_schedule_status(&stored, &told, "1.1", limits)?
    } else {
        stored
    };
    let write = write(&stored);
    let calendar_id = write.calendar_id().to_string();
    let batch = Batch {
        user: user.to_string(),
        writes: vec![write],
        mails,
        job: None,
    };
    let planned = Planned {
        change: CalendarChanged {
            user: user.to_string(),
            calendar_id,
            uid: change.uid.clone(),
        },
        attendees: change.attendees,
    };
    Ok((batch, planned))
}

/// The messages for a save that touched only some instances: a REQUEST for each override
/// added or changed, a CANCEL for each instance called off, each to that instance's
/// attendees. `None`: the whole event goes out.
fn instance_messages(
    previous: &str,
    change: &OrganizerChange,
    limits: &Limits,
    now: i64,
) -> Option<Vec<(Method, OrganizerChange)>> {
    let before = component_tags(previous, limits).ok()?;
    let after = component_tags(&change.stored, limits).ok()?;
    let News::Instances(items) = news(&before, &after) else {
        return None;
    };
    let mut messages = Vec::new();
    for item in items {
        let (method, message) = if item.cancelled {
            // Built from the version that still has the instance.
            let message = build_cancel(previous, Some(&item.recurrence_id), limits, now)
                .or_else(|_| build_cancel(&change.stored, Some(&item.recurrence_id), limits, now));
            (Method::Cancel, message.ok()?)
        } else {
            let message = build_instance_request(&change.stored, &item.recurrence_id, limits, now);
            (Method::Request, message.ok()?)
        };
        let attendees: Vec<String> = change
            .attendees
            .iter()
            .filter(|a| item.attendees.contains(a))
            .cloned()
            .collect();
        if !attendees.is_empty() {
            messages.push((
                method,
                OrganizerChange {
                    message,
                    attendees,
                    ..change.clone()
                },
            ));
        }
    }
    (!messages.is_empty()).then_some(messages)
}

/// The CANCEL for the attendees of `previous` that `change` no longer invites.
fn dropped(
    previous: &str,
    change: &OrganizerChange,
    own: &[String],
    limits: &Limits,
    now: i64,
) -> Result<Option<OrganizerChange>, OrganizeError> {
    let before = organizer_cancel(previous, None, own, limits, now)?;
    let gone: Vec<String> = before
        .attendees
        .into_iter()
        .filter(|a| !change.attendees.contains(a))
        .collect();
    if gone.is_empty() {
        return Ok(None);
    }
    Ok(Some(OrganizerChange {
        attendees: gone,
        ..before
    }))
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
