//! What became of an organizer's REQUEST or CANCEL, written back into the organizer's copy as each
//! attendee's SCHEDULE-STATUS (RFC 6638 section 7.3) once the outbox knows: `1.2` when
//! the relay (or the delivery here) took it, `3.7` when the relay refused the recipient,
//! `5.1` when the message was refused for good.

use imipd_calendar::{Limits, identify, with_schedule_status};
use imipd_store::{Batch, Error, Expect, ObjectWrite, OutMail, Store};
use mail_parser::{MessageParser, MimeHeaders};

/// The outbox purposes of an organizer's messages.
const ORGANIZERS: [&str; 2] = ["request", "cancel"];
pub const DELIVERED: &str = "1.2";
pub const NOT_DELIVERED: &str = "5.1";
/// The relay refused the recipient itself (no such mailbox): RFC 6638's invalid calendar
/// user.
pub const NO_SUCH_USER: &str = "3.7";

/// Marks `rcpts` of `mail` with `status` in the organizer's copy of the event the mail
/// carries. Mail that is not an organizer's, and an event gone or changed meanwhile, are
/// left alone: a later message brings its own status.
pub fn record_schedule_status(
    store: &dyn Store,
    mail: &OutMail,
    rcpts: &[String],
    status: &str,
) -> imipd_store::Result<()> {
    if !ORGANIZERS.contains(&mail.purpose.as_str()) || rcpts.is_empty() {
        return Ok(());
    }
    let limits = Limits::default();
    let Some(uid) = calendar_part(&mail.data).and_then(|ics| identify(&ics, &limits).ok()) else {
        return Ok(());
    };
    let Some(object) = store.find_object(&mail.user, &uid.uid)? else {
        return Ok(());
    };
    let Ok(ics) = with_schedule_status(&object.ics, rcpts, status, &limits) else {
        return Ok(());
    };
    if ics == object.ics {
        return Ok(());
    }
    let batch = Batch {
        user: mail.user.clone(),
        writes: vec![ObjectWrite::Put {
            calendar_id: object.calendar_id,
            href: object.href,
            uid: uid.uid,
            ics,
            expect: Expect::Modseq(object.modseq),
        }],
        mails: Vec::new(),
        job: None,
    };
    match store.commit(&batch) {
        // A client wrote the event meanwhile: its version stands.
        Ok(_) | Err(Error::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The iCalendar part of a mail as text.
fn calendar_part(data: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(data)?;
    message
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|t| t.ctype() == "text" && t.subtype() == Some("calendar"))
        })
        .and_then(|p| p.text_contents().map(str::to_string))
}
