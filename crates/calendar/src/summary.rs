//! A flat, display-ready view of the events in a calendar object.

use crate::model::Comp;
use crate::object::Object;
use crate::{ItipError, Limits, values};
use calcard::icalendar::{ICalendarParameterName, ICalendarProperty};

/// One VEVENT or VTODO (a master or one override), as shown in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    pub uid: String,
    pub recurrence_id: Option<String>,
    /// DTSTART (DUE for a task without one) as written: `20260101T100000Z`, `20260101`.
    pub start: String,
    pub summary: String,
    /// STATUS, empty when absent.
    pub status: String,
    /// (address, PARTSTAT); addresses without `mailto:`, PARTSTAT defaulting to NEEDS-ACTION.
    pub attendees: Vec<(String, String)>,
    pub organizer: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    /// The zone DTSTART is written in (its TZID), when it names one.
    pub start_zone: Option<String>,
}

pub fn summarize(ics: &str, limits: &Limits) -> Result<Vec<EventSummary>, ItipError> {
    let object = Object::parse(ics, limits)?;
    Ok(object
        .comps
        .iter()
        .map(|c| summarize_one(&object.uid, c))
        .collect())
}

fn summarize_one(uid: &str, comp: &Comp) -> EventSummary {
    let start = comp
        .property(&ICalendarProperty::Dtstart)
        .or_else(|| comp.property(&ICalendarProperty::Due))
        .map(values::value_string)
        .unwrap_or_default();
    EventSummary {
        uid: uid.to_string(),
        recurrence_id: comp
            .property(&ICalendarProperty::RecurrenceId)
            .map(values::value_string),
        start,
        summary: values::text(comp, &ICalendarProperty::Summary).unwrap_or_default(),
        status: values::text(comp, &ICalendarProperty::Status).unwrap_or_default(),
        attendees: values::attendees(comp)
            .filter_map(|e| {
                let address = values::address_of(e)?;
                let partstat = values::param_text(e, &ICalendarParameterName::Partstat)
                    .unwrap_or_else(|| "NEEDS-ACTION".to_string());
                Some((address, partstat))
            })
            .collect(),
        organizer: values::organizer(comp),
        location: values::text(comp, &ICalendarProperty::Location),
        description: values::text(comp, &ICalendarProperty::Description),
        start_zone: comp
            .property(&ICalendarProperty::Dtstart)
            .and_then(|e| values::param_text(e, &ICalendarParameterName::Tzid)),
    }
}
