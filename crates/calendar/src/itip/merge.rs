//! Carrying the user's own data across an organizer's update: their alarms, free/busy
//! transparency, categories, their answer (PARTSTAT), and our bookkeeping.

use crate::address::UserAddresses;
use crate::model::Comp;
use crate::sanitize;
use crate::values;
use calcard::icalendar::{ICalendarComponentType, ICalendarParameterName, ICalendarProperty};

/// Properties that belong to the user's copy, not to the organizer's event.
const PRIVATE: [ICalendarProperty; 2] = [ICalendarProperty::Transp, ICalendarProperty::Categories];

/// Makes `new` (an organizer's version, already sanitised) keep what the user set on `old`.
pub(crate) fn keep_private(new: &mut Comp, old: &Comp, user: &UserAddresses) {
    new.children
        .retain(|c| c.kind != ICalendarComponentType::VAlarm);
    new.children.extend(
        old.children
            .iter()
            .filter(|c| c.kind == ICalendarComponentType::VAlarm)
            .cloned(),
    );
    for name in &PRIVATE {
        if old.property(name).is_some() {
            new.remove(name);
            new.entries.extend(old.properties(name).cloned());
        }
    }
    new.entries.retain(|e| !sanitize::is_own(e));
    new.entries
        .extend(old.entries.iter().filter(|e| sanitize::is_own(e)).cloned());
    keep_user_partstat(new, old, user);
}

/// The organizer's copy may say NEEDS-ACTION for the user; the user's answer stands.
fn keep_user_partstat(new: &mut Comp, old: &Comp, user: &UserAddresses) {
    for entry in new.entries.iter_mut() {
        if entry.name != ICalendarProperty::Attendee {
            continue;
        }
        let Some(address) = values::address_of(entry) else {
            continue;
        };
        if !user.contains(&address) {
            continue;
        }
        let Some(at) = values::attendee_index(old, &address) else {
            continue;
        };
        let Some(previous) = old.entries.get(at) else {
            continue;
        };
        let stored: Vec<_> = values::params(previous, &ICalendarParameterName::Partstat)
            .cloned()
            .collect();
        values::set_param(entry, ICalendarParameterName::Partstat, stored);
    }
}
