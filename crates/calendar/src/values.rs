//! Reading and writing the property values and parameters iTIP decisions depend on.

use crate::address;
use crate::model::Comp;
use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendarEntry, ICalendarParameter, ICalendarParameterName, ICalendarParameterValue,
    ICalendarProperty, ICalendarValue, Uri,
};
use std::str::FromStr;

/// The value of `entry` as written in iCalendar (`20260101T100000Z`, `20260101`, `2`),
/// without parameters other than VALUE, which decides how dates are written.
pub(crate) fn value_string(entry: &ICalendarEntry) -> String {
    let bare = ICalendarEntry {
        name: entry.name.clone(),
        params: entry
            .params
            .iter()
            .filter(|p| p.name == ICalendarParameterName::Value)
            .cloned()
            .collect(),
        values: entry.values.clone(),
    };
    let mut out = String::new();
    if bare.write_to(&mut out).is_err() {
        return String::new();
    }
    let unfolded = out.replace("\r\n ", "");
    let line = unfolded.trim_end_matches(['\r', '\n']);
    line.split_once(':')
        .map(|(_, value)| value.to_string())
        .unwrap_or_default()
}

/// The first value of `name` as text, unescaped.
pub(crate) fn text(comp: &Comp, name: &ICalendarProperty) -> Option<String> {
    comp.property(name)
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_text)
        .map(str::to_string)
}

pub(crate) fn uid(comp: &Comp) -> Option<String> {
    text(comp, &ICalendarProperty::Uid).filter(|u| !u.trim().is_empty())
}

/// SEQUENCE, 0 when absent (RFC 5545 section 3.8.7.4).
pub(crate) fn sequence(comp: &Comp) -> i64 {
    comp.property(&ICalendarProperty::Sequence)
        .and_then(|e| e.values.first())
        .and_then(|v| match v {
            ICalendarValue::Integer(i) => Some(*i),
            ICalendarValue::Text(t) => t.trim().parse().ok(),
            _ => None,
        })
        .unwrap_or(0)
}

/// DTSTAMP as UTC text, comparable as a string (`YYYYMMDDTHHMMSSZ`).
pub(crate) fn dtstamp(comp: &Comp) -> Option<String> {
    comp.property(&ICalendarProperty::Dtstamp)
        .map(value_string)
        .filter(|s| !s.is_empty())
}

/// RECURRENCE-ID as the key that identifies one instance: the date-time digits, so that a
/// TZID or VALUE parameter spelt differently still names the same instance.
pub(crate) fn recurrence_id(comp: &Comp) -> Option<String> {
    comp.property(&ICalendarProperty::RecurrenceId)
        .map(recurrence_id_key)
}

/// The instance key of a RECURRENCE-ID entry (see [`recurrence_id`]).
pub(crate) fn recurrence_id_key(entry: &ICalendarEntry) -> String {
    match entry.values.first() {
        Some(value @ ICalendarValue::PartialDateTime(_)) => {
            date_value_key(entry, value).unwrap_or_default()
        }
        _ => rid_key(&value_string(entry)),
    }
}

/// The instance key of one date value of `entry` (one EXDATE of a list, say). A local time
/// in a known zone becomes UTC, so that `TZID=Europe/Berlin:…T110000` and `…T100000Z` name
/// the same instance, as they do when one client answers another's invitation.
pub(crate) fn date_value_key(entry: &ICalendarEntry, value: &ICalendarValue) -> Option<String> {
    let dt = match value {
        ICalendarValue::PartialDateTime(dt) => dt,
        ICalendarValue::Text(t) => return Some(rid_key(t)),
        _ => return None,
    };
    if dt.hour.is_some()
        && !dt.has_zone()
        && let Some(tzid) = param_text(entry, &ICalendarParameterName::Tzid)
        && let Ok(tz) = Tz::from_str(&tzid)
        && !tz.is_floating()
        && let Some(local) = dt.to_date_time_with_tz(tz)
    {
        return Some(date_key(&PartialDateTime::from_utc_timestamp(
            local.timestamp(),
        )));
    }
    Some(date_key(dt))
}

/// `20260317T100000Z`, `20260317T100000` or `20260317`: what [`rid_key`] makes of the
/// written value.
fn date_key(dt: &PartialDateTime) -> String {
    let date = format!(
        "{:04}{:02}{:02}",
        dt.year.unwrap_or(0),
        dt.month.unwrap_or(0),
        dt.day.unwrap_or(0)
    );
    match dt.hour {
        None => date,
        Some(hour) => format!(
            "{date}T{hour:02}{:02}{:02}{}",
            dt.minute.unwrap_or(0),
            dt.second.unwrap_or(0),
            if dt.has_zone() { "Z" } else { "" }
        ),
    }
}

