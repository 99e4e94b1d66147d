//! The answer to an attendee's REFRESH (RFC 5546 section 3.2.6): the current version of an
//! event the user organizes, as a REQUEST to the asker. This is the one case where incoming
//! mail causes outgoing mail, and only for an authenticated attendee of the user's own
//! event: the calendar core decides that, and builds the answer.

use crate::imip::{EventText, Mailbox, compose_itip, outgoing};
use imipd_calendar::{Limits, Method, summarize};
use imipd_store::NewMail;
use tracing::warn;

/// The outbox entry sending `request`, the answer the calendar core made to a REFRESH
/// ([`crate::Decided::answer`]), to the attendee who asked; under the queue id of the job.
pub fn answer(
    request: &str,
    user: &str,
    asker: &str,
    limits: &Limits,
    now: i64,
    queue_id: &str,
) -> Option<NewMail> {
    let events = summarize(request, limits).ok()?;
    let event = events.first()?;
    let organizer = event.organizer.clone().unwrap_or_else(|| user.to_string());
    let text = EventText {
        title: event.summary.clone(),
        when: (!event.start.is_empty()).then(|| event.start.clone()),
        location: event.location.clone(),
        organizer: Some(organizer.clone()),
        note: "The current version of the event, as you asked.".into(),
        ..EventText::default()
    };
    let composed = match compose_itip(
        &Mailbox::new(None, &organizer),
        &[Mailbox::new(None, asker)],
        Method::Request,
        request,
        &text,
        now,
    ) {
        Ok(c) => c,
        Err(e) => {
            warn!(user, asker, "cannot answer REFRESH: {e}");
            return None;
        }
    };
    Some(outgoing(user, "refresh", composed, queue_id))
}
