//! Carrying the user's own data across an organizer's update: their alarms, free/busy
//! transparency, categories, their answer (PARTSTAT), and our bookkeeping.

use crate::address::UserAddresses;
use crate::model::Comp;
use crate::sanitize;
use crate::values;
use calcard::icalendar::{
    ICalendarComponentType, ICalendarParameterName, ICalendarParameterValue,
    ICalendarParticipationStatus, ICalendarProperty,
};

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

/// The organizer's copy may say NEEDS-ACTION for the user; the user's answer stands. Where
/// the user had no answer yet, it is NEEDS-ACTION whatever the message claims.
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
        let previous = values::attendee_index(old, &address).and_then(|at| old.entries.get(at));
        match previous {
            Some(previous) => {
                let stored: Vec<_> = values::params(previous, &ICalendarParameterName::Partstat)
                    .cloned()
                    .collect();
                values::set_param(entry, ICalendarParameterName::Partstat, stored);
            }
            None => set_needs_action(entry),
        }
    }
}

/// Only the user answers for the user: a new invitation that claims their PARTSTAT
/// (ACCEPTED, say) is stored as NEEDS-ACTION.
pub(crate) fn user_has_not_answered(comp: &mut Comp, user: &UserAddresses) {
    for entry in comp.entries.iter_mut() {
        if entry.name == ICalendarProperty::Attendee
            && values::address_of(entry).is_some_and(|a| user.contains(&a))
        {
            set_needs_action(entry);
        }
    }
}

fn set_needs_action(entry: &mut calcard::icalendar::ICalendarEntry) {
    values::set_param(
        entry,
        ICalendarParameterName::Partstat,
        vec![ICalendarParameterValue::Partstat(
            ICalendarParticipationStatus::NeedsAction,
        )],
    );
}
