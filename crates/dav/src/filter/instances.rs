//! The occurrences a time-range test is evaluated against (RFC 4791 section 9.9).
//!
//! Recurrence expansion is not this crate's job: the caller supplies an
//! [`Instances`] implementation (the calendar crate's, with its budget and its
//! time-range index). [`Basic`] is a small implementation over calcard's
//! `expand_dates` for tests and for callers without an index.

use crate::query::TimeRange;
use crate::time::Timestamp;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarPeriod,
    ICalendarProperty, ICalendarValue,
};

/// Expansion stopped at its budget; the object must be treated as open-ended
/// (matching every range), never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("recurrence expansion exceeded its budget")]
pub struct BudgetExceeded;

/// One occurrence, shaped by the row of RFC 4791 section 9.9's tables it falls in;
/// each shape carries its own overlap rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    /// `start < range.end AND end > range.start`: VEVENT with DTEND, with a
    /// positive DURATION, or all-day; VJOURNAL on a date.
    Span { start: Timestamp, end: Timestamp },
    /// `range.start <= at < range.end`: VEVENT without end or with zero duration,
    /// VTODO with DTSTART only, VJOURNAL at a date-time, a VALARM trigger.
    Instant(Timestamp),
    /// VTODO with DTSTART and DURATION:
    /// `start <= DTSTART+DURATION AND (end > DTSTART OR end >= DTSTART+DURATION)`.
    TodoDuration { start: Timestamp, end: Timestamp },
    /// VTODO with DTSTART and DUE:
    /// `(start < DUE OR start <= DTSTART) AND (end > DTSTART OR end >= DUE)`.
    TodoDue { start: Timestamp, due: Timestamp },
    /// VTODO with DUE only: `start < DUE AND end >= DUE`.
    Due(Timestamp),
    /// VTODO with COMPLETED and CREATED only.
    CreatedCompleted {
        created: Timestamp,
        completed: Timestamp,
    },
    /// VTODO with COMPLETED only: `start <= COMPLETED AND end >= COMPLETED`.
    Completed(Timestamp),
    /// VTODO with CREATED only: `end > CREATED`.
    Created(Timestamp),
    /// VTODO with none of those: matches every range.
    Always,
}

impl Occurrence {
    pub fn overlaps(&self, r: &TimeRange) -> bool {
        let (s, e) = (r.start_or_min(), r.end_or_max());
        match *self {
            Occurrence::Span { start, end } => s < end && e > start,
            Occurrence::Instant(at) => s <= at && e > at,
            Occurrence::TodoDuration { start, end } => s <= end && (e > start || e >= end),
            Occurrence::TodoDue { start, due } => {
                (s < due || s <= start) && (e > start || e >= due)
            }
            Occurrence::Due(due) => s < due && e >= due,
            Occurrence::CreatedCompleted { created, completed } => {
                (s <= created || s <= completed) && (e >= created || e >= completed)
            }
            Occurrence::Completed(c) => s <= c && e >= c,
            Occurrence::Created(c) => e > c,
            Occurrence::Always => true,
        }
    }

    /// When the occurrence begins, where it has a beginning (for expansion).
    pub fn start(&self) -> Option<Timestamp> {
        match *self {
            Occurrence::Span { start, .. }
            | Occurrence::Instant(start)
            | Occurrence::TodoDuration { start, .. }
            | Occurrence::TodoDue { start, .. } => Some(start),
            _ => None,
        }
    }
}

/// Supplies the occurrences of one component of a calendar object.
pub trait Instances {
    /// The occurrences of `cal.components[comp]` that may overlap `range` (more is
    /// allowed, fewer is not). For a recurring master, the instances replaced by an
    /// override (a component with RECURRENCE-ID) are left out: the override is asked
    /// for separately.
    fn occurrences(
        &self,
        cal: &ICalendar,
        comp: u32,
        range: &TimeRange,
    ) -> Result<Vec<Occurrence>, BudgetExceeded>;
}

