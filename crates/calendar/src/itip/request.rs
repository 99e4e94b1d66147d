//! REQUEST, PUBLISH and ADD: the organizer sends (part of) the event.

use super::context::Ctx;
use super::freshness::{self, Freshness};
use super::merge::keep_private;
use crate::model::Comp;
use crate::object::Object;
use crate::{Decision, Method, address, safety, values};
use calcard::icalendar::{ICalendarEntry, ICalendarProperty};

pub(crate) fn apply(ctx: &Ctx<'_>, mut msg: Object, stored: Option<Object>) -> Decision {
    let uid = ctx.uid.clone();
    let organizer = msg.organizer();
    if ctx.method == Method::Publish && !ctx.policy.allow_publish {
        return ctx.no_action(format!(
            "PUBLISH of {uid} from {} not applied: publishing is not allowed by policy",
            ctx.sender
        ));
    }
    if organizer.is_none() && ctx.method != Method::Publish {
        return ctx.error(format!("{} for {uid} has no ORGANIZER", ctx.method));
    }
    if let Some(org) = &organizer
        && ctx.user.contains(org)
    {
        return ctx.no_action(format!(
            "{} is the organizer of {uid}; their own {} is not applied",
            ctx.user_name(),
            ctx.method
        ));
    }
    if ctx.method != Method::Publish && !safety::user_is_attendee(ctx, &msg) {
        return ctx.no_action(format!(
            "{} is not an ATTENDEE of {uid}; the {} was not addressed to them",
            ctx.user_name(),
            ctx.method
        ));
    }
    let from = organizer.clone().unwrap_or_else(|| ctx.sender.clone());
    let Some(mut stored) = stored else {
        return add_new(ctx, msg, &from);
    };
    if stored.organizer().is_none() && ctx.method == Method::Publish && organizer.is_none() {
        return ctx.no_action(format!(
            "PUBLISH without ORGANIZER cannot update the existing {uid}"
        ));
    }
    if let Err(why) = safety::organizer_may_change(ctx, &stored, &msg) {
        return ctx.no_action(why);
    }
    match freshness::check(&msg.comps, &stored) {
        Freshness::Older(why) => {
            return ctx.no_action(format!("outdated {} for {uid}: {why}", ctx.method));
        }
        Freshness::Same if ctx.method != Method::Add => {
            return ctx.no_action(format!(
                "{uid} is already up to date (same SEQUENCE and DTSTAMP)"
            ));
        }
        _ => {}
    }
    let sequence = msg.comps.iter().map(values::sequence).max().unwrap_or(0);
    if ctx.method == Method::Add {
        return add_instances(ctx, msg, stored, &from);
    }
    let full = msg.master().is_some();
    let previous = stored.clone();
    let mut comps = if full {
        Vec::new()
    } else {
        std::mem::take(&mut stored.comps)
    };
    for mut comp in std::mem::take(&mut msg.comps) {
        let rid = values::recurrence_id(&comp);
        if let Some(old) = previous.counterpart(rid.as_deref()) {
            keep_private(&mut comp, old, &ctx.user);
        }
        comps.retain(|c| values::recurrence_id(c) != rid);
        comps.push(comp);
    }
    let removed = if full {
        stored
            .comps
            .iter()
            .filter_map(values::recurrence_id)
            .filter(|rid| {
                !comps
                    .iter()
                    .any(|c| values::recurrence_id(c).as_deref() == Some(rid))
            })
            .count()
    } else {
        0
    };
    stored.comps = comps;
    merge_timezones(&mut stored, &msg);
    let scope = if full { "event" } else { "instance(s) of" };
    let mut reason = format!("updated {scope} {uid} from {from} (SEQUENCE {sequence})");
    if removed > 0 {
        reason.push_str(&format!(
            "; {removed} instance override(s) no longer sent were removed"
        ));
    }
    ctx.updated(reason, &stored)
}

fn add_new(ctx: &Ctx<'_>, msg: Object, organizer: &str) -> Decision {
    let uid = &ctx.uid;
    if ctx.method == Method::Add {
        return ctx.no_action(format!(
            "ADD for unknown {uid}: there is no event to add instances to (the organizer can send it again on REFRESH)"
        ));
    }
    if ctx.policy.updates_only {
        return ctx.no_action(format!(
            "new event {uid} from {organizer} not added: policy accepts updates only"
        ));
    }
    if let Some(allowed) = &ctx.policy.organizers
        && !allowed.iter().any(|a| address::normalize(a) == organizer)
    {
        return ctx.no_action(format!(
            "new event {uid} not added: organizer {organizer} is not in the allowed organizers"
        ));
    }
    ctx.added(format!("new event {uid} from {organizer}"), &msg)
}

/// ADD (RFC 5546 section 3.2.4): each component is a new instance; it becomes an RDATE of
/// the master plus an override carrying the instance's own properties.
fn add_instances(ctx: &Ctx<'_>, msg: Object, mut stored: Object, organizer: &str) -> Decision {
    let uid = ctx.uid.clone();
    let mut added = 0usize;
    for mut comp in msg.comps.clone() {
        let Some(start) = comp.property(&ICalendarProperty::Dtstart).cloned() else {
            continue;
        };
        let rid = ICalendarEntry {
            name: ICalendarProperty::RecurrenceId,
            ..start.clone()
        };
        comp.set(rid);
        let key = values::recurrence_id(&comp);
        if let Some(master) = stored.master() {
            let master = master.clone();
            keep_private(&mut comp, &master, &ctx.user);
        }
        if let Some(master) = stored.master_mut() {
            master.entries.push(ICalendarEntry {
                name: ICalendarProperty::Rdate,
                ..start
            });
        }
        stored.comps.retain(|c| values::recurrence_id(c) != key);
        stored.comps.push(comp);
        added += 1;
    }
    if added == 0 {
        return ctx.no_action(format!("ADD for {uid} has no instance with DTSTART"));
    }
    merge_timezones(&mut stored, &msg);
    ctx.updated(
        format!("added {added} instance(s) to {uid} from {organizer}"),
        &stored,
    )
}

/// Time zones the update refers to, without duplicating ones already stored.
fn merge_timezones(stored: &mut Object, msg: &Object) {
    let tzid = |c: &Comp| values::text(c, &ICalendarProperty::Tzid);
    let known: Vec<Option<String>> = stored.timezones().map(tzid).collect();
    let new: Vec<Comp> = msg
        .timezones()
        .filter(|tz| !known.contains(&tzid(tz)))
        .cloned()
        .collect();
    stored.root.children.extend(new);
}
