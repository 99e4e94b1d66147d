//! REQUEST, PUBLISH and ADD: the organizer sends (part of) the event.

use super::context::Ctx;
use super::freshness::{self, Freshness};
use super::instances::Existing;
use super::merge::{keep_private, user_has_not_answered};
use crate::model::Comp;
use crate::object::Object;
use crate::{Decision, Method, address, safety, values};
use calcard::icalendar::{ICalendarEntry, ICalendarParameterName, ICalendarProperty};
use std::collections::HashMap;

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
    let checked = if full {
        instances_exist(ctx, &msg, Existing::of_own_series(&msg))
    } else {
        instances_exist(ctx, &msg, Existing::new(&stored).open_without_series())
    };
    if let Err(why) = checked {
        return ctx.no_action(why);
    }
    let msg_noun = msg.noun();
    // Splitting a series at an instance is not supported; say so rather than pretend.
    let this_and_future = msg.comps.iter().any(|c| {
        c.property(&ICalendarProperty::RecurrenceId)
            .is_some_and(|e| values::param(e, &ICalendarParameterName::Range).is_some())
    });
    let old_index = stored.index();
    let old_master = stored.master().cloned();
    let old_comps = std::mem::take(&mut stored.comps);
    let (mut comps, mut positions) = if full {
        (Vec::new(), HashMap::new())
    } else {
        (old_comps.clone(), old_index.clone())
    };
    for mut comp in std::mem::take(&mut msg.comps) {
        let rid = values::recurrence_id(&comp);
        let old = old_index
            .get(&rid)
            .and_then(|at| old_comps.get(*at))
            .or(old_master.as_ref());
        if let Some(old) = old {
            keep_private(&mut comp, old, &ctx.user);
        }
        put_at(&mut comps, &mut positions, rid, comp);
    }
    let removed = if full {
        old_index
            .keys()
            .filter(|rid| rid.is_some() && !positions.contains_key(*rid))
            .count()
    } else {
        0
    };
    stored.comps = comps;
    merge_timezones(&mut stored, &msg);
    let scope = if full { msg_noun } else { "instance(s) of" };
    let mut reason = format!("updated {scope} {uid} from {from} (SEQUENCE {sequence})");
    if this_and_future {
        reason.push_str("; RANGE=THISANDFUTURE applied to the named instance only");
    }
    if removed > 0 {
        reason.push_str(&format!(
            "; {removed} instance override(s) no longer sent were removed"
        ));
    }
    ctx.updated(reason, &stored)
}

fn add_new(ctx: &Ctx<'_>, mut msg: Object, organizer: &str) -> Decision {
    let uid = &ctx.uid;
    let noun = msg.noun();
    if ctx.method == Method::Add {
        return ctx.no_action(format!(
            "ADD for unknown {uid}: there is no event to add instances to (the organizer can send it again on REFRESH)"
        ));
    }
    if msg.master().is_some()
        && let Err(why) = instances_exist(ctx, &msg, Existing::of_own_series(&msg))
    {
        return ctx.no_action(why);
    }
    if ctx.policy.updates_only {
        return ctx.no_action(format!(
            "new {noun} {uid} from {organizer} not added: policy accepts updates only"
        ));
    }
    if let Some(allowed) = &ctx.policy.organizers
        && !allowed.iter().any(|a| address::normalize(a) == organizer)
    {
        return ctx.no_action(format!(
            "new {noun} {uid} not added: organizer {organizer} is not in the allowed organizers"
        ));
    }
    // A forwarded invitation comes from someone who is not who invites: it is added only
    // when the user asks for it.
    let forwarded = ctx.sender != organizer
        && msg.organizer_sent_by().as_deref() != Some(&ctx.sender)
        && !ctx.is_trusted_delegate();
    if forwarded && !ctx.policy.manual {
        return ctx.no_action(format!(
            "new {noun} {uid} from {organizer} not added: it was sent by {}, who is neither the organizer {organizer} nor its SENT-BY (a forwarded invitation; it can be added by hand)",
            if ctx.sender.is_empty() { "an unknown sender" } else { ctx.sender.as_str() }
        ));
    }
    for comp in &mut msg.comps {
        user_has_not_answered(comp, &ctx.user);
    }
    let via = if forwarded {
        format!(" (sent by {})", ctx.sender)
    } else {
        String::new()
    };
    ctx.added(format!("new {noun} {uid} from {organizer}{via}"), &msg)
}

/// Every instance `msg` names exists in `existing`'s object.
fn instances_exist(ctx: &Ctx<'_>, msg: &Object, mut existing: Existing<'_>) -> Result<(), String> {
    msg.comps
        .iter()
        .try_for_each(|comp| existing.check(ctx, comp))
}

/// ADD (RFC 5546 section 3.2.4): each component is a new instance; it becomes an RDATE of
/// the master plus an override carrying the instance's own properties.
fn add_instances(ctx: &Ctx<'_>, msg: Object, mut stored: Object, organizer: &str) -> Decision {
    let uid = ctx.uid.clone();
    let mut added = 0usize;
    let master = stored.master().cloned();
    let mut positions = stored.index();
    let mut comps = std::mem::take(&mut stored.comps);
    let mut rdates = Vec::new();
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
        if let Some(master) = &master {
            keep_private(&mut comp, master, &ctx.user);
        }
        rdates.push(ICalendarEntry {
            name: ICalendarProperty::Rdate,
            ..start
        });
        put_at(&mut comps, &mut positions, key, comp);
        added += 1;
    }
    stored.comps = comps;
    if let Some(master) = stored.master_mut() {
        master.entries.extend(rdates);
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

/// Replaces the component with the same RECURRENCE-ID, or appends.
fn put_at(
    comps: &mut Vec<Comp>,
    positions: &mut HashMap<Option<String>, usize>,
    rid: Option<String>,
    comp: Comp,
) {
    match positions.get(&rid).and_then(|at| comps.get_mut(*at)) {
        Some(slot) => *slot = comp,
        None => {
            positions.insert(rid, comps.len());
            comps.push(comp);
        }
    }
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
