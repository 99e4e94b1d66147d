//! REPORTs: calendar-multiget, calendar-query, sync-collection, free-busy-query, and
//! the principal reports clients send while setting up (the address book ones are in
//! `card_report`).

use crate::propfind::prefer;
use crate::props::{Source, parse_sync_token, sync_token};
use crate::reply::Response;
use crate::resource::{self, Node, Resolved};
use crate::{Dav, Request};
use calcard::common::timezone::Tz;
use calcard::icalendar::ICalendar;
use imipd_dav::caldata::calendar_data;
use imipd_dav::discovery::principal_search_property_set;
use imipd_dav::filter::{Basic, candidate_range, matches_calendar, query_timezone};
use imipd_dav::freebusy::{Busy, busy_periods, render_vfreebusy};
use imipd_dav::propfind::Answerer;
use imipd_dav::query::TimeRange;
use imipd_dav::request::{
    CalendarQuery, Multiget, PropRequest, SyncCollection, expand_property_selection,
};
use imipd_dav::{
    DavPath, Multistatus, Precondition, PropName, PropSelection, Report, parse_report,
};
use imipd_store::{Calendar, CalendarObject, ChangedObject, Changes, Error, Store};
use std::collections::{BTreeMap, HashMap};

pub fn report(dav: &Dav<'_>, resolved: &Resolved, req: &Request) -> imipd_store::Result<Response> {
    let Resolved::Found(node) = resolved else {
        return Ok(Response::not_found());
    };
    let report = match parse_report(&req.body) {
        Ok(r) => r,
        Err(e) => return Ok(Response::refused(&e)),
    };
    if !node.kind().reports().contains(&report.kind()) {
        return Ok(Response::precondition(
            &Precondition::SupportedReport,
            "this report is not supported on this resource",
        ));
    }
    let mut out = Out {
        dav,
        ms: Multistatus::default(),
        answerer: Answerer::default(),
        prefer: prefer(req),
    };
    match report {
        Report::CalendarMultiget(m) => out.multiget(&m)?,
        Report::CalendarQuery(q) => match node {
            Node::Calendar(c) => out.query(c, &q)?,
            Node::ScheduleInbox => out.inbox_query(&q)?,
            _ => {}
        },
        Report::SyncCollection(s) => match node {
            Node::Calendar(c) => return out.sync(c, &s),
            Node::ScheduleInbox => return out.inbox_sync(&s),
            Node::Addressbook(b) => return out.card_sync(b, &s),
            _ => {}
        },
        Report::FreeBusyQuery(range) => {
            if let Node::Calendar(c) = node {
                return free_busy(dav, c, &range);
            }
        }
        Report::ExpandProperty(items) => {
            let select = expand_property_selection(&items);
            out.answer(node, &select, None);
        }
        Report::PrincipalPropertySearch(search) => {
            let addresses = dav.store.addresses(dav.user)?;
            let matches = search.searches.iter().all(|s| {
                let needle = s.match_text.to_lowercase();
                addresses.iter().any(|a| a.to_lowercase().contains(&needle))
            });
            if matches {
                out.answer(&Node::Principal, &principal_selection(search.select), None);
            }
        }
        Report::CalendarserverPrincipalSearch(search) => {
            let addresses = dav.store.addresses(dav.user)?;
            let matches = search.tokens.iter().all(|t| {
                let needle = t.to_lowercase();
                addresses.iter().any(|a| a.to_lowercase().contains(&needle))
            });
            if matches {
                out.answer(&Node::Principal, &search.select, None);
            }
        }
        Report::PrincipalSearchPropertySet => {
            return Ok(Response::new(200).with_body(
                "application/xml; charset=utf-8",
                principal_search_property_set().into_bytes(),
            ));
        }
        Report::AddressbookMultiget(m) => out.card_multiget(&m)?,
        Report::AddressbookQuery(q) => {
            if let Node::Addressbook(b) = node {
                out.card_query(b, &q)?
            }
        }
    }
    Ok(Response::multistatus(out.ms.finish(None)))
}

