//! REFRESH, COUNTER and DECLINECOUNTER: attendees and organizer talking about the event.
//! None of them changes the event itself.

use super::context::Ctx;
use crate::model::Comp;
use crate::object::Object;
use crate::{Decision, build, safety, values};
use calcard::icalendar::{
    ICalendarEntry, ICalendarParameter, ICalendarParameterValue, ICalendarProperty, ICalendarValue,
};

const COUNTER: &str = "X-IMIPD-COUNTER";
const DECLINED: &str = "X-IMIPD-DECLINECOUNTER";
const FROM: &str = "X-IMIPD-FROM";
/// What a counter-proposal may propose, in the order it is recorded.
const PROPOSED: [ICalendarProperty; 7] = [
    ICalendarProperty::Dtstart,
    ICalendarProperty::Dtend,
    ICalendarProperty::Duration,
    ICalendarProperty::Due,
    ICalendarProperty::Location,
    ICalendarProperty::Summary,
    ICalendarProperty::Comment,
];

/// REFRESH: an attendee asks the organizer (the user) for the current version.
pub(crate) fn refresh(ctx: &Ctx<'_>, _msg: &Object, stored: Option<Object>) -> Decision {
    let uid = &ctx.uid;
    let Some(stored) = stored else {
        return ctx.no_action(format!("REFRESH from {} for unknown {uid}", ctx.sender));
    };
    if let Err(why) = safety::user_is_organizer(ctx, &stored) {
        return ctx.no_action(why);
    }
    if !safety::sender_is_attendee(ctx, &stored) {
        return ctx.no_action(format!(
            "REFRESH from {} for {uid} not answered: they are not an ATTENDEE",
            ctx.sender
        ));
    }
    ctx.no_action(format!(
        "REFRESH from {} for {uid}: the current version is sent back",
        ctx.sender
    ))
    .with_response(build::request_of(
        &stored,
        None,
        build::stamp_at(ctx.policy.now),
    ))
}

/// COUNTER: an attendee proposes a change. The organizer decides; we only note it.
pub(crate) fn counter(ctx: &Ctx<'_>, msg: &Object, stored: Option<Object>) -> Decision {
    let uid = ctx.uid.clone();
    let Some(mut stored) = stored else {
        return ctx.no_action(format!("COUNTER from {} for unknown {uid}", ctx.sender));
    };
    if let Err(why) = safety::user_is_organizer(ctx, &stored) {
        return ctx.no_action(why);
    }
    if !safety::sender_is_attendee(ctx, &stored) {
        return ctx.no_action(format!(
            "COUNTER from {} for {uid} ignored: they are not an ATTENDEE",
            ctx.sender
        ));
    }
    let mut noted = 0;
    let index = stored.index();
    for proposal in &msg.comps {
        let rid = values::recurrence_id(proposal);
        let text = proposal_text(proposal);
        let Some(target) = index.get(&rid).and_then(|at| stored.comps.get_mut(*at)) else {
            continue;
        };
        note(target, COUNTER, &ctx.sender, text);
        noted += 1;
    }
    if noted == 0 {
        let Some(master) = stored.master_mut() else {
            return ctx.no_action(format!("COUNTER for {uid} names no known instance"));
        };
        let text = msg.comps.first().map(proposal_text).unwrap_or_default();
        note(master, COUNTER, &ctx.sender, text);
    }
    ctx.updated(
        format!(
            "counter-proposal from {} for {uid} recorded for the organizer; the event is unchanged",
            ctx.sender
        ),
        &stored,
    )
}

/// DECLINECOUNTER: the organizer turned down the user's proposal.
pub(crate) fn decline_counter(ctx: &Ctx<'_>, msg: &Object, stored: Option<Object>) -> Decision {
    let uid = ctx.uid.clone();
    let Some(mut stored) = stored else {
        return ctx.no_action(format!("DECLINECOUNTER for unknown {uid}"));
    };
    if !safety::user_is_attendee(ctx, &stored) {
        return ctx.no_action(format!(
            "{} is not an ATTENDEE of {uid}; the DECLINECOUNTER was not for them",
            ctx.user_name()
        ));
    }
    if let Err(why) = safety::organizer_may_change(ctx, &stored, msg) {
        return ctx.no_action(why);
    }
    let comment = msg
        .comps
        .iter()
        .find_map(|c| values::text(c, &ICalendarProperty::Comment))
        .unwrap_or_else(|| "declined".to_string());
    let rid = msg.comps.first().and_then(values::recurrence_id);
    let target = match stored
        .comps
        .iter()
        .position(|c| values::recurrence_id(c) == rid)
    {
        Some(at) => stored.comps.get_mut(at),
        None => stored.master_mut(),
    };
    let Some(target) = target else {
        return ctx.no_action(format!("DECLINECOUNTER for {uid} names no known instance"));
    };
    note(target, DECLINED, &ctx.sender, comment);
    ctx.updated(
        format!(
            "{} declined the counter-proposal for {uid}; recorded",
            ctx.sender
        ),
        &stored,
    )
}

/// `DTSTART=20260102T100000Z; LOCATION=Room 2`: the proposed values, readable as one line.
fn proposal_text(comp: &Comp) -> String {
    let mut parts = Vec::new();
    for name in &PROPOSED {
        if let Some(entry) = comp.property(name) {
            let value = match entry.values.first() {
                Some(ICalendarValue::Text(t)) => t.clone(),
                _ => values::value_string(entry),
            };
            parts.push(format!(
                "{}={}",
                name.as_str(),
                crate::model::truncate(&value, 200)
            ));
        }
    }
    parts.join("; ")
}

/// Replaces the note of kind `name` from `from` with `text`.
fn note(comp: &mut Comp, name: &str, from: &str, text: String) {
    let from_param = values::x_param(FROM);
    comp.entries.retain(|e| {
        !(values::is_named(e, name)
            && values::param_text(e, &from_param).map(|f| crate::address::normalize(&f))
                == Some(from.to_string()))
    });
    comp.entries.push(ICalendarEntry {
        name: values::x_name(name),
        params: vec![ICalendarParameter {
            name: from_param,
            value: ICalendarParameterValue::Text(values::mailto(from)),
        }],
        values: vec![ICalendarValue::Text(text)],
    });
}
