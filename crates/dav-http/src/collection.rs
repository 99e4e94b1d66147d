//! OPTIONS, MKCALENDAR / extended MKCOL and DELETE of calendars.

use crate::propfind::{set_prop, settle, stored_on_calendar};
use crate::props::normalize_colour;
use crate::reply::Response;
use crate::resource::{Node, Resolved};
use crate::{Dav, Request};
use imipd_dav::discovery::{allow_header, dav_header};
use imipd_dav::propfind::{NewCollection, ResourceKind};
use imipd_dav::{Precondition, parse_mkcalendar, parse_mkcol};
use imipd_store::{Calendar, CalendarProps, Error};

/// Where nothing exists yet: what may be made there.
const ALLOW_NEW: &str = "OPTIONS, PUT, MKCALENDAR, MKCOL";

pub fn allow(resolved: &Resolved) -> &'static str {
    match resolved {
        Resolved::Found(node) => allow_header(node.kind()),
        Resolved::NewCalendar(_) | Resolved::NewObject(..) => ALLOW_NEW,
        Resolved::NewCard(..) => "OPTIONS, PUT",
        Resolved::Nowhere => "OPTIONS",
    }
}

/// `DAV` names what this server speaks (no `calendar-auto-schedule` before it
/// schedules: Thunderbird would stop sending its own invitations).
pub fn options(resolved: &Resolved) -> Response {
    Response::new(200)
        .header("DAV", dav_header(false).to_string())
        .header("Allow", allow(resolved).to_string())
}

pub fn make(
    dav: &Dav<'_>,
    resolved: &Resolved,
    req: &Request,
    mkcalendar: bool,
) -> imipd_store::Result<Response> {
    let id = match resolved {
        Resolved::NewCalendar(id) => id,
        Resolved::Found(_) if mkcalendar => {
            return Ok(Response::precondition(
                &Precondition::ResourceMustBeNull,
                "something exists at this URL already",
            ));
        }
        Resolved::Found(_) => {
            return Ok(
                Response::text(405, "something exists at this URL already".into())
                    .header("Allow", allow(resolved).to_string()),
            );
        }
        Resolved::NewObject(..) | Resolved::NewCard(..) | Resolved::Nowhere => {
            return Ok(Response::precondition(
                &Precondition::CalendarCollectionLocationOk,
                "calendars are made in the calendar home, /calendars/<you>/<id>/",
            ));
        }
    };
    let parsed = if mkcalendar {
        parse_mkcalendar(&req.body)
    } else {
        parse_mkcol(&req.body)
    };
    let mut body = match parsed {
        Ok(b) => b,
        Err(e) => return Ok(Response::refused(&e)),
    };
    match body.collection(mkcalendar) {
        Ok(NewCollection::Calendar) => {}
        Ok(_) => {
            return Ok(Response::precondition(
                &Precondition::ValidResourcetype,
                "only calendars can be made in the calendar home",
            ));
        }
        Err(p) => return Ok(Response::precondition(&p, "unknown resource type")),
    }
    for (name, value) in &mut body.set {
        normalize_colour(name, value);
    }
    let mut outcome = body.check(ResourceKind::Calendar);
    // A client that names no component set gets a calendar for all three, as RFC 4791
    // section 5.2.3 reads an absent set: any component type may be stored.
    let components = body
        .components
        .clone()
        .unwrap_or_else(|| ["VEVENT", "VTODO", "VJOURNAL"].map(String::from).to_vec());
    let mut props = CalendarProps {
        components: Some(components),
        ..CalendarProps::default()
    };
    let first = usize::from(body.components.is_some());
    for ((name, value), (_, status)) in body.set.iter().zip(&mut outcome.statuses[first..]) {
        // Properties this server does not keep (Apple's calendar-order, dead ones) are
        // left out rather than failing the creation: clients send them with every new
        // calendar and treat a refusal as "cannot create calendars".
        if !stored_on_calendar(name) || *status != 200 && *status != 424 {
            if *status == 200 || *status == 424 {
                *status = 200;
            }
            continue;
        }
        if set_prop(&mut props, id, name, Some(value.text().trim().to_string())).is_err() {
            *status = 409;
        }
    }
    settle(&mut outcome);
    if !outcome.ok() {
        return Ok(Response::new(403).with_body(
            "application/xml; charset=utf-8",
            outcome.render_creation_response(mkcalendar).into_bytes(),
        ));
    }
    match dav.store.create_calendar(dav.user, id, &props) {
        Ok(_) => Ok(Response::new(201)),
        Err(Error::CalendarExists(_)) => Ok(Response::precondition(
            &Precondition::ResourceMustBeNull,
            "the calendar exists already",
        )),
        Err(Error::NoSuchCalendar(why) | Error::InvalidCalendar(why)) => Ok(
            Response::precondition(&Precondition::CalendarCollectionLocationOk, &why),
        ),
        Err(e) => Err(e),
    }
}

pub fn delete(dav: &Dav<'_>, calendar: &Calendar) -> imipd_store::Result<Response> {
    match dav.store.delete_calendar(dav.user, &calendar.id) {
        Ok(_) => Ok(Response::new(204)),
        Err(e @ Error::DefaultCalendar { .. }) => Ok(Response::precondition(
            &Precondition::NeedPrivileges(vec![(
                Node::Calendar(calendar.clone()).path(dav.user),
                imipd_dav::Privilege::Unbind,
            )]),
            &e.to_string(),
        )),
        Err(Error::NoSuchCalendar(_)) => Ok(Response::not_found()),
        Err(e) => Err(e),
    }
}
