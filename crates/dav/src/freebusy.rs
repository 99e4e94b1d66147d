//! The answer to `CALDAV:free-busy-query` (RFC 4791 section 7.10): the busy time of
//! the objects in a calendar within a range, as one VFREEBUSY.

use crate::filter::instances::{BudgetExceeded, Instances, Occurrence, period};
use crate::query::TimeRange;
use crate::schedule::FreeBusyRequest;
use crate::time::{Timestamp, format_utc};
use calcard::icalendar::{
    ICalendar, ICalendarComponentType, ICalendarParameterName, ICalendarProperty, ICalendarStatus,
    ICalendarTransparency,
};

/// `FBTYPE` of a busy period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BusyType {
    Busy,
    BusyTentative,
    BusyUnavailable,
}

impl BusyType {
    fn name(self) -> &'static str {
        match self {
            BusyType::Busy => "BUSY",
            BusyType::BusyTentative => "BUSY-TENTATIVE",
            BusyType::BusyUnavailable => "BUSY-UNAVAILABLE",
        }
    }
}

/// One busy period, clipped to the query's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub start: Timestamp,
    pub end: Timestamp,
    pub kind: BusyType,
}

/// Appends the busy periods of one object. RFC 4791 section 7.10: VEVENTs that
/// are TRANSPARENT or CANCELLED are free, TENTATIVE ones BUSY-TENTATIVE; the
/// FREEBUSY periods of VFREEBUSY components count with their FBTYPE.
/// `range` must be bounded on both sides.
pub fn busy_periods(
    cal: &ICalendar,
    range: &TimeRange,
    instances: &dyn Instances,
    out: &mut Vec<Busy>,
) -> Result<(), BudgetExceeded> {
    let (rs, re) = (range.start_or_min(), range.end_or_max());
    let mut push = |start: Timestamp, end: Timestamp, kind: BusyType| {
        let (s, e) = (start.max(rs), end.min(re));
        if s < e {
            out.push(Busy {
                start: s,
                end: e,
                kind,
            });
        }
    };
    for (id, comp) in cal.components.iter().enumerate() {
        match comp.component_type {
            ICalendarComponentType::VEvent => {
                if comp.transparency() == Some(&ICalendarTransparency::Transparent) {
                    continue;
                }
                let kind = match comp.status() {
                    Some(ICalendarStatus::Cancelled) => continue,
                    Some(ICalendarStatus::Tentative) => BusyType::BusyTentative,
                    _ => BusyType::Busy,
                };
                for o in instances.occurrences(cal, id as u32, range)? {
                    // Events without duration take no time (RFC 4791 section 7.10).
                    if let Occurrence::Span { start, end } = o {
                        push(start, end, kind);
                    }
                }
            }
            ICalendarComponentType::VFreebusy => {
                for entry in comp
                    .entries
                    .iter()
                    .filter(|e| e.name == ICalendarProperty::Freebusy)
                {
                    let kind = entry
                        .params
                        .iter()
                        .find(|p| p.name == ICalendarParameterName::Fbtype)
                        .map(|p| p.value.as_text().unwrap_or("BUSY").to_string());
                    let kind = match kind.as_deref() {
                        Some(k) if k.eq_ignore_ascii_case("FREE") => continue,
                        Some(k) if k.eq_ignore_ascii_case("BUSY-TENTATIVE") => {
                            BusyType::BusyTentative
                        }
                        Some(k) if k.eq_ignore_ascii_case("BUSY-UNAVAILABLE") => {
                            BusyType::BusyUnavailable
                        }
                        _ => BusyType::Busy,
                    };
                    for (s, e) in entry.values.iter().filter_map(period) {
                        push(s, e, kind);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Merges overlapping periods of the same type and renders the VCALENDAR with one
/// VFREEBUSY (`now` is its DTSTAMP).
pub fn render_vfreebusy(range: &TimeRange, busy: Vec<Busy>, now: Timestamp) -> String {
    render(range, busy, now, None)
}

/// The VFREEBUSY REPLY (RFC 5546 section 3.3.3) of `attendee` to a free-busy request.
pub fn render_vfreebusy_reply(
    req: &FreeBusyRequest,
    attendee: &str,
    busy: Vec<Busy>,
    now: Timestamp,
) -> String {
    render(&req.range, busy, now, Some((req, attendee)))
}

fn render(
    range: &TimeRange,
    mut busy: Vec<Busy>,
    now: Timestamp,
    reply: Option<(&FreeBusyRequest, &str)>,
) -> String {
    busy.sort_by_key(|b| (b.kind, b.start, b.end));
    let mut merged: Vec<Busy> = Vec::with_capacity(busy.len());
    for b in busy {
        match merged.last_mut() {
            Some(last) if last.kind == b.kind && b.start <= last.end => {
                last.end = last.end.max(b.end)
            }
            _ => merged.push(b),
        }
    }
    merged.sort_by_key(|b| (b.start, b.kind));
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//imipd//CalDAV//EN\r\n");
    if reply.is_some() {
        out.push_str("METHOD:REPLY\r\n");
    }
    out.push_str("BEGIN:VFREEBUSY\r\n");
    if let Some((req, attendee)) = reply {
        for (name, value) in [
            ("UID", req.uid.as_str()),
            ("ORGANIZER", req.organizer.as_str()),
            ("ATTENDEE", attendee),
        ] {
            if !value.is_empty() {
                out.push_str(name);
                out.push(':');
                out.push_str(&value.replace(['\r', '\n'], ""));
                out.push_str("\r\n");
            }
        }
    }
    out.push_str("DTSTAMP:");
    format_utc(now, &mut out);
    for (name, t) in [("DTSTART", range.start), ("DTEND", range.end)] {
        if let Some(t) = t {
            out.push_str("\r\n");
            out.push_str(name);
            out.push(':');
            format_utc(t, &mut out);
        }
    }
    out.push_str("\r\n");
    for b in merged {
        out.push_str("FREEBUSY");
        if b.kind != BusyType::Busy {
            out.push_str(";FBTYPE=");
            out.push_str(b.kind.name());
        }
        out.push(':');
        format_utc(b.start, &mut out);
        out.push('/');
        format_utc(b.end, &mut out);
        out.push_str("\r\n");
    }
    out.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    out
}
