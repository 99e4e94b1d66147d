//! calendar-query filters (RFC 4791 section 9.7) against a parsed iCalendar object.

use super::collation;
use super::instances::{BudgetExceeded, Instances, Occurrence, period, utc_of};
use crate::query::{CompFilter, ParamFilter, PropFilter, TextMatch, TimeRange};
use crate::time::Timestamp;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarParameterValue, ICalendarProperty, ICalendarRelated, ICalendarValue,
};

/// Does the object match the filter? `filter` is the outer `VCALENDAR` comp-filter;
/// `floating` is the zone floating date-times are read in (the query's
/// `CALDAV:timezone`, see [`query_timezone`], else the calendar's, else UTC).
///
/// `Err(BudgetExceeded)` means a time-range test could not be decided within the
/// expansion budget: answer the object as a match (open-ended), never drop it.
pub fn matches_calendar(
    filter: &CompFilter,
    cal: &ICalendar,
    instances: &dyn Instances,
    floating: Tz,
) -> Result<bool, BudgetExceeded> {
    let Some(root) = cal.components.first() else {
        return Ok(filter.is_not_defined);
    };
    let is_calendar = root.component_type == ICalendarComponentType::VCalendar;
    if filter.is_not_defined || !filter.name.eq_ignore_ascii_case("VCALENDAR") {
        return Ok(filter.is_not_defined != is_calendar);
    }
    Evaluator {
        cal,
        instances,
        floating,
    }
    .comp(filter, 0)
}

/// The zone of a `CALDAV:timezone` element (or of a `calendar-timezone` property):
/// a VCALENDAR holding one VTIMEZONE. `None` when the text holds none calcard knows.
pub fn query_timezone(text: &str) -> Option<Tz> {
    let calcard::Entry::ICalendar(cal) = calcard::Parser::new(text).entry() else {
        return None;
    };
    cal.components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
        .find_map(|c| c.timezone().map(|(_, tz)| tz))
}

struct Evaluator<'a> {
    cal: &'a ICalendar,
    instances: &'a dyn Instances,
    floating: Tz,
}

