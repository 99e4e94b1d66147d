//! Free-busy questions POSTed to a schedule outbox (RFC 6638 section 5): the VFREEBUSY
//! REQUEST read, and the `schedule-response` (section 6.1.4) that answers it, one
//! `response` per recipient.

use crate::escape::text_into;
use crate::filter::instances::utc_of;
use crate::freebusy::{Busy, render_vfreebusy_reply};
use crate::query::TimeRange;
use crate::time::Timestamp;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendarComponentType, ICalendarEntry, ICalendarMethod, ICalendarProperty, ICalendarValue,
};

/// A VFREEBUSY REQUEST: who asks, about whom, for when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyRequest {
    pub uid: String,
    /// The ORGANIZER as written (`mailto:bob@example.org`).
    pub organizer: String,
    /// The ATTENDEEs as written, in order.
    pub attendees: Vec<String>,
    /// Bounded on both sides.
    pub range: TimeRange,
}

/// Why a POST to the outbox is not a free-busy question that can be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotFreeBusy {
    #[error("the body is not an iCalendar object")]
    NotICalendar,
    #[error(
        "only METHOD:REQUEST with one VFREEBUSY is answered here; \
         events are scheduled by PUT into a calendar"
    )]
    NotFreeBusyRequest,
    #[error("the VFREEBUSY has no {0}")]
    Missing(&'static str),
    #[error("the VFREEBUSY ends (DTEND) before it starts (DTSTART)")]
    EmptyRange,
}

/// Reads a POSTed VFREEBUSY REQUEST. A DTSTART or DTEND without a zone is read as UTC.
pub fn parse_freebusy_request(ics: &str) -> Result<FreeBusyRequest, NotFreeBusy> {
    let calcard::Entry::ICalendar(cal) = calcard::Parser::new(ics).entry() else {
        return Err(NotFreeBusy::NotICalendar);
    };
    let is_request = cal.components.first().is_some_and(|root| {
        root.entries.iter().any(|e| {
            e.name == ICalendarProperty::Method
                && matches!(
                    e.values.first(),
                    Some(ICalendarValue::Method(ICalendarMethod::Request))
                )
        })
    });
    let mut busy_comps = cal
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VFreebusy);
    let (Some(comp), None, true) = (busy_comps.next(), busy_comps.next(), is_request) else {
        return Err(NotFreeBusy::NotFreeBusyRequest);
    };
    let entry = |name: &ICalendarProperty| comp.entries.iter().find(|e| &e.name == name);
    let at = |name: ICalendarProperty, label: &'static str| {
        entry(&name)
            .and_then(|e| utc_of(&cal, e, Tz::UTC))
            .map(|(t, _)| t)
            .ok_or(NotFreeBusy::Missing(label))
    };
    let (start, end) = (
        at(ICalendarProperty::Dtstart, "DTSTART")?,
        at(ICalendarProperty::Dtend, "DTEND")?,
    );
    if end <= start {
        return Err(NotFreeBusy::EmptyRange);
    }
    let organizer = entry(&ICalendarProperty::Organizer)
        .and_then(text)
        .ok_or(NotFreeBusy::Missing("ORGANIZER"))?;
    let attendees: Vec<String> = comp
        .entries
        .iter()
        .filter(|e| e.name == ICalendarProperty::Attendee)
        .filter_map(text)
        .collect();
    if attendees.is_empty() {
        return Err(NotFreeBusy::Missing("ATTENDEE"));
    }
    Ok(FreeBusyRequest {
        uid: entry(&ICalendarProperty::Uid)
            .and_then(text)
            .unwrap_or_default(),
        organizer,
        attendees,
        range: TimeRange {
            start: Some(start),
            end: Some(end),
        },
    })
}

fn text(e: &ICalendarEntry) -> Option<String> {
    e.values
        .first()
        .and_then(ICalendarValue::as_text)
        .map(str::to_string)
}

/// What the server can say about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientAnswer {
    /// A user here: their busy time in the range.
    Busy(Vec<Busy>),
    /// Not a user here: no free-busy to give (RFC 5546 request-status 3.7).
    Unknown,
}

