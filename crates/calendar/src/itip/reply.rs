//! REPLY: an attendee answers the user's invitation.

use super::context::Ctx;
use super::instances::Existing;
use crate::instance::override_of;
use crate::model::Comp;
use crate::object::Object;
use crate::{Decision, safety, values};
use calcard::icalendar::{
    ICalendarEntry, ICalendarParameterName, ICalendarParameterValue, ICalendarParticipationStatus,
    ICalendarProperty,
};
use std::collections::{HashMap, HashSet};

/// Where we remember the DTSTAMP of the last REPLY applied for an attendee, so an older
/// REPLY delivered late does not undo a newer one.
const REPLY_STAMP: &str = "X-IMIPD-REPLY-DTSTAMP";

pub(crate) fn apply(ctx: &Ctx<'_>, msg: Object, stored: Option<Object>) -> Decision {
    let uid = ctx.uid.clone();
    let sender = ctx.sender.clone();
    let Some(mut stored) = stored else {
        return ctx.no_action(format!("REPLY from {sender} for unknown {uid}"));
    };
    if let Err(why) = safety::user_is_organizer(ctx, &stored) {
        return ctx.no_action(why);
    }
    let mut answers = Vec::new();
    let index = stored.index();
    let master = stored.master();
    let mut existing = Existing::new(&stored);
    let mut seen = HashSet::new();
    for comp in &msg.comps {
        let Some(entry) = values::attendee_index(comp, &sender).and_then(|at| comp.entries.get(at))
        else {
            continue;
        };
        let Some(partstat) = values::param(entry, &ICalendarParameterName::Partstat).cloned()
        else {
            return ctx.no_action(format!("REPLY from {sender} for {uid} has no PARTSTAT"));
        };
        let rid = values::recurrence_id(comp);
        if !seen.insert(rid.clone()) {
            continue;
        }
        if let Err(why) = existing.check(ctx, comp) {
            return ctx.no_action(why);
        }
        let Some(counterpart) = index
            .get(&rid)
            .and_then(|at| stored.comps.get(*at))
            .or(master)
        else {
            return ctx.no_action(format!(
                "REPLY from {sender} for {uid} names an instance the calendar does not have"
            ));
        };
        if values::sequence(comp) < values::sequence(counterpart) {
            return ctx.no_action(format!(
                "outdated REPLY from {sender} for {uid}: it answers SEQUENCE {} but the event is at SEQUENCE {}",
                values::sequence(comp),
                values::sequence(counterpart)
            ));
        }
        if !ctx.policy.allow_party_crashers
            && values::attendee_index(counterpart, &sender).is_none()
        {
            return ctx.no_action(format!(
                "{sender} is not an ATTENDEE of {uid}; their REPLY is not applied (party crasher)"
            ));
        }
        answers.push(Answer {
            rid,
            rid_entry: comp.property(&ICalendarProperty::RecurrenceId).cloned(),
            entry: entry.clone(),
            partstat,
            stamp: values::dtstamp(comp),
            status: request_status(comp),
        });
    }
    if answers.is_empty() {
        return ctx.no_action(format!(
            "REPLY for {uid} does not answer for its sender {sender}: no ATTENDEE {sender}"
        ));
    }
    let mut changed = Vec::new();
    let mut index = index;
    for answer in &answers {
        match record(ctx, &mut stored, &mut index, answer) {
            Ok(true) => changed.push(describe(answer)),
            Ok(false) => {}
            Err(why) => return ctx.no_action(why),
        }
    }
    if changed.is_empty() {
        return ctx.no_action(format!("REPLY from {sender} for {uid} is already recorded"));
    }
    // A reason names a few answers; a header or log line has no room for hundreds.
    let more = changed.len().saturating_sub(5);
    changed.truncate(5);
    if more > 0 {
        changed.push(format!("and {more} more"));
    }
    ctx.updated(
        format!("{sender} answered {uid}: {}", changed.join(", ")),
        &stored,
    )
}

struct Answer {
    rid: Option<String>,
    rid_entry: Option<ICalendarEntry>,
    entry: ICalendarEntry,
    partstat: ICalendarParameterValue,
    stamp: Option<String>,
    status: Option<String>,
}

fn describe(answer: &Answer) -> String {
    let status = answer.partstat.as_text().unwrap_or("?");
    match &answer.rid {
        Some(rid) => format!("{status} for instance {rid}"),
        None => status.to_string(),
    }
}

/// Applies one answer; `Ok(false)` when it changes nothing. `index` follows `stored`.
fn record(
    ctx: &Ctx<'_>,
    stored: &mut Object,
    index: &mut HashMap<Option<String>, usize>,
    answer: &Answer,
) -> Result<bool, String> {
    let sender = &ctx.sender;
    if let Some(rid_entry) = &answer.rid_entry
        && answer.rid.is_some()
        && !index.contains_key(&answer.rid)
    {
        let Some(master) = index.get(&None).and_then(|at| stored.comps.get(*at)) else {
            return Err(format!(
                "{} has no instance {} to answer",
                ctx.uid,
                answer.rid.as_deref().unwrap_or("")
            ));
        };
        let instance = override_of(master, rid_entry);
        index.insert(answer.rid.clone(), stored.comps.len());
        stored.comps.push(instance);
    }
    if answer.rid.is_some() {
        let Some(comp) = index
            .get(&answer.rid)
            .and_then(|at| stored.comps.get_mut(*at))
        else {
            return Ok(false);
        };
        return update_attendee(ctx, comp, answer);
    }
    let master_status = index
        .get(&None)
        .and_then(|at| stored.comps.get(*at))
        .and_then(|m| partstat_of(m, sender));
    let mut changed = false;
    for comp in stored.comps.iter_mut() {
        // A series answer also covers instances the attendee had not answered apart.
        let applies = values::recurrence_id(comp).is_none()
            || (values::attendee_index(comp, sender).is_some()
                && partstat_of(comp, sender) == master_status);
        if applies {
            changed |= update_attendee(ctx, comp, answer)?;
        }
    }
    Ok(changed)
}

