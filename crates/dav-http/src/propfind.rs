//! PROPFIND (depth 0 and 1) and PROPPATCH of calendars and address books.

use crate::dead;
use crate::props::{Source, normalize_colour, timezone_name};
use crate::reply::Response;
use crate::resource::{self, Node, Resolved};
use crate::{Dav, Request};
use imipd_dav::headers::{Depth, Prefer, propfind_depth};
use imipd_dav::propfind::{Answerer, PatchOutcome, check_proppatch};
use imipd_dav::request::{PatchOp, PropRequest};
use imipd_dav::{Multistatus, PropName, PropSelection, parse_propfind, parse_proppatch};
use imipd_store::{AddressBook, CalendarProps, Error, PropertyOwner};

pub fn prefer(req: &Request) -> Prefer {
    Prefer::parse(req.headers_named("prefer"), req.header("brief"))
}

pub fn propfind(
    dav: &Dav<'_>,
    resolved: &Resolved,
    req: &Request,
) -> imipd_store::Result<Response> {
    let Resolved::Found(node) = resolved else {
        return Ok(Response::not_found());
    };
    // No Depth header means infinity (RFC 4918 section 9.1); answered as 1, as SabreDAV
    // does, since clients that leave it out want the members. An explicit infinity is
    // refused with its precondition.
    let depth = match req.header("depth") {
        None => Depth::One,
        given => match propfind_depth(given) {
            Ok(d) => d,
            Err(p) => return Ok(Response::precondition(&p, "use Depth: 0 or 1")),
        },
    };
    let select = match parse_propfind(&req.body) {
        Ok(s) => s,
        Err(e) => return Ok(Response::refused(&e)),
    };
    let prefer = prefer(req);
    let children = if depth == Depth::One {
        children(dav, node, needs_data(&select))?
    } else {
        Vec::new()
    };
    let mut ms = Multistatus::with_capacity(512 + children.len() * 400);
    let mut answerer = Answerer::default();
    if !(depth == Depth::One && prefer.depth_noroot) {
        let src = Source::new(dav, node);
        answerer.answer(&mut ms, &node.path(dav.user), &select, &src, prefer);
    }
    for child in &children {
        let src = Source::new(dav, child);
        answerer.answer(&mut ms, &child.path(dav.user), &select, &src, prefer);
    }
    Ok(Response::multistatus(ms.finish(None)))
}

/// Whether a selection asks for what only an object's data tells: its text, or its
/// Schedule-Tag (which `allprop` includes).
fn needs_data(select: &PropSelection) -> bool {
    match select.props {
        PropRequest::AllProp { .. } => true,
        PropRequest::PropName => false,
        PropRequest::Prop(_) => {
            select.wants(&PropName::CalendarData) || select.wants(&PropName::ScheduleTag)
        }
    }
}

/// The members of a collection; a calendar's objects without their data unless `data`.
pub fn children(dav: &Dav<'_>, node: &Node, data: bool) -> imipd_store::Result<Vec<Node>> {
    Ok(match node {
        Node::Root => vec![
            Node::Top(resource::PRINCIPALS),
            Node::Top(resource::CALENDARS),
            Node::Top(resource::ADDRESSBOOKS),
        ],
        Node::Top(resource::PRINCIPALS) => vec![Node::Principal],
        Node::Top(resource::CALENDARS) => vec![Node::CalendarHome],
        Node::Top(_) => vec![Node::AddressbookHome],
        Node::CalendarHome => {
            // A new user has a calendar to see before any invitation arrives.
            dav.store.default_calendar(dav.user)?;
            dav.store
                .calendars(dav.user)?
                .into_iter()
                .map(Node::Calendar)
                .collect()
        }
        Node::Calendar(c) if data => resource::objects_of(dav, &c.id, None)?
            .into_iter()
            .map(|o| Node::Object(c.clone(), o))
            .collect(),
        Node::Calendar(c) => dav
            .store
            .object_versions(dav.user, &c.id)?
            .into_iter()
            .map(|v| Node::Version(c.clone(), v))
            .collect(),
        Node::AddressbookHome => dav
            .store
            .address_books(dav.user)?
            .into_iter()
            .map(Node::Addressbook)
            .collect(),
        Node::Addressbook(b) => dav
            .store
            .cards(dav.user, &b.id)?
            .into_iter()
            .map(|c| Node::Card(b.clone(), c))
            .collect(),
        Node::ScheduleInbox => resource::inbox_items(dav)?
            .into_iter()
            .map(Node::InboxItem)
            .collect(),
        Node::Principal
        | Node::Object(..)
        | Node::Version(..)
        | Node::Card(..)
        | Node::InboxItem(_)
        | Node::ScheduleOutbox => Vec::new(),
    })
}

/// The calendar properties this server stores.
pub fn stored_on_calendar(name: &PropName) -> bool {
    matches!(
        name,
        PropName::DisplayName
            | PropName::CalendarDescription
            | PropName::CalendarColor
            | PropName::CalendarTimezone
    )
}

