//! Who may change what: the checks that keep a forged or stray message out of a calendar.

use crate::itip::context::Ctx;
use crate::object::Object;
use crate::values;

/// The user appears as ATTENDEE of some component of `object`.
pub(crate) fn user_is_attendee(ctx: &Ctx<'_>, object: &Object) -> bool {
    object.comps.iter().any(|c| {
        values::attendees(c)
            .filter_map(values::address_of)
            .any(|a| ctx.user.contains(&a))
    })
}

/// An organizer's message (REQUEST, ADD, CANCEL, PUBLISH, DECLINECOUNTER) may change a
/// stored event only when it comes from that event's organizer, from the delegate the
/// stored ORGANIZER names in SENT-BY, or from a trusted delegate, and does not try to hand
/// the event to another organizer. The message's own SENT-BY gives no right: whoever sends
/// it writes it.
pub(crate) fn organizer_may_change(
    ctx: &Ctx<'_>,
    stored: &Object,
    message: &Object,
) -> Result<String, String> {
    let uid = &ctx.uid;
    let Some(organizer) = stored.organizer() else {
        return Err(format!(
            "stored {uid} has no ORGANIZER (a private event); a {} from {} cannot change it",
            ctx.method, ctx.sender
        ));
    };
    if let Some(claimed) = message.organizer()
        && claimed != organizer
    {
        return Err(format!(
            "{} for {uid} names ORGANIZER {claimed} but the stored organizer is {organizer}; an ORGANIZER change is never applied",
            ctx.method
        ));
    }
    let delegate = stored.organizer_sent_by();
    if ctx.sender == organizer
        || delegate.as_deref() == Some(&ctx.sender)
        || ctx.is_trusted_delegate()
    {
        Ok(organizer)
    } else {
        Err(format!(
            "sender {} is not the organizer {organizer} of {uid}",
            ctx.sender
        ))
    }
}

/// The user is the ORGANIZER of the stored event (REPLY, REFRESH, COUNTER go to them).
pub(crate) fn user_is_organizer(ctx: &Ctx<'_>, stored: &Object) -> Result<String, String> {
    match stored.organizer() {
        Some(organizer) if ctx.user.contains(&organizer) => Ok(organizer),
        Some(organizer) => Err(format!(
            "{} is not the organizer of {} (the organizer is {organizer}); a {} goes to the organizer",
            ctx.user_name(),
            ctx.uid,
            ctx.method
        )),
        None => Err(format!(
            "stored {} has no ORGANIZER; a {} has nobody to go to",
            ctx.uid, ctx.method
        )),
    }
}

/// The sender is an ATTENDEE of the stored event.
pub(crate) fn sender_is_attendee(ctx: &Ctx<'_>, stored: &Object) -> bool {
    stored
        .comps
        .iter()
        .any(|c| values::attendee_index(c, &ctx.sender).is_some())
}

/// All components of one message name the same ORGANIZER (or none): an override must not
/// smuggle in another organizer than its master.
pub(crate) fn one_organizer(message: &Object) -> Result<(), String> {
    let mut named = message.comps.iter().filter_map(values::organizer);
    let Some(first) = named.next() else {
        return Ok(());
    };
    match named.find(|other| *other != first) {
        Some(other) => Err(format!(
            "{} names two ORGANIZERs ({first} and {other}); refused",
            message.uid
        )),
        None => Ok(()),
    }
}