/// Occurrences from the component's own properties, and for recurring masters from
/// calcard's `expand_dates` with at most `budget` instances.
#[derive(Debug, Clone, Copy)]
pub struct Basic {
    pub budget: usize,
    /// The zone floating times are read in (the query's or the calendar's timezone).
    pub floating: Tz,
}

impl Default for Basic {
    fn default() -> Self {
        Basic {
            budget: 5_000,
            floating: Tz::UTC,
        }
    }
}

/// A date-time property of a component in UTC, with whether it was a DATE.
pub(crate) fn utc_of(
    cal: &ICalendar,
    entry: &ICalendarEntry,
    floating: Tz,
) -> Option<(Timestamp, bool)> {
    let Some(ICalendarValue::PartialDateTime(dt)) = entry.values.first() else {
        return None;
    };
    let is_date = !dt.has_time();
    let result = dt.to_date_time()?;
    let tz = match (result.tz(), entry.tz_id()) {
        (Some(tz), _) => tz,
        (None, Some(id)) => cal
            .build_tz_resolver()
            .with_default(floating)
            .resolve_or_default(Some(id)),
        (None, None) => floating,
    };
    Some((result.to_date_time_with_tz(tz)?.timestamp(), is_date))
}

/// A FREEBUSY period in UTC.
pub(crate) fn period(v: &ICalendarValue) -> Option<(Timestamp, Timestamp)> {
    let ICalendarValue::Period(p) = v else {
        return None;
    };
    let ts = |dt: &calcard::common::PartialDateTime| {
        dt.to_date_time()?
            .to_date_time_with_tz(Tz::UTC)
            .map(|d| d.timestamp())
    };
    match p {
        ICalendarPeriod::Range { start, end } => Some((ts(start)?, ts(end)?)),
        ICalendarPeriod::Duration { start, duration } => {
            let s = ts(start)?;
            Some((s, s + duration.as_seconds()))
        }
    }
}

fn prop<'a>(comp: &'a ICalendarComponent, name: &ICalendarProperty) -> Option<&'a ICalendarEntry> {
    comp.entries.iter().find(|e| &e.name == name)
}

fn duration_of(comp: &ICalendarComponent) -> Option<i64> {
    match prop(comp, &ICalendarProperty::Duration)?.values.first()? {
        ICalendarValue::Duration(d) => Some(d.as_seconds()),
        _ => None,
    }
}

/// The shape of one occurrence starting at `start` (the component's DTSTART for a
/// single component, or an instance start of a recurring one).
pub fn shape(
    cal: &ICalendar,
    comp: &ICalendarComponent,
    start: Option<(Timestamp, bool)>,
    floating: Tz,
) -> Option<Occurrence> {
    let at = |p: ICalendarProperty| {
        prop(comp, &p)
            .and_then(|e| utc_of(cal, e, floating))
            .map(|(t, _)| t)
    };
    let dtstart = prop(comp, &ICalendarProperty::Dtstart).and_then(|e| utc_of(cal, e, floating));
    match comp.component_type {
        ICalendarComponentType::VEvent => {
            let (s, is_date) = start?;
            let (s0, _) = dtstart.unwrap_or((s, is_date));
            if let Some(end) = at(ICalendarProperty::Dtend) {
                let len = end - s0;
                return Some(if len > 0 {
                    Occurrence::Span {
                        start: s,
                        end: s + len,
                    }
                } else {
                    Occurrence::Instant(s)
                });
            }
            match duration_of(comp) {
                Some(d) if d > 0 => Some(Occurrence::Span {
                    start: s,
                    end: s + d,
                }),
                Some(_) => Some(Occurrence::Instant(s)),
                None if is_date => Some(Occurrence::Span {
                    start: s,
                    end: s + 86_400,
                }),
                None => Some(Occurrence::Instant(s)),
            }
        }
        ICalendarComponentType::VTodo => {
            let due = at(ICalendarProperty::Due);
            match (start, duration_of(comp), due) {
                (Some((s, _)), Some(d), _) => Some(Occurrence::TodoDuration {
                    start: s,
                    end: s + d,
                }),
                (Some((s, _)), None, Some(due)) => {
                    let offset = dtstart.map_or(0, |(s0, _)| s - s0);
                    Some(Occurrence::TodoDue {
                        start: s,
                        due: due + offset,
                    })
                }
                (Some((s, _)), None, None) => Some(Occurrence::Instant(s)),
                (None, _, Some(due)) => Some(Occurrence::Due(due)),
                (None, _, None) => {
                    match (
                        at(ICalendarProperty::Created),
                        at(ICalendarProperty::Completed),
                    ) {
                        (Some(created), Some(completed)) => {
                            Some(Occurrence::CreatedCompleted { created, completed })
                        }
                        (None, Some(c)) => Some(Occurrence::Completed(c)),
                        (Some(c), None) => Some(Occurrence::Created(c)),
                        (None, None) => Some(Occurrence::Always),
                    }
                }
            }
        }
        ICalendarComponentType::VJournal => {
            let (s, is_date) = start?;
            Some(if is_date {
                Occurrence::Span {
                    start: s,
                    end: s + 86_400,
                }
            } else {
                Occurrence::Instant(s)
            })
        }
        _ => None,
    }
}