impl Evaluator<'_> {
    fn component(&self, id: u32) -> Option<&ICalendarComponent> {
        self.cal.components.get(id as usize)
    }

    /// The nested conditions of `f` against the component `id` (whose name matched).
    fn comp(&self, f: &CompFilter, id: u32) -> Result<bool, BudgetExceeded> {
        let Some(comp) = self.component(id) else {
            return Ok(false);
        };
        if let Some(tr) = &f.time_range
            && !self.time_range(comp, id, tr)?
        {
            return Ok(false);
        }
        for pf in &f.props {
            if !self.prop(pf, comp) {
                return Ok(false);
            }
        }
        for cf in &f.comps {
            let mut named = comp
                .component_ids
                .iter()
                .copied()
                .filter(|c| {
                    self.component(*c)
                        .is_some_and(|c| c.component_type.as_str().eq_ignore_ascii_case(&cf.name))
                })
                .peekable();
            if cf.is_not_defined {
                if named.peek().is_some() {
                    return Ok(false);
                }
                continue;
            }
            let mut any = false;
            for c in named {
                if self.comp(cf, c)? {
                    any = true;
                    break;
                }
            }
            if !any {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn time_range(
        &self,
        comp: &ICalendarComponent,
        id: u32,
        tr: &TimeRange,
    ) -> Result<bool, BudgetExceeded> {
        match comp.component_type {
            ICalendarComponentType::VEvent
            | ICalendarComponentType::VTodo
            | ICalendarComponentType::VJournal => Ok(self
                .instances
                .occurrences(self.cal, id, tr)?
                .iter()
                .any(|o| o.overlaps(tr))),
            ICalendarComponentType::VFreebusy => Ok(self.freebusy(comp, tr)),
            ICalendarComponentType::VAlarm => self.alarm(comp, id, tr),
            _ => Ok(false),
        }
    }

    fn utc(&self, comp: &ICalendarComponent, name: ICalendarProperty) -> Option<Timestamp> {
        comp.entries
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| utc_of(self.cal, e, self.floating))
            .map(|(t, _)| t)
    }

    /// RFC 4791 section 9.9, VFREEBUSY: DTSTART/DTEND, else the FREEBUSY periods.
    fn freebusy(&self, comp: &ICalendarComponent, tr: &TimeRange) -> bool {
        let (s, e) = (tr.start_or_min(), tr.end_or_max());
        if let (Some(start), Some(end)) = (
            self.utc(comp, ICalendarProperty::Dtstart),
            self.utc(comp, ICalendarProperty::Dtend),
        ) {
            return s <= end && e > start;
        }
        comp.entries
            .iter()
            .filter(|en| en.name == ICalendarProperty::Freebusy)
            .flat_map(|en| en.values.iter())
            .any(|v| period(v).is_some_and(|(ps, pe)| s < pe && e > ps))
    }

    /// RFC 4791 section 9.9, VALARM: any trigger time (with its repetitions) of any
    /// occurrence of the parent component falls in the range.
    fn alarm(
        &self,
        alarm: &ICalendarComponent,
        id: u32,
        tr: &TimeRange,
    ) -> Result<bool, BudgetExceeded> {
        let Some(trigger) = alarm
            .entries
            .iter()
            .find(|e| e.name == ICalendarProperty::Trigger)
        else {
            return Ok(false);
        };
        let repeat = alarm
            .entries
            .iter()
            .find(|e| e.name == ICalendarProperty::Repeat)
            .and_then(|e| e.values.first())
            .and_then(ICalendarValue::as_integer)
            .unwrap_or(0)
            .clamp(0, 1000);
        let interval = alarm
            .entries
            .iter()
            .find(|e| e.name == ICalendarProperty::Duration)
            .and_then(|e| match e.values.first() {
                Some(ICalendarValue::Duration(d)) => Some(d.as_seconds()),
                _ => None,
            })
            .unwrap_or(0);
        let span = repeat * interval;
        let fires = |first: Timestamp| {
            (0..=repeat).any(|k| Occurrence::Instant(first + k * interval).overlaps(tr))
        };
        match trigger.values.first() {
            Some(ICalendarValue::PartialDateTime(_)) => {
                Ok(utc_of(self.cal, trigger, Tz::UTC).is_some_and(|(t, _)| fires(t)))
            }
            Some(ICalendarValue::Duration(d)) => {
                let offset = d.as_seconds();
                let related_end = trigger.params.iter().any(|p| {
                    p.name == ICalendarParameterName::Related
                        && matches!(
                            p.value,
                            ICalendarParameterValue::Related(ICalendarRelated::End)
                        )
                });
                let Some(parent) = self
                    .cal
                    .components
                    .iter()
                    .position(|c| c.component_ids.contains(&id))
                else {
                    return Ok(false);
                };
                // The parent occurrences whose alarms can fire in the range.
                let shifted = TimeRange {
                    start: tr
                        .start
                        .map(|s| s.saturating_sub(offset).saturating_sub(span)),
                    end: tr.end.map(|e| e.saturating_sub(offset)),
                };
                let occurrences = self
                    .instances
                    .occurrences(self.cal, parent as u32, &shifted)?;
                Ok(occurrences.iter().any(|o| {
                    let base = if related_end {
                        occurrence_end(o)
                    } else {
                        o.start().or_else(|| occurrence_end(o))
                    };
                    base.is_some_and(|b| fires(b + offset))
                }))
            }
            _ => Ok(false),
        }
    }

    fn prop(&self, pf: &PropFilter, comp: &ICalendarComponent) -> bool {
        let mut entries = comp
            .entries
            .iter()
            .filter(|e| e.name.as_str().eq_ignore_ascii_case(&pf.name))
            .peekable();
        if pf.is_not_defined {
            return entries.peek().is_none();
        }
        entries.any(|entry| {
            pf.time_range.as_ref().is_none_or(|tr| {
                utc_of(self.cal, entry, self.floating)
                    .is_some_and(|(t, _)| Occurrence::Instant(t).overlaps(tr))
            }) && pf
                .text_match
                .as_ref()
                .is_none_or(|tm| value_matches(tm, entry))
                && pf.params.iter().all(|p| param_matches(p, entry))
        })
    }
}

fn occurrence_end(o: &Occurrence) -> Option<Timestamp> {
    match *o {
        Occurrence::Span { end, .. } | Occurrence::TodoDuration { end, .. } => Some(end),
        Occurrence::TodoDue { due, .. } | Occurrence::Due(due) => Some(due),
        Occurrence::Instant(t) => Some(t),
        _ => None,
    }
}

/// A text-match against every value of a property: multi-valued properties
/// (CATEGORIES, RESOURCES) match when one of their values does.
fn value_matches(tm: &TextMatch, entry: &ICalendarEntry) -> bool {
    collation::match_any(
        tm,
        entry.values.iter().filter_map(|v| v.clone().into_text()),
    )
    .unwrap_or(tm.negate)
}

fn param_matches(pf: &ParamFilter, entry: &ICalendarEntry) -> bool {
    let wanted = ICalendarParameterName::try_parse(pf.name.as_bytes());
    super::param_filter(
        pf,
        &entry.params,
        |p| match (&wanted, &p.name) {
            (Some(w), n) if !matches!(w, ICalendarParameterName::Other(_)) => w == n,
            (_, ICalendarParameterName::Other(n)) => n.eq_ignore_ascii_case(&pf.name),
            _ => false,
        },
        |p| match &p.value {
            ICalendarParameterValue::Integer(i) => Some(i.to_string()),
            v => v.as_text().map(str::to_string),
        },
    )
}
