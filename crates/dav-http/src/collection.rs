//! OPTIONS, MKCALENDAR / extended MKCOL and DELETE of calendars and address books.

use crate::propfind::{set_prop, settle, stored_on_calendar};
use crate::props::normalize_colour;
use crate::reply::Response;
use crate::resource::{Node, Resolved};
use crate::{Dav, Request};
use imipd_dav::discovery::{allow_header, dav_header};
use imipd_dav::propfind::{NewCollection, ResourceKind};
use imipd_dav::{Precondition, PropName, parse_mkcalendar, parse_mkcol};
use imipd_store::{
    AddressBook, AddressBookError, Calendar, CalendarProps, DeadChange, Error, PropertyOwner,
    check_dead_changes,
};

/// Where nothing exists yet: what may be made there.
const ALLOW_NEW: &str = "OPTIONS, PUT, MKCALENDAR, MKCOL";

pub fn allow(resolved: &Resolved) -> &'static str {
    match resolved {
        Resolved::Found(node) => allow_header(node.kind()),
        Resolved::NewCalendar(_) | Resolved::NewObject(..) => ALLOW_NEW,
        Resolved::NewCard(..) => "OPTIONS, PUT",
        Resolved::NewAddressbook(_) => "OPTIONS, MKCOL",
        Resolved::Nowhere => "OPTIONS",
    }
}

/// `DAV` names what this server speaks, `calendar-auto-schedule` included: the server
/// sends the iMIP messages of a client's writes (RFC 6638), so clients send none.
pub fn options(resolved: &Resolved) -> Response {
    Response::new(200)
        .header("DAV", dav_header(true).to_string())
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
        Resolved::NewAddressbook(id) if !mkcalendar => return make_book(dav, id, req),
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
        Resolved::NewCard(..) | Resolved::NewAddressbook(_) if !mkcalendar => {
            return Ok(Response::precondition(
                &Precondition::AddressbookCollectionLocationOk,
                "address books are made in the address book home, /addressbooks/<you>/<id>/",
            ));
        }
        Resolved::NewObject(..)
        | Resolved::NewCard(..)
        | Resolved::NewAddressbook(_)
        | Resolved::Nowhere => {
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
        // Properties kept as XML (Apple's calendar-order, dead ones) are stored once the
        // calendar exists (`keep_dead`); they never fail the creation: clients send them
        // with every new calendar and treat a refusal as "cannot create calendars".
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
        Ok(_) => {
            keep_dead(dav, &PropertyOwner::Calendar(id), &body.set)?;
            Ok(Response::new(201))
        }
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

/// Extended MKCOL (RFC 5689) of an address book in the address book home, with its
/// display name and description; other properties are left out, as for calendars.
fn make_book(dav: &Dav<'_>, id: &str, req: &Request) -> imipd_store::Result<Response> {
    let body = match parse_mkcol(&req.body) {
        Ok(b) => b,
        Err(e) => return Ok(Response::refused(&e)),
    };
    match body.collection(false) {
        Ok(NewCollection::Addressbook) => {}
        Ok(_) => {
            return Ok(Response::precondition(
                &Precondition::ValidResourcetype,
                "only address books can be made in the address book home",
            ));
        }
        Err(p) => return Ok(Response::precondition(&p, "unknown resource type")),
    }
    let mut outcome = body.check(ResourceKind::Addressbook);
    let (mut name, mut description) = (id.to_string(), String::new());
    for ((prop, value), (_, status)) in body.set.iter().zip(&mut outcome.statuses) {
        if *status == 424 {
            *status = 200;
        }
        match prop {
            PropName::DisplayName => name = value.text().trim().to_string(),
            PropName::AddressbookDescription => description = value.text().trim().to_string(),
            _ => {}
        }
    }
    settle(&mut outcome);
    if !outcome.ok() {
        return Ok(Response::new(403).with_body(
            "application/xml; charset=utf-8",
            outcome.render_creation_response(false).into_bytes(),
        ));
    }
    match dav
        .store
        .create_address_book(dav.user, id, &name, &description)
    {
        Ok(_) => {
            keep_dead(dav, &PropertyOwner::AddressBook(id), &body.set)?;
            Ok(Response::new(201))
        }
        Err(Error::AddressBook(AddressBookError::AddressBookExists(_))) => {
            Ok(Response::precondition(
                &Precondition::ResourceMustBeNull,
                "the address book exists already",
            ))
        }
        Err(Error::AddressBook(e @ AddressBookError::InvalidId(_))) => Ok(Response::precondition(
            &Precondition::AddressbookCollectionLocationOk,
            &e.to_string(),
        )),
        Err(e) => Err(e),
    }
}

/// Keeps the properties a new collection was made with that are kept as XML (see
/// [`crate::dead`]); those over the bounds are left out, as the creation must not fail
/// for them.
fn keep_dead(
    dav: &Dav<'_>,
    owner: &PropertyOwner<'_>,
    set: &[(PropName, imipd_dav::xml::tree::Element)],
) -> imipd_store::Result<()> {
    let changes: Vec<DeadChange> = set
        .iter()
        .filter(|(name, _)| crate::dead::kept_as_xml(name))
        .map(|(name, value)| DeadChange {
            namespace: name.ns().uri().to_string(),
            name: name.local().to_string(),
            xml: Some(value.inner_xml()),
        })
        .collect();
    let refusals = check_dead_changes(&[], &changes);
    let kept: Vec<DeadChange> = changes
        .into_iter()
        .zip(refusals)
        .filter_map(|(c, refused)| refused.is_none().then_some(c))
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    dav.store.change_dead_properties(dav.user, owner, &kept)
}

/// DELETE of an address book with its cards; the default one stays, as the default
/// calendar does, so a slip in a client cannot empty the contacts gate.
pub fn delete_book(dav: &Dav<'_>, book: &AddressBook) -> imipd_store::Result<Response> {
    if book.is_default {
        return Ok(Response::precondition(
            &Precondition::NeedPrivileges(vec![(
                Node::Addressbook(book.clone()).path(dav.user),
                imipd_dav::Privilege::Unbind,
            )]),
            "the default address book cannot be deleted",
        ));
    }
    dav.store.delete_address_book(dav.user, &book.id)?;
    Ok(Response::new(204))
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
