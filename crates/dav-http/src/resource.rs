//! What a path names for the signed-in user. Another user's paths name nothing (404):
//! a user sees only their own collections, and cannot tell which others exist.

use crate::Dav;
use imipd_dav::DavPath;
use imipd_dav::propfind::ResourceKind;
use imipd_store::{
    AddressBook, Calendar, CalendarObject, ObjectVersion, StoredCard, normalize_address,
};

pub const PRINCIPALS: &str = "principals";
pub const CALENDARS: &str = "calendars";
pub const ADDRESSBOOKS: &str = "addressbooks";

/// A resource that exists.
#[derive(Debug, Clone)]
pub enum Node {
    Root,
    /// `/principals/`, `/calendars/`, `/addressbooks/`.
    Top(&'static str),
    Principal,
    CalendarHome,
    AddressbookHome,
    Calendar(Calendar),
    Object(Calendar, CalendarObject),
    /// A calendar object listed without its data, for a PROPFIND that asks nothing of it.
    Version(Calendar, ObjectVersion),
    Addressbook(AddressBook),
    Card(AddressBook, StoredCard),
    /// RFC 6638 section 2.2: the iTIP messages applied for the user.
    ScheduleInbox,
    /// One of them: the calendar part of an applied job, named by the job's id.
    InboxItem(CalendarObject),
    /// RFC 6638 section 2.1: where free-busy questions are POSTed.
    ScheduleOutbox,
}

/// What a path names.
#[derive(Debug, Clone)]
pub enum Resolved {
    Found(Node),
    /// Free for a new calendar in the calendar home.
    NewCalendar(String),
    /// Free for a new object in an existing calendar.
    NewObject(Calendar, String),
    /// Free for a new address book in the address book home.
    NewAddressbook(String),
    /// Free for a new card in an existing address book.
    NewCard(AddressBook, String),
    /// Nothing, and nothing can be made there.
    Nowhere,
}

impl Node {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Node::Root | Node::Top(_) => ResourceKind::Collection,
            Node::Principal => ResourceKind::Principal,
            Node::CalendarHome => ResourceKind::CalendarHome,
            Node::AddressbookHome => ResourceKind::AddressbookHome,
            Node::Calendar(_) => ResourceKind::Calendar,
            Node::Object(..) | Node::Version(..) => ResourceKind::CalendarObject,
            Node::Addressbook(_) => ResourceKind::Addressbook,
            Node::Card(..) => ResourceKind::AddressObject,
            Node::ScheduleInbox => ResourceKind::ScheduleInbox,
            Node::InboxItem(_) => ResourceKind::CalendarObject,
            Node::ScheduleOutbox => ResourceKind::ScheduleOutbox,
        }
    }

    /// The decoded path the server names it by.
    pub fn path(&self, user: &str) -> String {
        match self {
            Node::Root => "/".into(),
            Node::Top(top) => format!("/{top}/"),
            Node::Principal => principal(user),
            Node::CalendarHome => calendar_home(user),
            Node::AddressbookHome => addressbook_home(user),
            Node::Calendar(c) => calendar(user, &c.id),
            Node::Object(c, o) => object(user, &c.id, &o.href),
            Node::Version(c, v) => object(user, &c.id, &v.href),
            Node::Addressbook(b) => addressbook(user, &b.id),
            Node::Card(b, c) => card(user, &b.id, &c.href),
            Node::ScheduleInbox => schedule_inbox(user),
            Node::InboxItem(o) => format!("{}{}", schedule_inbox(user), o.href),
            Node::ScheduleOutbox => schedule_outbox(user),
        }
    }
}

pub fn principal(user: &str) -> String {
    format!("/{PRINCIPALS}/{user}/")
}

pub fn calendar_home(user: &str) -> String {
    format!("/{CALENDARS}/{user}/")
}

pub fn addressbook_home(user: &str) -> String {
    format!("/{ADDRESSBOOKS}/{user}/")
}

pub fn calendar(user: &str, id: &str) -> String {
    format!("/{CALENDARS}/{user}/{id}/")
}

pub fn object(user: &str, calendar_id: &str, href: &str) -> String {
    format!("/{CALENDARS}/{user}/{calendar_id}/{href}")
}

/// Names no calendar can take: calendar ids made here never start with a dot.
pub const INBOX: &str = ".schedule-inbox";
pub const OUTBOX: &str = ".schedule-outbox";

pub fn schedule_inbox(user: &str) -> String {
    format!("/{CALENDARS}/{user}/{INBOX}/")
}

pub fn schedule_outbox(user: &str) -> String {
    format!("/{CALENDARS}/{user}/{OUTBOX}/")
}

