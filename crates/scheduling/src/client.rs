//! A CalDAV client's write: the one place where a client's PUT or DELETE becomes a
//! calendar change, with the implicit scheduling of RFC 6638 section 3.2. The caller has
//! checked the object and turned the request's conditional headers into the write's
//! [`imipd_store::Expect`]; the store enforces it atomically, with the mail the write
//! sends in the same transaction, so two clients (or a client and the mail path) never
//! overwrite a version they have not seen and a write is never half sent.
//!
//! A client that sent no precondition (or one that still holds) does not lose its write to
//! the server's own note in the same object, the SCHEDULE-STATUS the outbox writes once a
//! message is delivered: a write that finds the object changed since it was read is made
//! once more on the version found, if the client's conditions hold for that one too.
//!
//! Answers go out through [`crate::rsvp::reply_mail`] and the organizer's messages through
//! [`crate::organize::plan_at`], as they do for the command line.

use crate::organize::{Organize, OrganizeError, Organizing, plan_at};
use crate::rsvp::{Reply, RsvpError, reply_mail};
use imipd_calendar::{ItipError, Limits, PartStat, Role, attendee_write, owes_decline, role};
use imipd_store::{Batch, CalendarObject, Error, Expect, Found, ObjectWrite, Store, Written};

/// Whether the request's conditions (If-Match, If-None-Match, If-Schedule-Tag-Match) hold
/// for a version of the resource (`None`: absent). A request without any holds for all.
pub type Holds<'a> = &'a dyn Fn(Option<&CalendarObject>) -> bool;

/// What a client's PUT asks for.
#[derive(Clone, Copy)]
pub struct ClientPut<'a> {
    pub calendar_id: &'a str,
    pub href: &'a str,
    pub uid: &'a str,
    pub ics: &'a str,
    /// The version replaced (`None`: a new resource).
    pub current: Option<&'a CalendarObject>,
    pub holds: Holds<'a>,
}

/// What a client's DELETE asks for.
#[derive(Clone, Copy)]
pub struct ClientDelete<'a> {
    pub object: &'a CalendarObject,
    /// RFC 6638 section 8.1: false for `Schedule-Reply: F`.
    pub schedule_reply: bool,
    pub holds: Holds<'a>,
}

/// Why a scheduling write is refused: the RFC 6638 precondition, for the caller to name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The ORGANIZER is not one of the user's addresses and the user is not invited.
    ValidOrganizer,
    /// The organizer's write changes what it may not (the ORGANIZER itself).
    OrganizerChange,
    /// The attendee's write changes what it may not (the ORGANIZER).
    AttendeeChange,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{reason}")]
    Refused { refusal: Refusal, reason: String },
    #[error(transparent)]
    Store(#[from] imipd_store::Error),
}

/// What a committed client write did.
#[derive(Debug, Clone)]
pub struct ClientWritten {
    pub written: Written,
    /// The outbox ids of the iMIP messages it sent.
    pub mail_ids: Vec<i64>,
    /// Whether a version was replaced (`false`: the resource is new).
    pub replaced: bool,
}

