//! The organizer's copy component by component, so that a change to one instance can be
//! told as that instance alone (RFC 5546 sections 3.2.2 and 3.2.5): what the organizer
//! decides of each component, its EXDATEs and whether it is called off.

use crate::model::{self, Comp};
use crate::object::Object;
use crate::schedule::organizers_part;
use crate::{ItipError, Limits, address, values};
use calcard::icalendar::{ICalendarProperty, ICalendarStatus, ICalendarValue};
use sha2::{Digest, Sha256};

/// One component (the master, or the override of one instance) as the organizer decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentTag {
    /// The instance it overrides, as a key comparable across versions; `None`: the master.
    pub recurrence_id: Option<String>,
    /// A digest of what the organizer decides of it, EXDATEs aside.
    pub tag: String,
    /// The instances it excludes (a master's EXDATEs), as keys.
    pub exdates: Vec<String>,
    /// STATUS:CANCELLED.
    pub cancelled: bool,
    /// Its ATTENDEEs' addresses, normalized.
    pub attendees: Vec<String>,
}

pub fn component_tags(ics: &str, limits: &Limits) -> Result<Vec<ComponentTag>, ItipError> {
    let object = Object::parse(ics, limits)?;
    Ok(object.comps.iter().map(tag_of).collect())
}

fn tag_of(comp: &Comp) -> ComponentTag {
    let mut part = organizers_part(comp);
    part.entries.retain(|e| {
        !matches!(
            e.name,
            ICalendarProperty::Exdate | ICalendarProperty::Sequence
        )
    });
    let digest = Sha256::digest(model::serialize(&part).as_bytes());
    ComponentTag {
        recurrence_id: values::recurrence_id(comp),
        tag: digest[..12].iter().map(|b| format!("{b:02x}")).collect(),
        exdates: comp
            .properties(&ICalendarProperty::Exdate)
            .flat_map(|e| e.values.iter().filter_map(|v| values::date_value_key(e, v)))
            .collect(),
        cancelled: comp.properties(&ICalendarProperty::Status).any(|s| {
            s.values
                .iter()
                .any(|v| matches!(v, ICalendarValue::Status(ICalendarStatus::Cancelled)))
        }),
        attendees: values::attendees(comp)
            .filter_map(values::address_of)
            .map(|a| address::normalize(&a))
            .collect(),
    }
}