/// The properties a principal search returns. A search that names none (python-caldav
/// puts `calendar-home-set` and `displayname` beside an empty `prop`, not in it) gets
/// what a client needs to list principals: their name and calendar home.
fn principal_selection(select: PropSelection) -> PropSelection {
    match &select.props {
        PropRequest::Prop(names) if names.is_empty() => PropSelection::names(vec![
            PropName::DisplayName,
            PropName::CalendarHomeSet,
            PropName::PrincipalUrl,
        ]),
        _ => select,
    }
}

/// Expansion budget per object: an object that exceeds it counts as matching, never
/// dropped.
const BUDGET: usize = 10_000;

fn parse(ics: &str) -> Option<ICalendar> {
    match calcard::Parser::new(ics).entry() {
        calcard::Entry::ICalendar(cal) => Some(cal),
        _ => None,
    }
}

fn calendar_tz(calendar: &Calendar) -> Tz {
    calendar
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(Tz::UTC)
}

pub struct Out<'a> {
    pub dav: &'a Dav<'a>,
    pub ms: Multistatus,
    answerer: Answerer,
    prefer: imipd_dav::headers::Prefer,
}

impl Out<'_> {
    pub fn answer(&mut self, node: &Node, select: &PropSelection, data: Option<String>) {
        let mut src = Source::new(self.dav, node);
        src.data = data;
        self.answerer.answer(
            &mut self.ms,
            &node.path(self.dav.user),
            select,
            &src,
            self.prefer,
        );
    }

    /// One object with the `calendar-data` the selection asks for.
    fn object(
        &mut self,
        calendar: &Calendar,
        object: CalendarObject,
        select: &PropSelection,
        parsed: Option<&ICalendar>,
        floating: Tz,
    ) {
        self.member(
            Node::Object(calendar.clone(), object),
            select,
            parsed,
            floating,
        );
    }

    /// A calendar object or an inbox item with the `calendar-data` the selection asks for.
    fn member(
        &mut self,
        node: Node,
        select: &PropSelection,
        parsed: Option<&ICalendar>,
        floating: Tz,
    ) {
        let (Node::Object(_, object) | Node::InboxItem(object)) = &node else {
            return;
        };
        // The stored text needs no parse: `Source` answers with it when `data` is `None`.
        let data = match &select.calendar_data {
            Some(req) if select.wants(&PropName::CalendarData) && !req.is_plain() => {
                let own;
                let cal = match parsed {
                    Some(c) => Some(c),
                    None => {
                        own = parse(&object.ics);
                        own.as_ref()
                    }
                };
                let instances = Basic {
                    budget: BUDGET,
                    floating,
                };
                cal.and_then(|c| calendar_data(&object.ics, c, req, &instances).ok())
            }
            _ => None,
        };
        self.answer(&node, select, data);
    }

    /// The objects of a calendar are read in one statement per calendar, then answered
    /// in the order the request names them.
    fn multiget(&mut self, m: &Multiget) -> imipd_store::Result<()> {
        let paths: Vec<_> = m.hrefs.iter().map(|h| DavPath::parse_href(h)).collect();
        let names: Vec<_> = paths
            .iter()
            .map(|p| {
                p.as_ref()
                    .ok()
                    .and_then(|p| resource::object_name(self.dav, p))
            })
            .collect();
        let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for &(id, name) in names.iter().flatten() {
            wanted.entry(id).or_default().push(name);
        }
        let calendars = if wanted.is_empty() {
            Vec::new()
        } else {
            self.dav.store.calendars(self.dav.user)?
        };
        let mut found: HashMap<(String, String), (&Calendar, CalendarObject)> = HashMap::new();
        for (id, names) in &wanted {
            let Some(calendar) = calendars.iter().find(|c| c.id == *id) else {
                continue;
            };
            for o in self.dav.store.objects_at(self.dav.user, id, names)? {
                found.insert((o.calendar_id.clone(), o.href.clone()), (calendar, o));
            }
        }
        for ((href, path), named) in m.hrefs.iter().zip(&paths).zip(&names) {
            let Ok(path) = path else {
                self.ms.status_response(href, 400);
                continue;
            };
            if let Some((id, name)) = named {
                // Cloned, not taken: a request may name one href twice.
                match found.get(&(id.to_string(), name.to_string())) {
                    Some((c, o)) => self.object(c, o.clone(), &m.select, None, calendar_tz(c)),
                    None => self.ms.status_response(path.as_str(), 404),
                }
                continue;
            }
            match resource::resolve(self.dav, path)? {
                Resolved::Found(item @ Node::InboxItem(_)) => {
                    self.member(item, &m.select, None, Tz::UTC)
                }
                _ => self.ms.status_response(path.as_str(), 404),
            }
        }
        Ok(())
    }

    fn query(&mut self, calendar: &Calendar, q: &CalendarQuery) -> imipd_store::Result<()> {
        let floating = q
            .timezone
            .as_deref()
            .and_then(query_timezone)
            .unwrap_or_else(|| calendar_tz(calendar));
        let instances = Basic {
            budget: BUDGET,
            floating,
        };
        let during = candidate_range(&q.filter).map(|r| (r.start_or_min(), r.end_or_max()));
        for object in resource::objects_of(self.dav, &calendar.id, during)? {
            let Some(cal) = parse(&object.ics) else {
                continue;
            };
            // Undecidable within the budget: open-ended, so it matches.
            if matches_calendar(&q.filter, &cal, &instances, floating).unwrap_or(true) {
                self.object(calendar, object, &q.select, Some(&cal), floating);
            }
        }
        Ok(())
    }

    /// calendar-query on the schedule inbox: its items, filtered as a calendar's objects.
    fn inbox_query(&mut self, q: &CalendarQuery) -> imipd_store::Result<()> {
        let floating = q
            .timezone
            .as_deref()
            .and_then(query_timezone)
            .unwrap_or(Tz::UTC);
        let instances = Basic {
            budget: BUDGET,
            floating,
        };
        for item in resource::inbox_items(self.dav)? {
            let Some(cal) = parse(&item.ics) else {
                continue;
            };
            if matches_calendar(&q.filter, &cal, &instances, floating).unwrap_or(true) {
                self.member(Node::InboxItem(item), &q.select, Some(&cal), floating);
            }
        }
        Ok(())
    }

    /// sync-collection on the schedule inbox: items are never changed once applied, and a
    /// deletion takes a position among the items' ids, so the token is the newest of
    /// either and a delta is the items after it and the deletions after it (of items the
    /// client could have seen).
    fn inbox_sync(self, s: &SyncCollection) -> imipd_store::Result<Response> {
        let (dav, user) = (self.dav, self.dav.user);
        let mut items = resource::inbox_items(dav)?;
        items.sort_by_key(|o| o.modseq);
        let deletions = dav.store.inbox_deletions(user)?;
        let newest = items
            .last()
            .map(|o| o.modseq)
            .into_iter()
            .chain(deletions.iter().map(|(_, at)| *at))
            .max()
            .unwrap_or(0);
        self.sync_changes(
            s,
            &resource::schedule_inbox(user),
            |token| {
                if token.is_some_and(|t| t > newest) {
                    return Ok(None);
                }
                let since = token.unwrap_or(0);
                Ok(Some(Changes {
                    token: newest,
                    changed: items
                        .iter()
                        .filter(|o| o.modseq > since)
                        .map(|o| ChangedObject {
                            href: o.href.clone(),
                            uid: o.uid.clone(),
                            modseq: o.modseq,
                        })
                        .collect(),
                    deleted: deletions
                        .iter()
                        .filter(|(job, at)| token.is_some() && *at > since && *job <= since)
                        .map(|(job, _)| format!("{job}.ics"))
                        .collect(),
                }))
            },
            |out, href| {
                match items.iter().find(|o| o.href == href) {
                    Some(o) => out.member(Node::InboxItem(o.clone()), &s.select, None, Tz::UTC),
                    None => out
                        .ms
                        .status_response(&format!("{}{href}", resource::schedule_inbox(user)), 404),
                }
                Ok(())
            },
            |href| format!("{}{href}", resource::schedule_inbox(user)),
        )
    }

    fn sync(self, calendar: &Calendar, s: &SyncCollection) -> imipd_store::Result<Response> {
        let (dav, user) = (self.dav, self.dav.user);
        let floating = calendar_tz(calendar);
        self.sync_changes(
            s,
            &resource::calendar(user, &calendar.id),
            |token| match dav.store.changes_since(user, &calendar.id, token) {
                Err(Error::InvalidSyncToken { .. }) => Ok(None),
                r => r.map(Some),
            },
            |out, href| {
                match dav.store.object_at(user, &calendar.id, href)? {
                    Some(o) => out.object(calendar, o, &s.select, None, floating),
                    None => out
                        .ms
                        .status_response(&resource::object(user, &calendar.id, href), 404),
                }
                Ok(())
            },
            |href| resource::object(user, &calendar.id, href),
        )
    }

    /// sync-collection (RFC 6578) over a collection's change feed: `changes` reads it
    /// from a token (`None` when the token is not one of the collection's), `member`
    /// answers one changed member by its href, `path` names a deleted one.
    pub fn sync_changes(
        mut self,
        s: &SyncCollection,
        collection: &str,
        changes: impl FnOnce(Option<i64>) -> imipd_store::Result<Option<Changes>>,
        mut member: impl FnMut(&mut Self, &str) -> imipd_store::Result<()>,
        path: impl Fn(&str) -> String,
    ) -> imipd_store::Result<Response> {
        let invalid = || {
            Response::precondition(
                &Precondition::ValidSyncToken,
                "unknown or expired sync token: sync again with an empty token",
            )
        };
        let token = match s.token.as_deref() {
            None => None,
            Some(t) => match parse_sync_token(t) {
                Some(n) => Some(n),
                None => return Ok(invalid()),
            },
        };
        let Some(mut changes) = changes(token)? else {
            return Ok(invalid());
        };
        let mut token = changes.token;
        // DAV:limit (RFC 6578 section 3.7): the oldest changes, a 507 for the collection
        // and the position of the last one reported as the token to go on from. Deletions
        // carry no position of their own, so a delta with deletions comes whole.
        let limit = s.limit.map_or(usize::MAX, |l| l.max(1) as usize);
        let truncated = changes.deleted.is_empty() && changes.changed.len() > limit;
        if truncated {
            changes.changed.truncate(limit);
            token = changes.changed.last().map_or(token, |c| c.modseq);
        }
        for changed in &changes.changed {
            member(&mut self, &changed.href)?;
        }
        for href in &changes.deleted {
            self.ms.status_response(&path(href), 404);
        }
        if truncated {
            self.ms.truncated(
                collection,
                &format!("only the oldest {limit} changes; sync again from the token given"),
            );
        }
        Ok(Response::multistatus(
            self.ms.finish(Some(&sync_token(token))),
        ))
    }
}

