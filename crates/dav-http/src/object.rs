//! GET, PUT and DELETE of calendar objects, with strong ETags and the RFC 4791
//! preconditions of PUT and the Schedule-Tag of RFC 6638. Every write goes through
//! [`imipd_scheduling::client_put`] or [`imipd_scheduling::client_delete`], which schedule it.

use crate::reply::Response;
use crate::resource::{self, Node, Resolved};
use crate::{Dav, Request};
use imipd_calendar::{ItipError, Limits, identify};
use imipd_dav::Precondition;
use imipd_dav::headers::Conditions;
use imipd_lmtp::QueueId;
use imipd_scheduling::{ClientDelete, ClientError, ClientPut, Refusal, client_delete, client_put};
use imipd_store::{Calendar, CalendarObject, Error, Found, etag};

const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

pub fn get(resolved: &Resolved, with_body: bool) -> Response {
    match resolved {
        Resolved::Found(Node::Object(_, o) | Node::InboxItem(o)) => {
            let mut r = Response::new(200).header("ETag", o.etag());
            if let Some(tag) = schedule_tag(Some(o)) {
                r = r.header("Schedule-Tag", quoted(&tag));
            }
            let mut r = r.with_body(CALENDAR_TYPE, o.ics.clone().into_bytes());
            if !with_body {
                r.headers.push(("Content-Length", r.body.len().to_string()));
                r.body.clear();
            }
            r
        }
        Resolved::Found(Node::Card(_, c)) => crate::card::get(c, with_body),
        Resolved::Found(_) => Response::text(
            405,
            "this is a collection: list it with PROPFIND, or read its objects one by one".into(),
        )
        .header("Allow", crate::collection::allow(resolved).to_string()),
        _ => Response::not_found(),
    }
}

pub fn conditions(req: &Request) -> Result<Conditions, Response> {
    Conditions::parse(
        req.header("if-match"),
        req.header("if-none-match"),
        req.header("if-schedule-tag-match"),
    )
    .map_err(|e| Response::text(400, e.to_string()))
}

/// The current version's tag as conditions compare it (unquoted).
fn tag(object: Option<&CalendarObject>) -> Option<String> {
    object.map(|o| o.modseq.to_string())
}

/// The current version's Schedule-Tag (unquoted), for a scheduling object.
fn schedule_tag(object: Option<&CalendarObject>) -> Option<String> {
    object.and_then(|o| imipd_calendar::schedule_tag(&o.ics, &Limits::default()))
}