/// Commits one client PUT; [`imipd_store::Error::Conflict`] when its expectation no
/// longer holds (the client gets 412, or 409 for a UID already in use).
pub fn client_put(
    store: &dyn Store,
    user: &str,
    put: &ClientPut<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<ClientWritten, ClientError> {
    let own = store.addresses(user)?;
    let first = put_batch(user, &own, put, put.current, limits, now, queue_id)?;
    match commit(store, &first, put.current.is_some()) {
        Err(ClientError::Store(Error::Conflict(c))) if lost_race(&c.found) => {
            let found = store.object_at(user, put.calendar_id, put.href)?;
            if found.as_ref().is_some_and(|o| o.uid != put.uid) || !(put.holds)(found.as_ref()) {
                return Err(Error::Conflict(c).into());
            }
            let again = put_batch(user, &own, put, found.as_ref(), limits, now, queue_id)?;
            commit(store, &again, found.is_some())
        }
        done => done,
    }
}

/// Whether a conflict is another writer's version (or its delete) rather than a UID in
/// use elsewhere: only then may the write be made again on what is there now.
fn lost_race(found: &Found) -> bool {
    matches!(found, Found::Nothing | Found::Version(_))
}

/// The batch of one client PUT over `current`, the version it replaces.
fn put_batch(
    user: &str,
    own: &[String],
    put: &ClientPut<'_>,
    current: Option<&CalendarObject>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<Batch, ClientError> {
    let expect = current.map_or(Expect::MustNotExist, |o| Expect::Modseq(o.modseq));
    let write = |ics: &str| ObjectWrite::Put {
        calendar_id: put.calendar_id.to_string(),
        href: put.href.to_string(),
        uid: put.uid.to_string(),
        ics: ics.to_string(),
        expect,
    };
    let plain = || Batch {
        user: user.to_string(),
        writes: vec![write(put.ics)],
        ..Batch::default()
    };
    // A client's object that does not parse as iCalendar here was checked by the caller
    // already; it is stored as it came, unscheduled.
    let at = Organizing {
        user,
        uid: put.uid,
        own,
        previous: current,
    };
    let new = role(put.ics, own, limits).unwrap_or(Role::Unscheduled);
    let was = current.map(|o| role(&o.ics, own, limits).unwrap_or(Role::Unscheduled));
    let batch = match (was, new) {
        (Some(Role::Attendee { address, organizer }), new) => {
            if organizer_of(&new).is_some_and(|o| *o != organizer) {
                return Err(refused(
                    Refusal::AttendeeChange,
                    format!(
                        "the ORGANIZER of {} is {organizer}; it cannot be changed",
                        put.uid
                    ),
                ));
            }
            let previous = current.map(|o| o.ics.as_str()).unwrap_or_default();
            let answered = attendee_write(previous, put.ics, &address, limits)
                .map_err(|e| calendar(put.uid, e))?;
            let mut mails = Vec::new();
            for (rid, partstat) in &answered.answers {
                let reply = Reply {
                    user,
                    updated: &answered.stored,
                    attendee: &address,
                    organizer: &organizer,
                    partstat: *partstat,
                    recurrence_id: rid.as_deref(),
                    comment: None,
                };
                mails.push(reply_mail(&reply, limits, now, queue_id).map_err(rsvp_error)?);
            }
            Batch {
                user: user.to_string(),
                writes: vec![write(&answered.stored)],
                mails,
                job: None,
            }
        }
        (Some(Role::Organizer(organizer)), new) => {
            if organizer_of(&new).is_some_and(|o| *o != organizer) {
                return Err(refused(
                    Refusal::OrganizerChange,
                    format!(
                        "the ORGANIZER of {} is {organizer}; it cannot be changed",
                        put.uid
                    ),
                ));
            }
            organizer_batch(&at, put.ics, &write, limits, now, queue_id)?
        }
        (_, Role::Organizer(_)) => organizer_batch(&at, put.ics, &write, limits, now, queue_id)?,
        (None, Role::Other { organizer }) => {
            return Err(refused(
                Refusal::ValidOrganizer,
                format!(
                    "the ORGANIZER {organizer} of {} is not one of your addresses, and you are \
                     not among its ATTENDEEs: only the organizer invites",
                    put.uid
                ),
            ));
        }
        _ => plain(),
    };
    Ok(batch)
}

/// Commits one client DELETE: an attendee who had answered declines (unless the client
/// said `Schedule-Reply: F`); an organizer's attendees get a CANCEL.
pub fn client_delete(
    store: &dyn Store,
    user: &str,
    delete: &ClientDelete<'_>,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<ClientWritten, ClientError> {
    let own = store.addresses(user)?;
    let (object, schedule_reply) = (delete.object, delete.schedule_reply);
    let first = delete_batch(user, &own, object, schedule_reply, limits, now, queue_id)?;
    match commit(store, &first, true) {
        Err(ClientError::Store(Error::Conflict(c))) if matches!(c.found, Found::Version(_)) => {
            let found = store.object_at(user, &object.calendar_id, &object.href)?;
            let Some(found) = found.filter(|o| o.uid == object.uid && (delete.holds)(Some(o)))
            else {
                return Err(Error::Conflict(c).into());
            };
            let again = delete_batch(user, &own, &found, schedule_reply, limits, now, queue_id)?;
            commit(store, &again, true)
        }
        done => done,
    }
}

/// The batch of one client DELETE of `object`.
fn delete_batch(
    user: &str,
    own: &[String],
    object: &CalendarObject,
    schedule_reply: bool,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<Batch, ClientError> {
    let mut mails = Vec::new();
    match role(&object.ics, own, limits).unwrap_or(Role::Unscheduled) {
        Role::Attendee { address, organizer }
            if schedule_reply
                && owes_decline(&object.ics, &address, limits)
                    .map_err(|e| calendar(&object.uid, e))? =>
        {
            let updated = imipd_calendar::set_partstat(
                &object.ics,
                &address,
                PartStat::Declined,
                None,
                limits,
            )
            .map_err(|e| calendar(&object.uid, e))?;
            let reply = Reply {
                user,
                updated: &updated,
                attendee: &address,
                organizer: &organizer,
                partstat: PartStat::Declined,
                recurrence_id: None,
                comment: None,
            };
            mails.push(reply_mail(&reply, limits, now, queue_id).map_err(rsvp_error)?);
        }
        Role::Organizer(_) => {
            let at = Organizing {
                user,
                uid: &object.uid,
                own,
                previous: Some(object),
            };
            let cancel = Organize::Cancel {
                uid: &object.uid,
                recurrence_id: None,
            };
            let keep = |ics: &str| ObjectWrite::replace(object, ics);
            let (batch, _) =
                plan_at(&at, &cancel, &keep, limits, now, queue_id).map_err(organize_error)?;
            mails = batch.mails;
        }
        _ => {}
    }
    Ok(Batch {
        user: user.to_string(),
        writes: vec![ObjectWrite::delete(object)],
        mails,
        job: None,
    })
}

fn organizer_batch(
    at: &Organizing<'_>,
    ics: &str,
    write: &dyn Fn(&str) -> ObjectWrite,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Result<Batch, ClientError> {
    let save = Organize::Save { ics };
    let (batch, _) = plan_at(at, &save, write, limits, now, queue_id).map_err(organize_error)?;
    Ok(batch)
}

fn commit(store: &dyn Store, batch: &Batch, replaced: bool) -> Result<ClientWritten, ClientError> {
    let mut committed = store.commit(batch)?;
    Ok(ClientWritten {
        written: committed.objects.remove(0),
        mail_ids: committed.mail_ids,
        replaced,
    })
}

fn organizer_of(role: &Role) -> Option<&String> {
    match role {
        Role::Organizer(o) | Role::Attendee { organizer: o, .. } | Role::Other { organizer: o } => {
            Some(o)
        }
        Role::Unscheduled => None,
    }
}

fn refused(refusal: Refusal, reason: String) -> ClientError {
    ClientError::Refused { refusal, reason }
}

fn calendar(uid: &str, e: ItipError) -> ClientError {
    refused(Refusal::AttendeeChange, format!("{uid}: {e}"))
}

fn rsvp_error(e: RsvpError) -> ClientError {
    match e {
        RsvpError::Store(e) => ClientError::Store(e),
        other => refused(Refusal::AttendeeChange, other.to_string()),
    }
}

fn organize_error(e: OrganizeError) -> ClientError {
    match e {
        OrganizeError::Store(e) => ClientError::Store(e),
        OrganizeError::Calendar(ItipError::NotOrganizer { .. }) => {
            refused(Refusal::ValidOrganizer, e.to_string())
        }
        other => refused(Refusal::OrganizerChange, other.to_string()),
    }
}