fn free_busy(
    dav: &Dav<'_>,
    calendar: &Calendar,
    range: &TimeRange,
) -> imipd_store::Result<Response> {
    if range.start.is_none() || range.end.is_none() {
        return Ok(Response::text(
            400,
            "free-busy-query needs a time-range with start and end".into(),
        ));
    }
    let mut busy = Vec::new();
    calendar_busy(dav.store, dav.user, calendar, range, &mut busy)?;
    Ok(Response::new(200).with_body(
        "text/calendar; charset=utf-8",
        render_vfreebusy(range, busy, unix_now()).into_bytes(),
    ))
}

/// Appends the busy time of `user`'s `calendar` within `range` (bounded on both sides),
/// read from the time-range index's candidates.
pub fn calendar_busy(
    store: &dyn Store,
    user: &str,
    calendar: &Calendar,
    range: &TimeRange,
    busy: &mut Vec<Busy>,
) -> imipd_store::Result<()> {
    let instances = Basic {
        budget: BUDGET,
        floating: calendar_tz(calendar),
    };
    let during = Some((range.start_or_min(), range.end_or_max()));
    for object in store.objects_in(user, &calendar.id, during)? {
        if let Some(cal) = parse(&object.ics) {
            // Past the budget the rest of a series is not counted; the answer is a hint.
            let _ = busy_periods(&cal, range, &instances, busy);
        }
    }
    Ok(())
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
