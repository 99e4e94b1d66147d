//! Building the iTIP messages the user sends: REPLY as attendee, REQUEST and CANCEL as
//! organizer. The caller passes `now` (unix seconds), the DTSTAMP of the message made.

use crate::instance::instance;
use crate::model::{self, Comp};
use crate::object::{Object, ensure_header};
use crate::{ItipError, Limits, PartStat, address, sanitize, values};
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendarComponentType, ICalendarEntry, ICalendarMethod, ICalendarParameterName,
    ICalendarParameterValue, ICalendarProperty, ICalendarStatus, ICalendarValue,
};

/// Properties whose change makes attendees' answers stale (RFC 5546 section 2.1.4: a
/// change of time, recurrence, place or status); SEQUENCE is bumped only for these.
const SIGNIFICANT: [ICalendarProperty; 10] = [
    ICalendarProperty::Dtstart,
    ICalendarProperty::Dtend,
    ICalendarProperty::Duration,
    ICalendarProperty::Due,
    ICalendarProperty::Rrule,
    ICalendarProperty::Rdate,
    ICalendarProperty::Exdate,
    ICalendarProperty::Exrule,
    ICalendarProperty::Location,
    ICalendarProperty::Status,
];

/// What the user sends back as attendee: METHOD:REPLY with exactly one ATTENDEE (them).
pub fn build_reply(
    stored: &str,
    attendee: &str,
    partstat: PartStat,
    recurrence_id: Option<&str>,
    comment: Option<&str>,
    limits: &Limits,
    now: i64,
) -> Result<String, ItipError> {
    let object = Object::parse(stored, limits)?;
    let me = address::normalize(attendee);
    let comp = instance(&object, recurrence_id, limits.max_instances)?;
    let organizer = comp
        .property(&ICalendarProperty::Organizer)
        .or_else(|| {
            object
                .master()
                .and_then(|m| m.property(&ICalendarProperty::Organizer))
        })
        .cloned()
        .ok_or_else(|| ItipError::NoOrganizer {
            uid: object.uid.clone(),
        })?;
    let mut me_entry = values::attendee_index(&comp, &me)
        .and_then(|at| comp.entries.get(at))
        .cloned()
        .ok_or_else(|| ItipError::NotAttendee {
            address: me.clone(),
            uid: object.uid.clone(),
        })?;
    me_entry.params.retain(|p| {
        !matches!(
            p.name,
            ICalendarParameterName::Rsvp | ICalendarParameterName::ScheduleStatus
        ) && !is_own_param(&p.name)
    });
    values::set_param(
        &mut me_entry,
        ICalendarParameterName::Partstat,
        vec![ICalendarParameterValue::Partstat(partstat.to_calcard())],
    );
    let mut reply = Comp::new(comp.kind.clone());
    for name in [
        ICalendarProperty::Uid,
        ICalendarProperty::RecurrenceId,
        ICalendarProperty::Sequence,
        ICalendarProperty::Dtstart,
        ICalendarProperty::Dtend,
        ICalendarProperty::Duration,
        ICalendarProperty::Due,
        ICalendarProperty::Summary,
    ] {
        reply.entries.extend(comp.properties(&name).cloned());
    }
    if reply.property(&ICalendarProperty::Sequence).is_none() {
        reply.entries.push(integer(ICalendarProperty::Sequence, 0));
    }
    reply.entries.push(dtstamp(stamp_at(now)));
    reply.entries.push(organizer);
    reply.entries.push(me_entry);
    if let Some(comment) = comment.map(str::trim).filter(|c| !c.is_empty()) {
        reply
            .entries
            .push(values::text_entry(ICalendarProperty::Comment, comment));
    }
    Ok(message(&object, ICalendarMethod::Reply, vec![reply]))
}

/// The organizer's invitation or update, with SEQUENCE bumped when the change since
/// `previous` (the version attendees last received) is significant.
pub fn build_request(
    stored: &str,
    previous: Option<&str>,
    limits: &Limits,
    now: i64,
) -> Result<String, ItipError> {
    let object = scheduled(stored, limits)?;
    let previous = previous.map(|p| Object::parse(p, limits)).transpose()?;
    Ok(request_of(&object, previous.as_ref(), stamp_at(now)))
}

/// The REQUEST for one instance alone, its override as stored (RFC 5546 section 3.2.2:
/// an organizer who adds or changes one instance of a series sends just that one).
pub fn build_instance_request(
    stored: &str,
    recurrence_id: &str,
    limits: &Limits,
    now: i64,
) -> Result<String, ItipError> {
    let object = scheduled(stored, limits)?;
    let key = crate::instance::instance_key(&object, recurrence_id);
    let comp = object
        .by_rid(Some(&key))
        .ok_or_else(|| ItipError::NoSuchInstance {
            uid: object.uid.clone(),
            recurrence_id: recurrence_id.to_string(),
        })?;
    let mut out = outgoing(comp);
    out.set(dtstamp(stamp_at(now)));
    Ok(message(&object, ICalendarMethod::Request, vec![out]))
}

/// `stored` parsed, when it is a scheduling object (it has an ORGANIZER).
fn scheduled(stored: &str, limits: &Limits) -> Result<Object, ItipError> {
    let object = Object::parse(stored, limits)?;
    if object.organizer().is_none() {
        return Err(ItipError::NoOrganizer { uid: object.uid });
    }
    Ok(object)
}

