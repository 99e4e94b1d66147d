//! Making an override for one instance of a recurring event, when an answer concerns an
//! instance the organizer never overrode.

use crate::datetime;
use crate::expand::{Expansion, Presence};
use crate::model::Comp;
use crate::object::Object;
use crate::{ItipError, values};
use calcard::icalendar::{
    ICalendarEntry, ICalendarParameterName, ICalendarProperty, ICalendarValue,
};

/// A copy of `master` standing for the instance `rid`: no recurrence of its own, starting at
/// the RECURRENCE-ID, lasting as long as the master.
pub(crate) fn override_of(master: &Comp, rid: &ICalendarEntry) -> Comp {
    let mut instance = master.clone();
    instance.entries.retain(|e| {
        !matches!(
            e.name,
            ICalendarProperty::Rrule
                | ICalendarProperty::Rdate
                | ICalendarProperty::Exdate
                | ICalendarProperty::Exrule
                | ICalendarProperty::RecurrenceId
        )
    });
    let rid = ICalendarEntry {
        name: ICalendarProperty::RecurrenceId,
        params: rid
            .params
            .iter()
            .filter(|p| p.name != ICalendarParameterName::Range)
            .cloned()
            .collect(),
        values: rid.values.clone(),
    };
    let old_start = master.property(&ICalendarProperty::Dtstart).cloned();
    let new_start = ICalendarEntry {
        name: ICalendarProperty::Dtstart,
        ..rid.clone()
    };
    for end_name in [ICalendarProperty::Dtend, ICalendarProperty::Due] {
        let Some(end) = instance.property(&end_name).cloned() else {
            continue;
        };
        match shifted(&end, old_start.as_ref(), &new_start) {
            Some(end) => instance.set(end),
            None => instance.remove(&end_name),
        }
    }
    if old_start.is_some() {
        instance.set(new_start);
    }
    instance.entries.insert(0, rid);
    instance
}

/// The end of an instance starting at `new_start`, as long as the master lasts, written in
/// the instance's zone (the RECURRENCE-ID may be UTC while the master is local).
fn shifted(
    end: &ICalendarEntry,
    old_start: Option<&ICalendarEntry>,
    new_start: &ICalendarEntry,
) -> Option<ICalendarEntry> {
    let value = |e: &ICalendarEntry| {
        e.values
            .first()
            .and_then(ICalendarValue::as_partial_date_time)
            .cloned()
    };
    let start_value = value(new_start)?;
    let length = datetime::to_seconds(&value(end)?)? - datetime::to_seconds(&value(old_start?)?)?;
    let moved = datetime::from_seconds(datetime::to_seconds(&start_value)? + length, &start_value)?;
    Some(ICalendarEntry {
        name: end.name.clone(),
        params: new_start.params.clone(),
        values: vec![ICalendarValue::PartialDateTime(Box::new(moved))],
    })
}

/// The component for `recurrence_id`: its override, or one derived from the master for an
/// instance its recurrence set has (expanded within `budget` instances).
pub(crate) fn instance(
    object: &Object,
    recurrence_id: Option<&str>,
    budget: usize,
) -> Result<Comp, ItipError> {
    let Some(rid_text) = recurrence_id else {
        return object
            .master()
            .or_else(|| object.comps.first())
            .cloned()
            .ok_or(ItipError::NoComponent);
    };
    let key = instance_key(object, rid_text);
    if let Some(comp) = object.by_rid(Some(&key)) {
        return Ok(comp.clone());
    }
    let no_such = || ItipError::NoSuchInstance {
        uid: object.uid.clone(),
        recurrence_id: rid_text.to_string(),
    };
    let master = object.master().ok_or_else(no_such)?;
    let rid_entry = rid_entry(master, rid_text).ok_or_else(no_such)?;
    if Expansion::of(object, budget).presence(object, &rid_entry, true) != Presence::Exists {
        return Err(no_such());
    }
    Ok(override_of(master, &rid_entry))
}

/// The key of the instance a caller names as `text` (`20260317T100000Z`, or local time in
/// the master's zone as [`crate::EventSummary`] shows it).
pub(crate) fn instance_key(object: &Object, text: &str) -> String {
    object
        .master()
        .and_then(|master| rid_entry(master, text))
        .and_then(|entry| {
            let value = entry.values.first()?;
            values::date_value_key(&entry, value)
        })
        .unwrap_or_else(|| values::rid_key(text))
}

/// A RECURRENCE-ID for `text`, in the master's DTSTART zone unless `text` says UTC.
fn rid_entry(master: &Comp, text: &str) -> Option<ICalendarEntry> {
    if text.chars().any(char::is_control) {
        return None;
    }
    let start = master.property(&ICalendarProperty::Dtstart)?;
    let line = format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRECURRENCE-ID:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        text.trim()
    );
    let parsed = calcard::icalendar::ICalendar::parse(line).ok()?;
    let mut entry = parsed
        .components
        .get(1)?
        .property(&ICalendarProperty::RecurrenceId)?
        .clone();
    let value = entry.values.first()?.as_partial_date_time()?;
    if !value.has_zone() {
        entry.params = values::zone_params(&start.params);
    }
    Some(entry)
}
