//! POST to the schedule outbox (RFC 6638 section 5): a free-busy question about users
//! here, answered from their calendars. Events are not POSTed: a PUT schedules them.

use crate::reply::Response;
use crate::report::{calendar_busy, unix_now};
use crate::{Dav, Request};
use imipd_dav::Precondition;
use imipd_dav::schedule::{RecipientAnswer, parse_freebusy_request, render_schedule_response};
use imipd_store::normalize_address;

pub fn post(dav: &Dav<'_>, req: &Request) -> imipd_store::Result<Response> {
    let Ok(body) = std::str::from_utf8(&req.body) else {
        return Ok(Response::precondition(
            &Precondition::SupportedCalendarData,
            "the body is not UTF-8 text/calendar",
        ));
    };
    let ask = match parse_freebusy_request(body) {
        Ok(a) => a,
        Err(e) => {
            return Ok(Response::precondition(
                &Precondition::ValidSchedulingMessage,
                &e.to_string(),
            ));
        }
    };
    let organizer = normalize_address(&ask.organizer);
    if !dav.store.addresses(dav.user)?.contains(&organizer) {
        return Ok(Response::precondition(
            &Precondition::OrganizerAllowed,
            &format!(
                "the ORGANIZER {organizer} is not one of your addresses \
                 (`imipd user alias-add` adds one)"
            ),
        ));
    }
    let mut answers = Vec::with_capacity(ask.attendees.len());
    for attendee in &ask.attendees {
        answers.push(
            match dav.store.resolve_address(&normalize_address(attendee))? {
                Some(user) => {
                    let mut busy = Vec::new();
                    for calendar in dav.store.calendars(&user)? {
                        calendar_busy(dav.store, &user, &calendar, &ask.range, &mut busy)?;
                    }
                    RecipientAnswer::Busy(busy)
                }
                None => RecipientAnswer::Unknown,
            },
        );
    }
    Ok(Response::new(200).with_body(
        "application/xml; charset=utf-8",
        render_schedule_response(&ask, answers, unix_now()).into_bytes(),
    ))
}