/// The REQUEST for `object`, stamped `stamp`.
pub(crate) fn request_of(
    object: &Object,
    previous: Option<&Object>,
    stamp: PartialDateTime,
) -> String {
    let comps = object
        .comps
        .iter()
        .map(|comp| {
            let mut out = outgoing(comp);
            out.set(integer(
                ICalendarProperty::Sequence,
                announced_sequence(comp, previous),
            ));
            out.set(dtstamp(stamp.clone()));
            out
        })
        .collect();
    message(object, ICalendarMethod::Request, comps)
}

/// The SEQUENCE attendees get for `comp`: one up from what `previous` announced when the
/// change is significant, never below what the component already says.
pub(crate) fn announced_sequence(comp: &Comp, previous: Option<&Object>) -> i64 {
    let stored = values::sequence(comp);
    let rid = values::recurrence_id(comp);
    match previous.and_then(|p| p.counterpart(rid.as_deref())) {
        Some(old) => {
            let bump = i64::from(significant_change(old, comp));
            stored.max(values::sequence(old).saturating_add(bump))
        }
        None => stored,
    }
}

/// The organizer calls off the event, or the instance `recurrence_id`.
pub fn build_cancel(
    stored: &str,
    recurrence_id: Option<&str>,
    limits: &Limits,
    now: i64,
) -> Result<String, ItipError> {
    let object = scheduled(stored, limits)?;
    let sources: Vec<Comp> = match recurrence_id {
        Some(_) => vec![instance(&object, recurrence_id, limits.max_instances)?],
        None => object.master().into_iter().cloned().collect(),
    };
    let sources = if sources.is_empty() {
        object.comps.clone()
    } else {
        sources
    };
    let comps = sources
        .iter()
        .map(|comp| {
            let mut out = Comp::new(comp.kind.clone());
            for name in [
                ICalendarProperty::Uid,
                ICalendarProperty::RecurrenceId,
                ICalendarProperty::Dtstart,
                ICalendarProperty::Summary,
                ICalendarProperty::Organizer,
                ICalendarProperty::Attendee,
            ] {
                out.entries.extend(comp.properties(&name).cloned());
            }
            for entry in out.entries.iter_mut() {
                entry.params.retain(|p| !is_own_param(&p.name));
            }
            out.entries.push(integer(
                ICalendarProperty::Sequence,
                values::sequence(comp).saturating_add(1),
            ));
            out.entries.push(dtstamp(stamp_at(now)));
            out.entries.push(ICalendarEntry {
                name: ICalendarProperty::Status,
                params: Vec::new(),
                values: vec![ICalendarValue::Status(ICalendarStatus::Cancelled)],
            });
            out
        })
        .collect();
    Ok(message(&object, ICalendarMethod::Cancel, comps))
}

fn significant_change(old: &Comp, new: &Comp) -> bool {
    SIGNIFICANT.iter().any(|name| {
        let a: Vec<String> = old.properties(name).map(values::value_string).collect();
        let b: Vec<String> = new.properties(name).map(values::value_string).collect();
        a != b
    })
}

/// A copy fit for attendees: no alarms, no bookkeeping.
fn outgoing(comp: &Comp) -> Comp {
    let mut out = comp.clone();
    out.children
        .retain(|c| c.kind != ICalendarComponentType::VAlarm);
    out.entries.retain(|e| !sanitize::is_own(e));
    for entry in out.entries.iter_mut() {
        entry.params.retain(|p| !is_own_param(&p.name));
    }
    out
}

/// Our bookkeeping, and what RFC 6638 section 7 keeps between a client and its server
/// (SCHEDULE-AGENT, SCHEDULE-STATUS, SCHEDULE-FORCE-SEND): never in an iTIP message.
fn is_own_param(name: &ICalendarParameterName) -> bool {
    match name {
        ICalendarParameterName::ScheduleAgent
        | ICalendarParameterName::ScheduleStatus
        | ICalendarParameterName::ScheduleForceSend => true,
        ICalendarParameterName::Other(n) => n
            .get(..sanitize::OWN_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(sanitize::OWN_PREFIX)),
        _ => false,
    }
}

fn message(object: &Object, method: ICalendarMethod, comps: Vec<Comp>) -> String {
    let mut root = Comp::new(ICalendarComponentType::VCalendar);
    root.entries.extend(
        object
            .root
            .entries
            .iter()
            .filter(|e| matches!(e.name, ICalendarProperty::Calscale))
            .cloned(),
    );
    ensure_header(&mut root);
    root.entries.push(ICalendarEntry {
        name: ICalendarProperty::Method,
        params: Vec::new(),
        values: vec![ICalendarValue::Method(method)],
    });
    root.children.extend(object.timezones().cloned());
    root.children.extend(comps);
    model::serialize(&root)
}

pub(crate) fn integer(name: ICalendarProperty, value: i64) -> ICalendarEntry {
    ICalendarEntry {
        name,
        params: Vec::new(),
        values: vec![ICalendarValue::Integer(value)],
    }
}

/// `now` (unix seconds) as a DTSTAMP value, clamped to years 1970..=9999, the range
/// DTSTAMP can express.
pub(crate) fn stamp_at(now: i64) -> PartialDateTime {
    PartialDateTime::from_utc_timestamp(now.clamp(0, 253_402_300_799))
}

fn dtstamp(stamp: PartialDateTime) -> ICalendarEntry {
    ICalendarEntry {
        name: ICalendarProperty::Dtstamp,
        params: Vec::new(),
        values: vec![ICalendarValue::PartialDateTime(Box::new(stamp))],
    }
}
