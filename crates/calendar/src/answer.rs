//! The user's own answer, written into their stored copy before the REPLY goes out.

use crate::instance::{instance, instance_key};
use crate::model::Comp;
use crate::object::Object;
use crate::{ItipError, Limits, PartStat, address, values};
use calcard::icalendar::{ICalendarParameterName, ICalendarParameterValue};

/// Sets `attendee`'s PARTSTAT in `stored` (for the instance `recurrence_id` only, making an
/// override if needed) and returns the object to store. RSVP is dropped: it is answered.
pub fn set_partstat(
    stored: &str,
    attendee: &str,
    partstat: PartStat,
    recurrence_id: Option<&str>,
    limits: &Limits,
) -> Result<String, ItipError> {
    let mut object = Object::parse(stored, limits)?;
    let me = address::normalize(attendee);
    let not_attendee = || ItipError::NotAttendee {
        address: me.clone(),
        uid: object.uid.clone(),
    };
    let key = recurrence_id.map(|text| instance_key(&object, text));
    if key.is_some() && object.by_rid(key.as_deref()).is_none() {
        let comp = instance(&object, recurrence_id, limits.max_instances)?;
        object.comps.push(comp);
    }
    let mut found = false;
    for comp in object.comps.iter_mut() {
        if key.is_some() && values::recurrence_id(comp) != key {
            continue;
        }
        found |= answer_in(comp, &me, partstat);
    }
    if !found {
        return Err(not_attendee());
    }
    object.to_stored_text(limits)
}

/// Writes `me`'s answer into `comp`; RSVP is dropped: it is answered. `false`: `me` is
/// not an ATTENDEE there.
pub(crate) fn answer_in(comp: &mut Comp, me: &str, partstat: PartStat) -> bool {
    let Some(entry) = values::attendee_index(comp, me).and_then(|at| comp.entries.get_mut(at))
    else {
        return false;
    };
    values::set_param(
        entry,
        ICalendarParameterName::Partstat,
        vec![ICalendarParameterValue::Partstat(partstat.to_calcard())],
    );
    values::remove_param(entry, &ICalendarParameterName::Rsvp);
    true
}