fn partstat_of(comp: &Comp, address: &str) -> Option<ICalendarParameterValue> {
    values::attendee_index(comp, address)
        .and_then(|at| comp.entries.get(at))
        .and_then(|e| values::param(e, &ICalendarParameterName::Partstat).cloned())
}

fn update_attendee(ctx: &Ctx<'_>, comp: &mut Comp, answer: &Answer) -> Result<bool, String> {
    let sender = &ctx.sender;
    let at = match values::attendee_index(comp, sender) {
        Some(at) => at,
        None => {
            let mut entry = answer.entry.clone();
            entry.params.retain(|p| {
                matches!(
                    p.name,
                    ICalendarParameterName::Cn | ICalendarParameterName::Cutype
                )
            });
            comp.entries.push(entry);
            comp.entries.len() - 1
        }
    };
    let Some(entry) = comp.entries.get_mut(at) else {
        return Ok(false);
    };
    let stamp_param = values::x_param(REPLY_STAMP);
    let last = values::param_text(entry, &stamp_param);
    if let (Some(last), Some(stamp)) = (&last, &answer.stamp)
        && stamp < last
    {
        return Err(format!(
            "outdated REPLY from {sender} for {}: DTSTAMP {stamp} is older than the answer already recorded ({last})",
            ctx.uid
        ));
    }
    let before = answer_fingerprint(entry);
    values::set_param(
        entry,
        ICalendarParameterName::Partstat,
        vec![answer.partstat.clone()],
    );
    copy_param(entry, &answer.entry, ICalendarParameterName::Rsvp);
    copy_param(entry, &answer.entry, ICalendarParameterName::DelegatedTo);
    if let Some(status) = &answer.status {
        values::set_param(
            entry,
            ICalendarParameterName::ScheduleStatus,
            vec![ICalendarParameterValue::Text(status.clone())],
        );
    }
    let mut changed = answer_fingerprint(entry) != before;
    if let Some(stamp) = &answer.stamp {
        values::set_param(
            entry,
            stamp_param,
            vec![ICalendarParameterValue::Text(stamp.clone())],
        );
    }
    if matches!(
        answer.partstat,
        ICalendarParameterValue::Partstat(ICalendarParticipationStatus::Delegated)
    ) {
        changed |= add_delegates(comp, sender, &answer.entry);
    }
    Ok(changed)
}

/// The parameters a REPLY sets, in a form that ignores their order.
fn answer_fingerprint(entry: &ICalendarEntry) -> Vec<String> {
    let mut out: Vec<String> = entry
        .params
        .iter()
        .filter(|p| {
            matches!(
                p.name,
                ICalendarParameterName::Partstat
                    | ICalendarParameterName::Rsvp
                    | ICalendarParameterName::DelegatedTo
                    | ICalendarParameterName::ScheduleStatus
            )
        })
        .map(|p| format!("{:?}={:?}", p.name, p.value))
        .collect();
    out.sort();
    out
}

/// RSVP and DELEGATED-TO follow the reply: present there, copied; absent, dropped.
fn copy_param(entry: &mut ICalendarEntry, reply: &ICalendarEntry, name: ICalendarParameterName) {
    let values: Vec<_> = values::params(reply, &name).cloned().collect();
    values::set_param(entry, name, values);
}

/// RFC 5546 section 3.2.2.3: the organizer adds the delegate as a new attendee.
fn add_delegates(comp: &mut Comp, sender: &str, reply: &ICalendarEntry) -> bool {
    let delegates: Vec<String> = values::params(reply, &ICalendarParameterName::DelegatedTo)
        .filter_map(ICalendarParameterValue::as_text)
        .map(crate::address::normalize)
        .filter(|a| !a.is_empty())
        .collect();
    let mut added = false;
    for delegate in delegates {
        if values::attendee_index(comp, &delegate).is_some() {
            continue;
        }
        comp.entries.push(ICalendarEntry {
            name: ICalendarProperty::Attendee,
            params: vec![
                calcard::icalendar::ICalendarParameter {
                    name: ICalendarParameterName::Partstat,
                    value: ICalendarParameterValue::Partstat(
                        ICalendarParticipationStatus::NeedsAction,
                    ),
                },
                calcard::icalendar::ICalendarParameter {
                    name: ICalendarParameterName::DelegatedFrom,
                    value: ICalendarParameterValue::Text(values::mailto(sender)),
                },
            ],
            values: vec![values::uri_value(&delegate)],
        });
        added = true;
    }
    added
}

/// The status codes of REQUEST-STATUS (`2.0;Success` → `2.0`), for SCHEDULE-STATUS.
fn request_status(comp: &Comp) -> Option<String> {
    let codes: Vec<String> = comp
        .properties(&ICalendarProperty::RequestStatus)
        .filter_map(|e| e.values.first())
        .filter_map(|v| v.as_text())
        .map(|code| code.trim().to_string())
        .filter(|code| !code.is_empty() && code.len() <= 16)
        .collect();
    (!codes.is_empty()).then(|| codes.join(","))
}