fn is_recurring(comp: &ICalendarComponent) -> bool {
    comp.entries
        .iter()
        .any(|e| matches!(e.name, ICalendarProperty::Rrule | ICalendarProperty::Rdate))
}

impl Instances for Basic {
    fn occurrences(
        &self,
        cal: &ICalendar,
        comp_id: u32,
        range: &TimeRange,
    ) -> Result<Vec<Occurrence>, BudgetExceeded> {
        let Some(comp) = cal.components.get(comp_id as usize) else {
            return Ok(Vec::new());
        };
        let dtstart =
            prop(comp, &ICalendarProperty::Dtstart).and_then(|e| utc_of(cal, e, self.floating));
        if !is_recurring(comp)
            || comp.component_type == ICalendarComponentType::VTodo && dtstart.is_none()
        {
            return Ok(shape(cal, comp, dtstart, self.floating)
                .into_iter()
                .collect());
        }
        // calcard reads every DTSTART in the zone it is given, a UTC one too: only a
        // floating series is expanded in the floating zone.
        let floating_start = prop(comp, &ICalendarProperty::Dtstart).is_some_and(|e| {
            e.tz_id().is_none()
                && matches!(e.values.first(), Some(ICalendarValue::PartialDateTime(dt)) if !dt.has_zone())
        });
        let zone = if floating_start {
            self.floating
        } else {
            Tz::UTC
        };
        let expanded = cal.expand_dates(zone, self.budget);
        let is_date = dtstart.is_some_and(|(_, d)| d);
        // An override replaces the instance its RECURRENCE-ID names, whatever its
        // SEQUENCE (calcard keeps the master's instance when the override's is lower).
        let overridden: Vec<Timestamp> = cal
            .components
            .iter()
            .filter(|c| c.component_type == comp.component_type)
            .filter_map(|c| prop(c, &ICalendarProperty::RecurrenceId))
            .filter_map(|e| utc_of(cal, e, self.floating).map(|(t, _)| t))
            .collect();
        let mut out = Vec::new();
        let mut last_start = Timestamp::MIN;
        for ev in expanded.events.iter().filter(|ev| ev.comp_id == comp_id) {
            last_start = last_start.max(ev.start.timestamp());
            if overridden.contains(&ev.start.timestamp()) {
                continue;
            }
            if let Some(o) = shape(
                cal,
                comp,
                Some((ev.start.timestamp(), is_date)),
                self.floating,
            ) {
                out.push(o);
            }
        }
        // A series cut off by the budget is still decided for a range that ends before
        // the last instance expanded: every instance overlapping it is in `out`.
        let cut_off = out.len() >= self.budget || expanded.events.len() >= self.budget;
        if cut_off && range.end.is_none_or(|end| last_start < end) {
            return Err(BudgetExceeded);
        }
        Ok(out)
    }
}