/// The applied iTIP messages of the user, newest first, as inbox items.
pub fn inbox_items(dav: &Dav<'_>) -> imipd_store::Result<Vec<CalendarObject>> {
    Ok(dav
        .store
        .inbox_jobs(dav.user, INBOX_ITEMS)?
        .into_iter()
        .filter_map(|job| {
            let message = dav.store.job(job.id).ok().flatten()?.message;
            Some(CalendarObject {
                calendar_id: INBOX.to_string(),
                href: format!("{}.ics", job.id),
                uid: job.uid,
                ics: String::from_utf8(message).ok()?,
                modseq: job.id,
            })
        })
        .collect())
}

/// The inbox shows this many of the latest messages; older ones are in `imipd jobs list`.
const INBOX_ITEMS: usize = 200;

pub fn addressbook(user: &str, id: &str) -> String {
    format!("/{ADDRESSBOOKS}/{user}/{id}/")
}

pub fn card(user: &str, book_id: &str, href: &str) -> String {
    format!("/{ADDRESSBOOKS}/{user}/{book_id}/{href}")
}

pub fn resolve(dav: &Dav<'_>, path: &DavPath) -> imipd_store::Result<Resolved> {
    let segments: Vec<&str> = path.segments().collect();
    let own = |name: &str| normalize_address(name) == dav.user;
    Ok(match segments.as_slice() {
        [] => Resolved::Found(Node::Root),
        [top] => match *top {
            PRINCIPALS => Resolved::Found(Node::Top(PRINCIPALS)),
            CALENDARS => Resolved::Found(Node::Top(CALENDARS)),
            ADDRESSBOOKS => Resolved::Found(Node::Top(ADDRESSBOOKS)),
            _ => Resolved::Nowhere,
        },
        [PRINCIPALS, u] if own(u) => Resolved::Found(Node::Principal),
        [ADDRESSBOOKS, u] if own(u) => Resolved::Found(Node::AddressbookHome),
        [CALENDARS, u] if own(u) => Resolved::Found(Node::CalendarHome),
        [ADDRESSBOOKS, u, id] if own(u) => match find_addressbook(dav, id)? {
            Some(b) => Resolved::Found(Node::Addressbook(b)),
            None => Resolved::NewAddressbook(id.to_string()),
        },
        [ADDRESSBOOKS, u, id, name] if own(u) => match find_addressbook(dav, id)? {
            Some(b) => match dav.store.card(dav.user, &b.id, name)? {
                Some(c) => Resolved::Found(Node::Card(b, c)),
                None => Resolved::NewCard(b, name.to_string()),
            },
            None => Resolved::Nowhere,
        },
        [CALENDARS, u, INBOX] if own(u) => Resolved::Found(Node::ScheduleInbox),
        [CALENDARS, u, OUTBOX] if own(u) => Resolved::Found(Node::ScheduleOutbox),
        [CALENDARS, u, INBOX, name] if own(u) => inbox_items(dav)?
            .into_iter()
            .find(|o| o.href == *name)
            .map_or(Resolved::Nowhere, |o| Resolved::Found(Node::InboxItem(o))),
        [CALENDARS, u, id] if own(u) => match find_calendar(dav, id)? {
            Some(c) => Resolved::Found(Node::Calendar(c)),
            None => Resolved::NewCalendar(id.to_string()),
        },
        [CALENDARS, u, id, name] if own(u) => match find_calendar(dav, id)? {
            Some(c) => match dav.store.object_at(dav.user, &c.id, name)? {
                Some(o) => Resolved::Found(Node::Object(c, o)),
                None => Resolved::NewObject(c, name.to_string()),
            },
            None => Resolved::Nowhere,
        },
        _ => Resolved::Nowhere,
    })
}

/// The calendar id and resource name of a path to one of the user's calendar objects
/// (not an item of the schedule inbox), whether or not it exists.
pub fn object_name<'p>(dav: &Dav<'_>, path: &'p DavPath) -> Option<(&'p str, &'p str)> {
    let mut segments = path.segments();
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(CALENDARS), Some(u), Some(id), Some(name), None)
            if id != INBOX && id != OUTBOX && normalize_address(u) == dav.user =>
        {
            Some((id, name))
        }
        _ => None,
    }
}

pub fn find_calendar(dav: &Dav<'_>, id: &str) -> imipd_store::Result<Option<Calendar>> {
    Ok(dav
        .store
        .calendars(dav.user)?
        .into_iter()
        .find(|c| c.id == id))
}

/// The user's address book `id`; the default one is made on first use, so a new user
/// has a book to fill.
pub fn find_addressbook(dav: &Dav<'_>, id: &str) -> imipd_store::Result<Option<AddressBook>> {
    Ok(dav
        .store
        .address_books(dav.user)?
        .into_iter()
        .find(|b| b.id == id))
}

/// The objects of one calendar; with `during`, only the time-range index's candidates
/// (see [`imipd_store::Store::objects_in`]).
pub fn objects_of(
    dav: &Dav<'_>,
    calendar_id: &str,
    during: Option<(i64, i64)>,
) -> imipd_store::Result<Vec<CalendarObject>> {
    dav.store.objects_in(dav.user, calendar_id, during)
}