/// The `schedule-response` body: one `response` per attendee, in the request's order.
pub fn render_schedule_response(
    req: &FreeBusyRequest,
    answers: Vec<RecipientAnswer>,
    now: Timestamp,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<c:schedule-response");
    out.push_str(crate::response::ROOT_NAMESPACES);
    out.push('>');
    for (attendee, answer) in req.attendees.iter().zip(answers) {
        out.push_str("<c:response><c:recipient><d:href>");
        text_into(attendee, &mut out);
        out.push_str("</d:href></c:recipient><c:request-status>");
        match answer {
            RecipientAnswer::Busy(busy) => {
                out.push_str("2.0;Success</c:request-status><c:calendar-data>");
                text_into(&render_vfreebusy_reply(req, attendee, busy, now), &mut out);
                out.push_str("</c:calendar-data>");
            }
            RecipientAnswer::Unknown => {
                out.push_str("3.7;Invalid calendar user</c:request-status>");
            }
        }
        out.push_str("</c:response>");
    }
    out.push_str("</c:schedule-response>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freebusy::BusyType;

    const ASK: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\n\
        BEGIN:VFREEBUSY\r\nUID:fb-1\r\nDTSTAMP:20260101T000000Z\r\n\
        DTSTART:20260105T090000\r\nDTEND:20260105T180000Z\r\n\
        ORGANIZER:mailto:bob@example.org\r\nATTENDEE:mailto:bob@example.org\r\n\
        ATTENDEE:mailto:kim@elsewhere.example\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";

    #[test]
    fn a_request_is_read_with_floating_times_as_utc() {
        let req = parse_freebusy_request(ASK).unwrap();
        assert_eq!(req.uid, "fb-1");
        assert_eq!(req.organizer, "mailto:bob@example.org");
        assert_eq!(
            req.attendees,
            ["mailto:bob@example.org", "mailto:kim@elsewhere.example"]
        );
        assert_eq!(req.range.start, Some(1_767_603_600));
        assert_eq!(req.range.end, Some(1_767_636_000));
    }

    #[test]
    fn what_is_not_a_freebusy_request_is_named() {
        let cases = [
            ("not ical", NotFreeBusy::NotICalendar),
            (
                &ASK.replace("METHOD:REQUEST", "METHOD:REPLY"),
                NotFreeBusy::NotFreeBusyRequest,
            ),
            (
                &ASK.replace("VFREEBUSY", "VEVENT"),
                NotFreeBusy::NotFreeBusyRequest,
            ),
            (
                &ASK.replace("ORGANIZER:mailto:bob@example.org\r\n", ""),
                NotFreeBusy::Missing("ORGANIZER"),
            ),
            (
                &ASK.replace("DTEND:20260105T180000Z", "DTEND:20260105T080000Z"),
                NotFreeBusy::EmptyRange,
            ),
        ];
        for (ics, want) in cases {
            assert_eq!(parse_freebusy_request(ics), Err(want), "{ics}");
        }
    }

    #[test]
    fn each_recipient_gets_its_status_and_only_known_ones_a_vfreebusy() {
        let req = parse_freebusy_request(ASK).unwrap();
        let busy = Busy {
            start: 1_767_610_800,
            end: 1_767_614_400,
            kind: BusyType::Busy,
        };
        let body = render_schedule_response(
            &req,
            vec![RecipientAnswer::Busy(vec![busy]), RecipientAnswer::Unknown],
            0,
        );
        let parts: Vec<&str> = body.split("<c:response>").skip(1).collect();
        assert_eq!(parts.len(), 2, "{body}");
        assert!(parts[0].contains("2.0;Success"), "{body}");
        assert!(parts[0].contains("METHOD:REPLY"), "{body}");
        assert!(
            parts[0].contains("FREEBUSY:20260105T110000Z/20260105T120000Z"),
            "{body}"
        );
        assert!(parts[1].contains("kim@elsewhere.example"), "{body}");
        assert!(parts[1].contains("3.7;"), "{body}");
        assert!(!parts[1].contains("calendar-data"), "{body}");
    }
}
