//! An attendee's answer to an invitation: their PARTSTAT changes in their own copy and an
//! iMIP REPLY goes to the organizer through the outbox. The command line uses this now; the
//! web page and CalDAV scheduling call the same function.

use crate::change::CalendarChanged;
use crate::imip::{ComposeError, EventText, Mailbox, compose_itip, outgoing};
use imipd_calendar::{ItipError, Limits, Method, PartStat, build_reply, set_partstat, summarize};
use imipd_store::{Batch, ObjectWrite, Store};

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
    let reply = build_reply(
        &updated,
        &attendee,
        answer.partstat,
        answer.recurrence_id,
        answer.comment,
        limits,
        now,
    )
    .map_err(calendar)?;
    let text = EventText {
        title: event.summary.clone(),
        when: (!event.start.is_empty()).then(|| event.start.clone()),
        location: event.location.clone(),
        organizer: Some(organizer.clone()),
        note: format!("{attendee} {} the invitation.", verb(answer.partstat)),
        ..EventText::default()
    };
    let composed = compose_itip(
        &Mailbox::new(None, &attendee),
        &[Mailbox::new(None, &organizer)],
        Method::Reply,
        &reply,
        &text,
        now,
    )?;
    let mail = outgoing(user, "reply", composed, queue_id);
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

fn verb(partstat: PartStat) -> &'static str {
    match partstat {
        PartStat::Accepted => "accepted",
        PartStat::Declined => "declined",
        PartStat::Tentative => "tentatively accepted",
        PartStat::Delegated => "delegated",
        PartStat::NeedsAction => "has not yet answered",
    }
}
