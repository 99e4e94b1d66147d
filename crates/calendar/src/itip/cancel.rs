//! CANCEL: the organizer calls off the event, or some instances of it.

use super::context::Ctx;
use super::freshness::{self, Freshness};
use super::instances::Existing;
use crate::model::Comp;
use crate::object::Object;
use crate::{Decision, safety, values};
use calcard::icalendar::{ICalendarEntry, ICalendarProperty, ICalendarStatus, ICalendarValue};
use std::collections::HashSet;

pub(crate) fn apply(ctx: &Ctx<'_>, msg: Object, stored: Option<Object>) -> Decision {
    let uid = ctx.uid.clone();
    let Some(mut stored) = stored else {
        return ctx.no_action(format!("CANCEL for unknown {uid}: nothing to cancel"));
    };
    let lists_attendees = msg
        .comps
        .iter()
        .any(|c| values::attendees(c).next().is_some());
    let addressed = if lists_attendees {
        safety::user_is_attendee(ctx, &msg)
    } else {
        safety::user_is_attendee(ctx, &stored)
    };
    if !addressed {
        return ctx.no_action(format!(
            "{} is not an ATTENDEE of {uid}; the CANCEL was not addressed to them",
            ctx.user_name()
        ));
    }
    let organizer = match safety::organizer_may_change(ctx, &stored, &msg) {
        Ok(organizer) => organizer,
        Err(why) => return ctx.no_action(why),
    };
    if let Freshness::Older(why) = freshness::check(&msg.comps, &stored) {
        return ctx.no_action(format!("outdated CANCEL for {uid}: {why}"));
    }
    let sequence = msg.comps.iter().map(values::sequence).max().unwrap_or(0);
    if msg.master().is_some() {
        if ctx.policy.delete_cancelled {
            return ctx.deleted(format!("{uid} cancelled by {organizer}; deleted"));
        }
        if stored.comps.iter().all(is_cancelled) {
            return ctx.no_action(format!("{uid} is already cancelled"));
        }
        for comp in &mut stored.comps {
            mark_cancelled(comp, sequence);
        }
        return ctx.updated(format!("{uid} cancelled by {organizer}"), &stored);
    }
    let mut cancelled = Vec::new();
    let index = stored.index();
    let master_at = index.get(&None).copied();
    let mut excluded: HashSet<String> = master_at
        .and_then(|at| stored.comps.get(at))
        .map(|m| {
            m.properties(&ICalendarProperty::Exdate)
                .flat_map(|e| e.values.iter().map(move |v| (e, v)))
                .filter_map(|(e, v)| values::date_value_key(e, v))
                .collect()
        })
        .unwrap_or_default();
    let mut existing = Existing::new(&stored);
    for comp in &msg.comps {
        let Some(rid) = values::recurrence_id(comp) else {
            continue;
        };
        if index.contains_key(&Some(rid.clone())) || excluded.contains(&rid) {
            continue;
        }
        if let Err(why) = existing.check(ctx, comp) {
            return ctx.no_action(why);
        }
    }
    let mut exdates = Vec::new();
    for comp in &msg.comps {
        let Some(rid) = values::recurrence_id(comp) else {
            continue;
        };
        match index
            .get(&Some(rid.clone()))
            .and_then(|at| stored.comps.get_mut(*at))
        {
            Some(existing) => {
                if !is_cancelled(existing) {
                    mark_cancelled(existing, sequence);
                    cancelled.push(rid);
                }
            }
            None => {
                if let Some(rid_entry) = comp.property(&ICalendarProperty::RecurrenceId)
                    && master_at.is_some()
                    && excluded.insert(rid.clone())
                {
                    exdates.push(exdate_from(rid_entry));
                    cancelled.push(rid);
                }
            }
        }
    }
    if let Some(master) = master_at.and_then(|at| stored.comps.get_mut(at)) {
        master.entries.extend(grouped(exdates));
    }
    if cancelled.is_empty() {
        return ctx.no_action(format!(
            "CANCEL for {uid} names no instance that is still in the calendar"
        ));
    }
    ctx.updated(
        format!(
            "instance(s) {} of {uid} cancelled by {organizer}",
            cancelled.join(", ")
        ),
        &stored,
    )
}

fn is_cancelled(comp: &Comp) -> bool {
    matches!(
        comp.property(&ICalendarProperty::Status)
            .and_then(|e| e.values.first()),
        Some(ICalendarValue::Status(ICalendarStatus::Cancelled))
    )
}

fn mark_cancelled(comp: &mut Comp, sequence: i64) {
    comp.set(ICalendarEntry {
        name: ICalendarProperty::Status,
        params: Vec::new(),
        values: vec![ICalendarValue::Status(ICalendarStatus::Cancelled)],
    });
    if sequence > values::sequence(comp) {
        comp.set(ICalendarEntry {
            name: ICalendarProperty::Sequence,
            params: Vec::new(),
            values: vec![ICalendarValue::Integer(sequence)],
        });
    }
}

/// Most dates written in one EXDATE property: a long list stays on lines of modest length.
const EXDATES_PER_LINE: usize = 40;

/// EXDATEs with the same TZID/VALUE merged into lists, so that cancelling many instances
/// adds a few properties, not one per instance.
fn grouped(exdates: Vec<ICalendarEntry>) -> Vec<ICalendarEntry> {
    let mut out: Vec<ICalendarEntry> = Vec::new();
    for exdate in exdates {
        match out
            .iter_mut()
            .find(|e| e.params == exdate.params && e.values.len() < EXDATES_PER_LINE)
        {
            Some(list) => list.values.extend(exdate.values),
            None => out.push(exdate),
        }
    }
    out
}

/// An EXDATE with the same value and TZID/VALUE as the RECURRENCE-ID (RANGE dropped).
fn exdate_from(rid: &ICalendarEntry) -> ICalendarEntry {
    ICalendarEntry {
        name: ICalendarProperty::Exdate,
        params: values::zone_params(&rid.params),
        values: rid.values.clone(),
    }
}
