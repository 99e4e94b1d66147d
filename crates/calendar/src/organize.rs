//! The organizer's side: saving a change to an event the user organizes, or calling it off,
//! gives both the copy to store and the iTIP message for the attendees. The stored copy
//! carries the SEQUENCE the message announces, so a later change compares against what
//! attendees really have.

use crate::build::{announced_sequence, build_cancel, integer, request_of, stamp_at};
use crate::instance::{instance, instance_key};
use crate::object::Object;
use crate::{ItipError, Limits, address, values};
use calcard::icalendar::{
    ICalendarEntry, ICalendarParameterName, ICalendarParameterValue, ICalendarProperty,
    ICalendarScheduleAgentValue, ICalendarStatus, ICalendarValue,
};

/// What an organizer's action commits and sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizerChange {
    pub uid: String,
    /// The calendar object to store (no METHOD).
    pub stored: String,
    /// The iTIP message (REQUEST or CANCEL) for the attendees.
    pub message: String,
    /// Who gets the message: every ATTENDEE but the organizer, once each.
    pub attendees: Vec<String>,
    pub organizer: String,
}

/// The organizer saves `new` over `previous` (the version attendees last received):
/// SEQUENCE goes up where the change is significant (RFC 5546 section 2.1.4).
pub fn organizer_update(
    previous: Option<&str>,
    new: &str,
    own_addresses: &[String],
    limits: &Limits,
    now: i64,
) -> Result<OrganizerChange, ItipError> {
    let mut object = Object::parse(new, limits)?;
    let organizer = own_organizer(&object, own_addresses)?;
    let previous = previous.map(|p| Object::parse(p, limits)).transpose()?;
    // The stored copy takes the SEQUENCE attendees are sent; the REQUEST is then built
    // from it as it stands.
    for comp in object.comps.iter_mut() {
        let sequence = announced_sequence(comp, previous.as_ref());
        comp.set(integer(ICalendarProperty::Sequence, sequence));
        // A one-time request to the server (RFC 6638 section 7.2), not part of the event.
        for entry in comp.entries.iter_mut() {
            values::remove_param(entry, &ICalendarParameterName::ScheduleForceSend);
        }
    }
    let message = request_of(&object, None, stamp_at(now));
    change(&object, message, organizer, limits)
}

/// The organizer calls off the event, or one instance of it: the stored copy is marked
/// CANCELLED with the new SEQUENCE, and the CANCEL goes to the attendees.
pub fn organizer_cancel(
    stored: &str,
    recurrence_id: Option<&str>,
    own_addresses: &[String],
    limits: &Limits,
    now: i64,
) -> Result<OrganizerChange, ItipError> {
    let mut object = Object::parse(stored, limits)?;
    let organizer = own_organizer(&object, own_addresses)?;
    let message = build_cancel(stored, recurrence_id, limits, now)?;
    let cancelled = |comp: &mut crate::model::Comp| {
        let next = values::sequence(comp).saturating_add(1);
        comp.set(integer(ICalendarProperty::Sequence, next));
        comp.set(ICalendarEntry {
            name: ICalendarProperty::Status,
            params: Vec::new(),
            values: vec![ICalendarValue::Status(ICalendarStatus::Cancelled)],
        });
    };
    match recurrence_id {
        None => object.comps.iter_mut().for_each(cancelled),
        Some(rid) => {
            let key = instance_key(&object, rid);
            let at = object
                .comps
                .iter()
                .position(|c| values::recurrence_id(c).as_deref() == Some(key.as_str()));
            match at {
                Some(at) => cancelled(&mut object.comps[at]),
                None => {
                    let mut one = instance(&object, Some(rid), limits.max_instances)?;
                    cancelled(&mut one);
                    object.comps.push(one);
                }
            }
        }
    }
    change(&object, message, organizer, limits)
}

fn change(
    object: &Object,
    message: String,
    organizer: String,
    limits: &Limits,
) -> Result<OrganizerChange, ItipError> {
    Ok(OrganizerChange {
        uid: object.uid.clone(),
        stored: object.to_stored_text(limits)?,
        attendees: attendees_of(object, &organizer),
        message,
        organizer,
    })
}

/// The ORGANIZER, when it is one of the user's addresses.
fn own_organizer(object: &Object, own_addresses: &[String]) -> Result<String, ItipError> {
    let organizer = object.organizer().ok_or_else(|| ItipError::NoOrganizer {
        uid: object.uid.clone(),
    })?;
    let normal = address::normalize_untagged(&organizer);
    if own_addresses
        .iter()
        .any(|own| address::normalize_untagged(own) == normal)
    {
        Ok(address::normalize(&organizer))
    } else {
        Err(ItipError::NotOrganizer {
            address: organizer,
            uid: object.uid.clone(),
        })
    }
}

/// Whether the server sends this ATTENDEE's (or the ORGANIZER's) messages: not when
/// SCHEDULE-AGENT (RFC 6638 section 7.1) says the client or no one does.
fn server_schedules(entry: &ICalendarEntry) -> bool {
    !matches!(
        values::param(entry, &ICalendarParameterName::ScheduleAgent),
        Some(ICalendarParameterValue::ScheduleAgent(
            ICalendarScheduleAgentValue::Client | ICalendarScheduleAgentValue::None
        ))
    )
}

fn attendees_of(object: &Object, organizer: &str) -> Vec<String> {
    let organizer = address::normalize_untagged(organizer);
    let mut all: Vec<String> = Vec::new();
    for comp in &object.comps {
        if comp
            .property(&ICalendarProperty::Organizer)
            .is_some_and(|o| !server_schedules(o))
        {
            continue;
        }
        for entry in values::attendees(comp).filter(|e| server_schedules(e)) {
            let Some(a) = values::address_of(entry) else {
                continue;
            };
            let a = address::normalize(&a);
            if address::normalize_untagged(&a) != organizer && !all.contains(&a) {
                all.push(a);
            }
        }
    }
    all
}