/// Sets `name` to `text` in `props`; `None` (a remove) unsets it.
pub fn set_prop(
    props: &mut CalendarProps,
    calendar_id: &str,
    name: &PropName,
    text: Option<String>,
) -> Result<(), String> {
    let unset = String::new;
    match name {
        PropName::DisplayName => {
            props.name = Some(text.unwrap_or_else(|| calendar_id.to_string()));
        }
        PropName::CalendarDescription => props.description = Some(text.unwrap_or_else(unset)),
        PropName::CalendarColor => props.color = Some(text.unwrap_or_else(unset)),
        PropName::CalendarTimezone => {
            props.timezone = Some(match text {
                Some(t) => timezone_name(&t).ok_or("a VCALENDAR with one VTIMEZONE")?,
                None => unset(),
            })
        }
        _ => return Err("not stored".into()),
    }
    Ok(())
}

pub fn proppatch(
    dav: &Dav<'_>,
    resolved: &Resolved,
    req: &Request,
) -> imipd_store::Result<Response> {
    let Resolved::Found(node) = resolved else {
        return Ok(Response::not_found());
    };
    let mut update = match parse_proppatch(&req.body) {
        Ok(u) => u,
        Err(e) => return Ok(Response::refused(&e)),
    };
    for op in &mut update.ops {
        if let PatchOp::Set(name, value) = op {
            normalize_colour(name, value);
        }
    }
    let mut outcome = check_proppatch(&update, node.kind());
    if let Node::Addressbook(book) = node {
        return proppatch_book(dav, node, book, &update, outcome);
    }
    let owner = dead::owner(node);
    let mut props = CalendarProps::default();
    let calendar = match node {
        Node::Calendar(c) => Some(c),
        _ => None,
    };
    for (op, (_, status)) in update.ops.iter().zip(outcome.statuses.iter_mut()) {
        if *status != 200 && *status != 424 || owner.is_some() && dead::kept_as_xml(op.name()) {
            continue;
        }
        let Some(cal) = calendar.filter(|_| stored_on_calendar(op.name())) else {
            *status = 403;
            continue;
        };
        let text = match op {
            PatchOp::Set(_, v) => Some(v.text().trim().to_string()),
            PatchOp::Remove(_) => None,
        };
        if set_prop(&mut props, &cal.id, op.name(), text).is_err() {
            *status = 409;
        }
    }
    let dead_changes = match &owner {
        Some(owner) => dead::changes(dav, owner, &update.ops, &mut outcome)?,
        None => Vec::new(),
    };
    settle(&mut outcome);
    if let (true, Some(cal)) = (outcome.ok(), calendar) {
        match dav.store.update_calendar(dav.user, &cal.id, &props) {
            Ok(_) => {}
            Err(Error::InvalidCalendar(why)) => {
                for (_, s) in &mut outcome.statuses {
                    *s = 409;
                }
                let mut ms = Multistatus::default();
                outcome.render(&mut ms, &node.path(dav.user));
                tracing::info!(user = dav.user, "caldav: PROPPATCH refused: {why}");
                return Ok(Response::multistatus(ms.finish(None)));
            }
            Err(e) => return Err(e),
        }
    }
    if let (true, Some(owner)) = (outcome.ok(), &owner)
        && !dead_changes.is_empty()
    {
        dav.store
            .change_dead_properties(dav.user, owner, &dead_changes)?;
    }
    let mut ms = Multistatus::default();
    outcome.render(&mut ms, &node.path(dav.user));
    Ok(Response::multistatus(ms.finish(None)))
}

/// PROPPATCH of an address book: its display name and description, the two things
/// the store keeps of it.
fn proppatch_book(
    dav: &Dav<'_>,
    node: &Node,
    book: &AddressBook,
    update: &imipd_dav::request::PropertyUpdate,
    mut outcome: PatchOutcome,
) -> imipd_store::Result<Response> {
    let mut name = book.name.clone();
    let mut description = book.description.clone();
    for (op, (_, status)) in update.ops.iter().zip(outcome.statuses.iter_mut()) {
        if *status != 200 && *status != 424 {
            continue;
        }
        let text = match op {
            PatchOp::Set(_, v) => Some(v.text().trim().to_string()),
            PatchOp::Remove(_) => None,
        };
        match op.name() {
            PropName::DisplayName => name = text.unwrap_or_else(|| book.id.clone()),
            PropName::AddressbookDescription => description = text.unwrap_or_default(),
            other if dead::kept_as_xml(other) => {}
            _ => *status = 403,
        }
    }
    let owner = PropertyOwner::AddressBook(&book.id);
    let dead_changes = dead::changes(dav, &owner, &update.ops, &mut outcome)?;
    settle(&mut outcome);
    if outcome.ok() {
        dav.store
            .set_address_book(dav.user, &book.id, &name, &description)?;
        if !dead_changes.is_empty() {
            dav.store
                .change_dead_properties(dav.user, &owner, &dead_changes)?;
        }
    }
    let mut ms = Multistatus::default();
    outcome.render(&mut ms, &node.path(dav.user));
    Ok(Response::multistatus(ms.finish(None)))
}

/// All or nothing (RFC 4918 section 9.2): once one property fails, the ones that
/// would have succeeded answer 424.
pub fn settle(outcome: &mut PatchOutcome) {
    if outcome.statuses.iter().any(|(_, s)| *s != 200 && *s != 424) {
        for (_, s) in &mut outcome.statuses {
            if *s == 200 {
                *s = 424;
            }
        }
    }
}