pub(crate) fn rid_key(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The calendar address of an ORGANIZER or ATTENDEE entry, normalised.
pub(crate) fn address_of(entry: &ICalendarEntry) -> Option<String> {
    entry
        .values
        .first()
        .and_then(ICalendarValue::as_text)
        .map(address::normalize)
        .filter(|a| !a.is_empty())
}

pub(crate) fn organizer(comp: &Comp) -> Option<String> {
    comp.property(&ICalendarProperty::Organizer)
        .and_then(address_of)
}

/// The SENT-BY address of the ORGANIZER of `comp`, normalised.
pub(crate) fn organizer_sent_by(comp: &Comp) -> Option<String> {
    comp.property(&ICalendarProperty::Organizer)
        .and_then(|e| param_text(e, &ICalendarParameterName::SentBy))
        .map(|a| address::normalize(&a))
        .filter(|a| !a.is_empty())
}

pub(crate) fn attendees(comp: &Comp) -> impl Iterator<Item = &ICalendarEntry> {
    comp.entries
        .iter()
        .filter(|e| e.name == ICalendarProperty::Attendee)
}

/// The ATTENDEE entry of `address` (already normalised), if any.
pub(crate) fn attendee_index(comp: &Comp, address: &str) -> Option<usize> {
    comp.entries.iter().position(|e| {
        e.name == ICalendarProperty::Attendee && address_of(e).as_deref() == Some(address)
    })
}

pub(crate) fn param<'a>(
    entry: &'a ICalendarEntry,
    name: &ICalendarParameterName,
) -> Option<&'a ICalendarParameterValue> {
    entry
        .params
        .iter()
        .find(|p| &p.name == name)
        .map(|p| &p.value)
}

pub(crate) fn param_text(entry: &ICalendarEntry, name: &ICalendarParameterName) -> Option<String> {
    param(entry, name)
        .and_then(ICalendarParameterValue::as_text)
        .map(str::to_string)
}

/// All values of a parameter that may repeat or hold a list (DELEGATED-TO).
pub(crate) fn params<'a>(
    entry: &'a ICalendarEntry,
    name: &'a ICalendarParameterName,
) -> impl Iterator<Item = &'a ICalendarParameterValue> + 'a {
    entry
        .params
        .iter()
        .filter(move |p| &p.name == name)
        .map(|p| &p.value)
}

pub(crate) fn remove_param(entry: &mut ICalendarEntry, name: &ICalendarParameterName) {
    entry.params.retain(|p| &p.name != name);
}

/// Replaces every `name` parameter with `values` (kept adjacent so they write as a list).
pub(crate) fn set_param(
    entry: &mut ICalendarEntry,
    name: ICalendarParameterName,
    values: Vec<ICalendarParameterValue>,
) {
    remove_param(entry, &name);
    for value in values {
        entry.params.push(ICalendarParameter {
            name: name.clone(),
            value,
        });
    }
}

pub(crate) fn mailto(address: &str) -> String {
    format!("mailto:{address}")
}

pub(crate) fn uri_value(address: &str) -> ICalendarValue {
    ICalendarValue::Uri(Uri::Location(mailto(address)))
}

pub(crate) fn text_entry(name: ICalendarProperty, value: impl Into<String>) -> ICalendarEntry {
    ICalendarEntry {
        name,
        params: Vec::new(),
        values: vec![ICalendarValue::Text(value.into())],
    }
}

pub(crate) fn x_name(name: &str) -> ICalendarProperty {
    ICalendarProperty::Other(name.to_string())
}

pub(crate) fn x_param(name: &str) -> ICalendarParameterName {
    ICalendarParameterName::Other(name.to_string())
}

/// `ICalendarProperty::Other` names keep the case they were written in.
pub(crate) fn is_named(entry: &ICalendarEntry, name: &str) -> bool {
    match &entry.name {
        ICalendarProperty::Other(n) => n.eq_ignore_ascii_case(name),
        other => other.as_str().eq_ignore_ascii_case(name),
    }
}

/// The parameters that say how a date-time value is to be read (TZID, VALUE), and no others:
/// for copying one date property's value into another.
pub(crate) fn zone_params(params: &[ICalendarParameter]) -> Vec<ICalendarParameter> {
    params
        .iter()
        .filter(|p| {
            matches!(
                p.name,
                ICalendarParameterName::Tzid | ICalendarParameterName::Value
            )
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::object::Object;

    #[test]
    fn instance_keys_are_utc_when_the_zone_is_known() {
        for (value, key) in [
            ("RECURRENCE-ID:20260317T100000Z", "20260317T100000Z"),
            (
                "RECURRENCE-ID;TZID=Europe/Paris:20260317T110000",
                "20260317T100000Z",
            ),
            (
                "RECURRENCE-ID;TZID=Mars/Olympus:20260317T110000",
                "20260317T110000",
            ),
            ("RECURRENCE-ID:20260317T110000", "20260317T110000"),
            ("RECURRENCE-ID;VALUE=DATE:20260317", "20260317"),
        ] {
            let text = format!(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n{value}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            let object = Object::parse(&text, &Limits::default()).unwrap();
            assert_eq!(
                recurrence_id(&object.comps[0]).as_deref(),
                Some(key),
                "{value}"
            );
        }
    }
}
