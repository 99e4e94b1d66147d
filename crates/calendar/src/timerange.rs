//! When a stored object happens: its first and last instant for the CalDAV time-range index
//! (component type, UID, first and last occurrence in UTC, open-ended = +∞), and the
//! instances that overlap a range, for calendar-query time-range filters and `expand`
//! (RFC 4791 section 9.9). Floating times are read as UTC.

use crate::datetime;
use crate::expand::{Expansion, Span};
use crate::object::Object;
use crate::{ItipError, Limits, values};
use calcard::common::PartialDateTime;
use calcard::icalendar::{ICalendarComponentType, ICalendarProperty, ICalendarValue};

/// The widest offset from UTC: a time in a zone nobody can resolve is this far off at most.
const MAX_OFFSET: i64 = 14 * 3600;

/// The type of the components of a calendar object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentType {
    Event,
    Todo,
    Journal,
    FreeBusy,
}

impl ComponentType {
    /// The iCalendar name: `VEVENT`, `VTODO`, `VJOURNAL`, `VFREEBUSY`.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentType::Event => "VEVENT",
            ComponentType::Todo => "VTODO",
            ComponentType::Journal => "VJOURNAL",
            ComponentType::FreeBusy => "VFREEBUSY",
        }
    }

    fn of(kind: &ICalendarComponentType) -> Self {
        match kind {
            ICalendarComponentType::VTodo => ComponentType::Todo,
            ICalendarComponentType::VJournal => ComponentType::Journal,
            ICalendarComponentType::VFreebusy => ComponentType::FreeBusy,
            _ => ComponentType::Event,
        }
    }
}

/// What the time-range index stores for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRange {
    pub component: ComponentType,
    pub uid: String,
    /// Start of the first instance, UTC seconds; `None`: unbounded (an instance without
    /// any usable date, which matches every range).
    pub first_start: Option<i64>,
    /// End of the last instance, UTC seconds; `None`: open-ended (+∞) — a series without
    /// end, or one whose expansion reached [`Limits::max_instances`].
    pub last_end: Option<i64>,
    /// Some start or end is floating (all-day dates too) and was read as UTC: a reader
    /// in another zone sees it up to 14 hours earlier or later.
    pub floating: bool,
}

impl TimeRange {
    /// The span an index keeps, in UTC seconds: from the first start to the last end,
    /// `i64::MIN` and `i64::MAX` for unbounded ends, widened by 14 hours each way when a
    /// floating time makes the instants depend on the reader's zone, so that a query in
    /// any zone finds the object among its candidates.
    pub fn index_span(&self) -> (i64, i64) {
        let widen = if self.floating { MAX_OFFSET } else { 0 };
        (
            self.first_start
                .map_or(i64::MIN, |s| s.saturating_sub(widen)),
            self.last_end.map_or(i64::MAX, |e| e.saturating_add(widen)),
        )
    }
}

/// One instance of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The RECURRENCE-ID that names it: UTC (`20260317T090000Z`), a date for an all-day
    /// series (`20260317`), or as the override writes it; `None` for the one instance of an
    /// object that does not recur.
    pub recurrence_id: Option<String>,
    /// UTC seconds; an instance without usable dates spans `i64::MIN..i64::MAX`.
    pub start: i64,
    pub end: i64,
    /// It has a component of its own in the object (an override).
    pub overridden: bool,
}

/// The instances of an object that overlap a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instances {
    /// Sorted by start.
    pub instances: Vec<Instance>,
    /// `false`: the expansion budget ran out before the end of the range, so instances may
    /// be missing; the object must still be treated as matching.
    pub complete: bool,
}

/// The index entry of a stored object: expanded with calcard, overrides and EXDATEs applied,
/// within [`Limits::max_instances`]. A date in a zone nobody knows is read as UTC and the
/// range widened by 14 hours each way, so the index never misses the object.
pub fn time_range(stored: &str, limits: &Limits) -> Result<TimeRange, ItipError> {
    let object = Object::parse(stored, limits)?;
    let expansion = Expansion::of(&object, limits.max_instances);
    let spans = || {
        expansion
            .series
            .iter()
            .copied()
            .chain(expansion.others.iter().map(|o| o.span))
    };
    let widen = if expansion.guessed_zone {
        MAX_OFFSET
    } else {
        0
    };
    let first_start = spans()
        .map(|s| s.start)
        .min()
        .filter(|s| *s != i64::MIN)
        .map(|s| s.saturating_sub(widen));
    let last_end = spans()
        .map(|s| s.end)
        .max()
        .filter(|e| *e != i64::MAX && !expansion.open_ended)
        .map(|e| e.saturating_add(widen));
    Ok(TimeRange {
        component: ComponentType::of(object.kind()),
        uid: object.uid,
        first_start,
        last_end,
        floating: expansion.floating,
    })
}

/// The instances of a stored object that overlap `start..end` (UTC seconds; RFC 4791
/// section 9.9: an instance overlaps when it starts before `end` and ends after `start`,
/// or, lasting no time at all, starts within the range), with the same budget as
/// [`time_range`].
pub fn instances_between(
    stored: &str,
    start: i64,
    end: i64,
    limits: &Limits,
) -> Result<Instances, ItipError> {
    let object = Object::parse(stored, limits)?;
    let expansion = Expansion::of(&object, limits.max_instances);
    let all_day = object
        .master()
        .and_then(|m| m.property(&ICalendarProperty::Dtstart))
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_partial_date_time)
        .is_some_and(|v| v.hour.is_none());
    let overlaps = |s: &Span| {
        if s.start == s.end {
            start <= s.start && s.start < end
        } else {
            s.start < end && s.end > start
        }
    };
    let replaced: Vec<i64> = expansion.others.iter().filter_map(|o| o.replaces).collect();
    let mut instances: Vec<Instance> = expansion
        .series
        .iter()
        .filter(|s| overlaps(s) && !replaced.contains(&s.start))
        .map(|s| Instance {
            recurrence_id: (expansion.recurring && s.start != i64::MIN)
                .then(|| instance_id(s.start, all_day)),
            start: s.start,
            end: s.end,
            overridden: false,
        })
        .collect();
    instances.extend(
        expansion
            .others
            .iter()
            .filter(|o| overlaps(&o.span))
            .filter_map(|o| {
                let comp = object.comps.get(o.at)?;
                let recurrence_id = values::recurrence_id(comp);
                Some(Instance {
                    overridden: recurrence_id.is_some(),
                    recurrence_id,
                    start: o.span.start,
                    end: o.span.end,
                })
            }),
    );
    instances.sort_by_key(|i| i.start);
    Ok(Instances {
        instances,
        complete: expansion.known_until.is_none_or(|known| known >= end),
    })
}

/// `20260317T090000Z`, or `20260317` for an all-day series (whose dates are read as UTC).
fn instance_id(start: i64, all_day: bool) -> String {
    let like = PartialDateTime::from_utc_timestamp(0);
    let Some(dt) = datetime::from_seconds(start, &like) else {
        return String::new();
    };
    let date = format!(
        "{:04}{:02}{:02}",
        dt.year.unwrap_or(0),
        dt.month.unwrap_or(0),
        dt.day.unwrap_or(0)
    );
    if all_day {
        date
    } else {
        format!(
            "{date}T{:02}{:02}{:02}Z",
            dt.hour.unwrap_or(0),
            dt.minute.unwrap_or(0),
            dt.second.unwrap_or(0)
        )
    }
}
