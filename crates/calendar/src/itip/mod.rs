//! Applying one iTIP message (RFC 5546) to the stored copy of its calendar object.

mod cancel;
pub(crate) mod context;
mod freshness;
mod instances;
mod merge;
mod negotiate;
mod reply;
mod request;

use crate::object::Object;
use crate::{
    Decision, Facts, ItipMessage, Limits, Method, Outcome, Policy, model, peek, recur, safety,
    sanitize, values,
};
use calcard::icalendar::ICalendarComponentType;
use context::Ctx;

/// Decides what `message` does to `stored` (the user's copy of the same UID, if any).
///
/// In order: the message must parse within `limits` (every line a content line, every
/// component ENDed, real dates: see [`ItipMessage`]), carry exactly one METHOD, hold
/// components that share one UID (the rule [`crate::peek`] applies too) and sane recurrence
/// rules (else error / no_action); spam or an unauthenticated sender is never applied; then
/// per method (RFC 5546 section 3.2):
/// - REQUEST, PUBLISH, ADD: the user must be an ATTENDEE (not for PUBLISH, which the policy
///   must allow); a new event is added only when its ORGANIZER (or the ORGANIZER's SENT-BY,
///   or a trusted delegate) sent it, unless `policy.manual`, and the user is stored as
///   NEEDS-ACTION whatever it claims. An existing event changes only for its ORGANIZER (or
///   the stored ORGANIZER's SENT-BY, or a trusted delegate), never to another ORGANIZER, and
///   only if newer (SEQUENCE, then DTSTAMP). The user's PARTSTAT, alarms, TRANSP and
///   CATEGORIES survive; incoming alarms and file attachments do not. A master replaces the
///   series (overrides it omits go); overrides alone replace their instances.
/// - CANCEL: marks the event or instances STATUS:CANCELLED (EXDATE for an instance never
///   overridden), or deletes the event when the policy says so.
/// - REPLY: to the organizer (the user); updates the sender's own ATTENDEE entry only.
/// - REFRESH: answered with the current REQUEST in `response`; COUNTER and DECLINECOUNTER
///   are recorded as `X-IMIPD-*` properties and never change the event.
///
/// A component with RECURRENCE-ID (REQUEST, CANCEL, REPLY) must name an instance that
/// exists: in the recurrence set, expanded within `limits.max_instances`, or already
/// overridden. A result that would exceed `limits` is refused, never stored.
///
/// Never panics and never reads a clock: `policy.now` is the time.
pub fn apply(
    stored: Option<&str>,
    message: &str,
    facts: &Facts,
    policy: &Policy,
    limits: &Limits,
) -> Decision {
    // The rules [`ItipMessage::parse`] reads an arriving message by, so that detection and
    // the core agree on what is broken.
    let root = match crate::message::check_syntax(message)
        .map_err(|e| e.to_string())
        .and_then(|()| model::parse(message, limits).map_err(|e| e.to_string()))
        .and_then(|root| {
            crate::message::check_dates(&root)
                .map(|()| root)
                .map_err(|e| e.to_string())
        }) {
        Ok(root) => root,
        Err(e) => return Decision::new(Outcome::error(format!("message: {e}")), None, None),
    };
    let method = match peek::method_of(&root) {
        Ok(Some(method)) => method,
        Ok(None) => {
            return Decision::new(
                Outcome::no_action("not an iTIP message: the calendar has no METHOD"),
                None,
                None,
            );
        }
        Err(e) => return Decision::new(Outcome::error(format!("message: {e}")), None, None),
    };
    match Object::from_root(root) {
        Ok(msg) => decide(stored, method, msg, facts, policy, limits),
        Err(e) => Decision::new(Outcome::error(format!("message: {e}")), Some(method), None),
    }
}

/// [`apply`] for a message already parsed by [`ItipMessage::parse`]: the same rules, without
/// reading the message again (a mail to N recipients is decided N times, parsed once).
pub fn apply_message(
    stored: Option<&str>,
    message: &ItipMessage,
    facts: &Facts,
    policy: &Policy,
    limits: &Limits,
) -> Decision {
    decide(
        stored,
        message.method,
        message.object.clone(),
        facts,
        policy,
        limits,
    )
}

/// The rules of [`apply`] after the message is read.
fn decide(
    stored: Option<&str>,
    method: Method,
    mut msg: Object,
    facts: &Facts,
    policy: &Policy,
    limits: &Limits,
) -> Decision {
    if !matches!(
        msg.kind(),
        ICalendarComponentType::VEvent | ICalendarComponentType::VTodo
    ) {
        return Decision::new(
            Outcome::no_action(format!(
                "{method} of a {} is not handled: only VEVENT and VTODO are scheduled",
                msg.kind().as_str()
            )),
            Some(method),
            Some(&msg.uid),
        );
    }
    let ctx = Ctx::new(facts, policy, limits, method, &msg.uid);
    if let Err(why) = safety::one_organizer(&msg) {
        return ctx.error(why);
    }
    for comp in &msg.comps {
        if let Err(why) = recur::check(comp, limits.max_instances as u64) {
            return ctx.error(format!("{} refused: {why}", msg.uid));
        }
    }
    if facts.spam {
        return ctx.no_action(format!(
            "message from {} is marked as spam; {} not applied to the calendar",
            ctx.sender, method
        ));
    }
    if !facts.authenticated {
        return ctx.no_action(format!(
            "sender {} is not authenticated (no aligned SPF/DKIM pass); {} not applied to the calendar",
            ctx.sender, method
        ));
    }
    let stored = match stored.map(|text| Object::parse(text, limits)) {
        None => None,
        Some(Ok(object)) if object.uid == msg.uid => Some(object),
        Some(Ok(object)) => {
            return ctx.error(format!(
                "stored object has UID {} but the message is for {}; the caller passed the wrong object",
                object.uid, msg.uid
            ));
        }
        Some(Err(e)) => {
            return ctx.error(format!("stored copy of {} is unreadable: {e}", msg.uid));
        }
    };
    for comp in &mut msg.comps {
        sanitize::incoming(comp);
    }
    match method {
        Method::Request | Method::Publish | Method::Add => request::apply(&ctx, msg, stored),
        Method::Cancel => cancel::apply(&ctx, msg, stored),
        Method::Reply => reply::apply(&ctx, msg, stored),
        Method::Refresh => negotiate::refresh(&ctx, &msg, stored),
        Method::Counter => negotiate::counter(&ctx, &msg, stored),
        Method::DeclineCounter => negotiate::decline_counter(&ctx, &msg, stored),
    }
}

/// `SEQUENCE 3` or `SEQUENCE 3, DTSTAMP …` for reasons.
fn version(comp: &model::Comp) -> String {
    match values::dtstamp(comp) {
        Some(stamp) => format!("SEQUENCE {}, DTSTAMP {stamp}", values::sequence(comp)),
        None => format!("SEQUENCE {}", values::sequence(comp)),
    }
}
