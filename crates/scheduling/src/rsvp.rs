//! An attendee's answer to an invitation: their PARTSTAT changes in their own copy and an
//! iMIP REPLY goes to the organizer through the outbox. The command line uses this now; the
//! web page and CalDAV scheduling call the same function.

use crate::change::CalendarChanged;
use crate::imip::{ComposeError, EventText, Mailbox, compose_itip, outgoing};
use imipd_calendar::{ItipError, Limits, Method, PartStat, build_reply, set_partstat, summarize};
use imipd_store::{Batch, NewMail, ObjectWrite, Store};

#[derive(Debug, Clone)]
pub struct Rsvp<'a> {
    pub user: &'a str,
    pub uid: &'a str,
    pub partstat: PartStat,
    /// Answer for one instance of a recurring event only.
    pub recurrence_id: Option<&'a str>,
    pub comment: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum RsvpError {
    #[error("{user} has no event with UID {uid} (see `imipd events list {user}`)")]
    NoEvent { user: String, uid: String },
    #[error("{user} is not an attendee of {uid} under any of their addresses")]
    NotAttendee { user: String, uid: String },
    #[error("{uid} has no organizer to answer")]
    NoOrganizer { uid: String },
    #[error("calendar data of {uid}: {source}")]
    Calendar { uid: String, source: ItipError },
    #[error("cannot compose the reply: {0}")]
    Compose(#[from] ComposeError),
    #[error(
        "{uid} kept changing while the answer was saved ({} attempts); try again",
        crate::retry::ATTEMPTS
    )]
    KeptChanging { uid: String },
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// What an answer did: the outbox entry and the calendar change to announce.
#[derive(Debug, Clone)]
pub struct Answered {
    pub mail_id: i64,
    pub change: CalendarChanged,
}

/// Answers: the attendee's copy and the REPLY committed together. If the event changes
/// between reading and writing it (a job, another answer, a CalDAV client), the answer is
/// made again on the new version, a few times, before giving up. The REPLY is queued under
/// `queue_id`, the name of this request.
pub fn rsvp(
    store: &dyn Store,
    answer: &Rsvp<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<Answered, RsvpError> {
    let (committed, change) = crate::retry::commit(
        store,
        || plan(store, answer, limits, now, queue_id),
        || RsvpError::KeptChanging {
            uid: answer.uid.to_string(),
        },
    )?;
    Ok(Answered {
        mail_id: committed.mail_ids.first().copied().unwrap_or_default(),
        change,
    })
}

/// The answer made on the event as stored now: the batch that commits it, expecting that
/// version, and the change it makes.
pub fn plan(
    store: &dyn Store,
    answer: &Rsvp<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<(Batch, CalendarChanged), RsvpError> {
    let (user, uid) = (answer.user, answer.uid);
    let calendar = |source| RsvpError::Calendar {
        uid: uid.to_string(),
        source,
    };
    let Some(object) = store.find_object(user, uid)? else {
        return Err(RsvpError::NoEvent {
            user: user.to_string(),
            uid: uid.to_string(),
        });
    };
    let events = summarize(&object.ics, limits).map_err(calendar)?;
    let event = events
        .iter()
        .find(|e| e.recurrence_id.as_deref() == answer.recurrence_id)
        .or_else(|| events.iter().find(|e| e.recurrence_id.is_none()))
        .or(events.first())
        .ok_or_else(|| RsvpError::NoEvent {
            user: user.to_string(),
            uid: uid.to_string(),
        })?;
    let own = store.addresses(user)?;
    let Some(attendee) = event
        .attendees
        .iter()
        .map(|(address, _)| address)
        .find(|a| own.iter().any(|o| o.eq_ignore_ascii_case(a)))
        .cloned()
    else {
        return Err(RsvpError::NotAttendee {
            user: user.to_string(),
            uid: uid.to_string(),
        });
    };
    let Some(organizer) = event.organizer.clone() else {
        return Err(RsvpError::NoOrganizer {
            uid: uid.to_string(),
        });
    };
    let updated = set_partstat(
        &object.ics,
        &attendee,
        answer.partstat,
        answer.recurrence_id,
        limits,
    )
    .map_err(calendar)?;
    let reply = Reply {
        user,
        updated: &updated,
        attendee: &attendee,
        organizer: &organizer,
        partstat: answer.partstat,
        recurrence_id: answer.recurrence_id,
        comment: answer.comment,
    };
    let mail = reply_mail(&reply, limits, now, queue_id)?;
    let batch = Batch {
        user: user.to_string(),
        writes: vec![ObjectWrite::replace(&object, &updated)],
        mails: vec![mail],
        job: None,
    };
    let change = CalendarChanged {
        user: user.to_string(),
        calendar_id: object.calendar_id,
        uid: uid.to_string(),
    };
    Ok((batch, change))
}

/// One answer to send: the attendee's copy with the answer already in it.
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    pub user: &'a str,
    pub updated: &'a str,
    /// The attendee's address as the invitation names it (an alias stays that alias).
    pub attendee: &'a str,
    pub organizer: &'a str,
    pub partstat: PartStat,
    pub recurrence_id: Option<&'a str>,
    pub comment: Option<&'a str>,
}

/// The REPLY for the outbox: from the attendee, to the organizer, with one ATTENDEE line
/// and the UID, SEQUENCE and RECURRENCE-ID of the answered event. The command line and
/// CalDAV both send their answers through here.
pub fn reply_mail(
    reply: &Reply<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<NewMail, RsvpError> {
    let uid_of = || {
        summarize(reply.updated, limits)
            .ok()
            .and_then(|e| e.first().map(|e| e.uid.clone()))
            .unwrap_or_default()
    };
    let calendar = |source| RsvpError::Calendar {
        uid: uid_of(),
        source,
    };
    let message = build_reply(
        reply.updated,
        reply.attendee,
        reply.partstat,
        reply.recurrence_id,
        reply.comment,
        limits,
        now,
    )
    .map_err(calendar)?;
    let events = summarize(reply.updated, limits).map_err(calendar)?;
    let event = events
        .iter()
        .find(|e| e.recurrence_id.as_deref() == reply.recurrence_id)
        .or_else(|| events.iter().find(|e| e.recurrence_id.is_none()))
        .or(events.first());
    let text = EventText {
        title: event.map(|e| e.summary.clone()).unwrap_or_default(),
        when: event.map(|e| e.start.clone()).filter(|s| !s.is_empty()),
        location: event.and_then(|e| e.location.clone()),
        organizer: Some(reply.organizer.to_string()),
        note: format!(
            "{} {} the invitation.",
            reply.attendee,
            verb(reply.partstat)
        ),
        ..EventText::default()
    };
    let composed = compose_itip(
        &Mailbox::new(None, reply.attendee),
        &[Mailbox::new(None, reply.organizer)],
        Method::Reply,
        &message,
        &text,
        now,
    )?;
    Ok(outgoing(reply.user, "reply", composed, queue_id))
}

fn verb(partstat: PartStat) -> &'static str {
    match partstat {
        PartStat::Accepted => "accepted",
        PartStat::Declined => "declined",
        PartStat::Tentative => "tentatively accepted",
        PartStat::Delegated => "delegated",
        PartStat::NeedsAction => "has not yet answered",
    }
}