fn quoted(tag: &str) -> String {
    format!("\"{tag}\"")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An RFC 6638 refusal as its precondition.
fn scheduling_refusal(refusal: Refusal) -> Precondition {
    match refusal {
        Refusal::ValidOrganizer => Precondition::ValidOrganizer,
        Refusal::OrganizerChange => Precondition::AllowedOrganizerObjectChange,
        Refusal::AttendeeChange => Precondition::AllowedAttendeeObjectChange,
    }
}

pub fn precondition_failed() -> Response {
    Response::text(
        412,
        "the resource is not in the state the request's If-Match / If-None-Match expects \
         (read it again)"
            .into(),
    )
}

/// Why an object is refused, as the RFC 4791 precondition that says so.
fn refusal(e: &ItipError) -> Precondition {
    match e {
        ItipError::TooLarge { .. } => Precondition::MaxResourceSize,
        ItipError::NoComponent
        | ItipError::MissingUid
        | ItipError::MixedUids(..)
        | ItipError::MixedComponents(..) => Precondition::ValidCalendarObjectResource,
        _ => Precondition::ValidCalendarData,
    }
}

pub fn put(dav: &Dav<'_>, resolved: &Resolved, req: &Request) -> imipd_store::Result<Response> {
    if let Some((book, name, current)) = crate::card::target(resolved) {
        return crate::card::put(dav, book, name, current, req);
    }
    let (calendar, name, current): (&Calendar, &str, Option<&CalendarObject>) = match resolved {
        Resolved::Found(Node::Object(c, o)) => (c, &o.href, Some(o)),
        Resolved::NewObject(c, name) => (c, name, None),
        Resolved::Found(_) => {
            return Ok(
                Response::text(405, "a collection cannot be replaced by PUT".into())
                    .header("Allow", crate::collection::allow(resolved).to_string()),
            );
        }
        _ => {
            return Ok(Response::text(
                409,
                "no such collection: objects are put into an existing calendar or address book"
                    .into(),
            ));
        }
    };
    let conds = match conditions(req) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    if let Some(ct) = req.header("content-type")
        && !ct.trim().to_ascii_lowercase().starts_with("text/calendar")
    {
        return Ok(Response::precondition(
            &Precondition::SupportedCalendarData,
            &format!("Content-Type {ct:?}: send text/calendar"),
        ));
    }
    let Ok(text) = std::str::from_utf8(&req.body) else {
        return Ok(Response::precondition(
            &Precondition::ValidCalendarData,
            "the object is not UTF-8",
        ));
    };
    let limits = Limits {
        max_part_bytes: dav.config.max_request_bytes,
        ..Limits::default()
    };
    let identity = match identify(text, &limits) {
        Ok(i) => i,
        Err(e) => return Ok(Response::precondition(&refusal(&e), &e.to_string())),
    };
    if !calendar
        .components
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&identity.component))
    {
        return Ok(Response::precondition(
            &Precondition::SupportedCalendarComponent,
            &format!(
                "this calendar holds {}, not {}",
                calendar.components.join(", "),
                identity.component
            ),
        ));
    }
    let holds =
        |o: Option<&CalendarObject>| conds.hold(tag(o).as_deref(), schedule_tag(o).as_deref());
    if !holds(current) {
        return Ok(precondition_failed());
    }
    let path = resource::object(dav.user, &calendar.id, name);
    if let Some(o) = current
        && o.uid != identity.uid
    {
        return Ok(Response::precondition(
            &Precondition::NoUidConflict { href: path },
            &format!(
                "this resource holds UID {:?}; a PUT cannot change it to {:?}",
                o.uid, identity.uid
            ),
        ));
    }
    let put = ClientPut {
        calendar_id: &calendar.id,
        href: name,
        uid: &identity.uid,
        ics: text,
        current,
        holds: &holds,
    };
    let queue_id = QueueId::generate();
    match client_put(dav.store, dav.user, &put, &limits, now(), queue_id.as_str()) {
        Ok(done) => {
            let status = if done.replaced { 204 } else { 201 };
            let written = done.written;
            let mut r =
                Response::new(status).header("ETag", etag(written.modseq.unwrap_or_default()));
            let stored = dav
                .store
                .object_at(dav.user, &written.calendar_id, &written.href)?;
            if let Some(tag) = schedule_tag(stored.as_ref()) {
                r = r.header("Schedule-Tag", quoted(&tag));
            }
            Ok(r)
        }
        Err(ClientError::Refused { refusal, reason }) => Ok(Response::precondition(
            &scheduling_refusal(refusal),
            &reason,
        )),
        Err(ClientError::Store(Error::Conflict(c))) => Ok(match c.found {
            Found::Uid { calendar_id, href } => Response::precondition(
                &Precondition::NoUidConflict {
                    href: resource::object(dav.user, &calendar_id, &href),
                },
                &format!(
                    "UID {:?} is stored at another resource already",
                    identity.uid
                ),
            ),
            Found::OtherUid(uid) => Response::precondition(
                &Precondition::NoUidConflict { href: path },
                &format!("this resource holds UID {uid:?} now"),
            ),
            Found::Nothing | Found::Version(_) => precondition_failed(),
        }),
        Err(ClientError::Store(e)) => Err(e),
    }
}

pub fn delete(dav: &Dav<'_>, resolved: &Resolved, req: &Request) -> imipd_store::Result<Response> {
    let object = match resolved {
        Resolved::Found(Node::Object(_, o)) => o,
        Resolved::Found(Node::InboxItem(item)) => {
            // The job stays in the queue's history; only the inbox forgets it.
            dav.store.delete_from_inbox(dav.user, item.modseq)?;
            return Ok(Response::new(204));
        }
        Resolved::Found(Node::Card(b, c)) => return crate::card::delete(dav, b, c, req),
        Resolved::Found(_) => {
            return Ok(
                Response::text(405, "this collection cannot be deleted".into())
                    .header("Allow", crate::collection::allow(resolved).to_string()),
            );
        }
        _ => return Ok(Response::not_found()),
    };
    let conds = match conditions(req) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let holds =
        |o: Option<&CalendarObject>| conds.hold(tag(o).as_deref(), schedule_tag(o).as_deref());
    if !holds(Some(object)) {
        return Ok(precondition_failed());
    }
    // RFC 6638 section 8.1: `Schedule-Reply: F` deletes without telling the organizer.
    let schedule_reply = !req
        .header("schedule-reply")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("F"));
    let queue_id = QueueId::generate();
    let limits = Limits {
        max_part_bytes: dav.config.max_request_bytes,
        ..Limits::default()
    };
    let delete = ClientDelete {
        object,
        schedule_reply,
        holds: &holds,
    };
    match client_delete(
        dav.store,
        dav.user,
        &delete,
        &limits,
        now(),
        queue_id.as_str(),
    ) {
        Ok(_) => Ok(Response::new(204)),
        Err(ClientError::Refused { refusal, reason }) => Ok(Response::precondition(
            &scheduling_refusal(refusal),
            &reason,
        )),
        Err(ClientError::Store(Error::Conflict(_))) => Ok(precondition_failed()),
        Err(ClientError::Store(e)) => Err(e),
    }
}
