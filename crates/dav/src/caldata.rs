//! `calendar-data` and `address-data` as a REPORT asks for them: the stored text
//! unchanged when nothing is asked of it, else the object with its recurrences
//! expanded (RFC 4791 section 9.6.5), its override set limited (9.6.6), its
//! free-busy periods limited (9.6.7) and its components and properties subset
//! (9.6.1), and cards with their properties subset (RFC 6352 section 10.4).

use crate::filter::instances::{BudgetExceeded, Instances, Occurrence, period, utc_of};
use crate::query::{AddressDataRequest, CalendarDataRequest, CompSelect, TimeRange};
use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarProperty, ICalendarValue,
};
use calcard::vcard::VCard;

/// The `calendar-data` value for one object: `stored` (the text as the client sent
/// it) when the request asks for no transformation.
pub fn calendar_data(
    stored: &str,
    cal: &ICalendar,
    req: &CalendarDataRequest,
    instances: &dyn Instances,
) -> Result<String, BudgetExceeded> {
    if req.is_plain() {
        return Ok(stored.to_string());
    }
    let mut out = match &req.expand {
        Some(range) => expand(cal, range, instances)?,
        None => cal.clone(),
    };
    if let Some(range) = &req.limit_recurrence_set {
        out = limit_recurrence_set(&out, range, instances)?;
    }
    if let Some(range) = &req.limit_freebusy_set {
        limit_freebusy_set(&mut out, range);
    }
    if let Some(select) = &req.comp {
        out = subset(&out, select);
    }
    // calcard's writer expects a root component; a selection that keeps nothing
    // (its comp names something other than the object's root) renders as nothing.
    if out.components.is_empty() {
        return Ok(String::new());
    }
    Ok(out.to_string())
}

/// Copies the subtree of `src.components[id]` into `dst`, returning its new index.
/// `keep` decides each child; `entries` rewrites the entries of the copied root.
fn copy_tree(
    src: &ICalendar,
    id: u32,
    dst: &mut ICalendar,
    keep: &dyn Fn(&ICalendarComponent) -> bool,
    entries: Option<Vec<ICalendarEntry>>,
) -> u32 {
    let comp = &src.components[id as usize];
    let new_id = dst.components.len() as u32;
    dst.components.push(ICalendarComponent {
        component_type: comp.component_type.clone(),
        entries: entries.unwrap_or_else(|| comp.entries.clone()),
        component_ids: Vec::new(),
    });
    for &child in &comp.component_ids {
        if src.components.get(child as usize).is_some_and(keep) {
            let c = copy_tree(src, child, dst, &|_| true, None);
            dst.components[new_id as usize].component_ids.push(c);
        }
    }
    new_id
}

/// The VCALENDAR with its properties and no components; `None` for an empty object.
fn root_only(cal: &ICalendar) -> Option<ICalendar> {
    let root = cal.components.first()?;
    Some(ICalendar {
        components: vec![ICalendarComponent {
            component_type: root.component_type.clone(),
            entries: root.entries.clone(),
            component_ids: Vec::new(),
        }],
    })
}

fn has_recurrence(comp: &ICalendarComponent) -> bool {
    comp.entries
        .iter()
        .any(|e| matches!(e.name, ICalendarProperty::Rrule | ICalendarProperty::Rdate))
}

fn has_time_ranges(comp: &ICalendarComponent) -> bool {
    matches!(
        comp.component_type,
        ICalendarComponentType::VEvent
            | ICalendarComponentType::VTodo
            | ICalendarComponentType::VJournal
    )
}

fn overlapping(
    cal: &ICalendar,
    id: u32,
    range: &TimeRange,
    instances: &dyn Instances,
) -> Result<Vec<Occurrence>, BudgetExceeded> {
    Ok(instances
        .occurrences(cal, id, range)?
        .into_iter()
        .filter(|o| o.overlaps(range))
        .collect())
}

fn utc_value(t: i64, date: bool) -> ICalendarValue {
    let mut dt = PartialDateTime::from_utc_timestamp(t);
    if date {
        dt.hour = None;
        dt.minute = None;
        dt.second = None;
        dt.tz_hour = None;
        dt.tz_minute = None;
    }
    ICalendarValue::PartialDateTime(Box::new(dt))
}

fn date_entry(name: ICalendarProperty, t: i64, date: bool) -> ICalendarEntry {
    let params = if date {
        vec![calcard::icalendar::ICalendarParameter {
            name: ICalendarParameterName::Value,
            value: calcard::icalendar::ICalendarParameterValue::Value(
                calcard::icalendar::ICalendarValueType::Date,
            ),
        }]
    } else {
        Vec::new()
    };
    ICalendarEntry {
        name,
        params,
        values: vec![utc_value(t, date)],
    }
}

/// Entries of a component with its date-times in UTC (TZID dropped), as expanded
/// output requires.
fn entries_in_utc(cal: &ICalendar, comp: &ICalendarComponent) -> Vec<ICalendarEntry> {
    comp.entries
        .iter()
        .map(|e| match e.name {
            ICalendarProperty::Dtstart
            | ICalendarProperty::Dtend
            | ICalendarProperty::Due
            | ICalendarProperty::RecurrenceId => match utc_of(cal, e, Tz::UTC) {
                Some((t, date)) => date_entry(e.name.clone(), t, date),
                None => e.clone(),
            },
            _ => e.clone(),
        })
        .collect()
}

/// RFC 4791 section 9.6.5: every instance overlapping the range as its own
/// component with a RECURRENCE-ID, date-times in UTC, no VTIMEZONE.
pub fn expand(
    cal: &ICalendar,
    range: &TimeRange,
    instances: &dyn Instances,
) -> Result<ICalendar, BudgetExceeded> {
    let Some(mut out) = root_only(cal) else {
        return Ok(cal.clone());
    };
    let root = &cal.components[0];
    for &id in &root.component_ids {
        let comp = &cal.components[id as usize];
        if comp.component_type == ICalendarComponentType::VTimezone {
            continue;
        }
        if !has_time_ranges(comp) {
            let c = copy_tree(cal, id, &mut out, &|_| true, None);
            out.components[0].component_ids.push(c);
            continue;
        }
        let occurrences = overlapping(cal, id, range, instances)?;
        if !has_recurrence(comp) {
            if !occurrences.is_empty() {
                let c = copy_tree(
                    cal,
                    id,
                    &mut out,
                    &|_| true,
                    Some(entries_in_utc(cal, comp)),
                );
                out.components[0].component_ids.push(c);
            }
            continue;
        }
        let is_date = comp
            .entries
            .iter()
            .find(|e| e.name == ICalendarProperty::Dtstart)
            .and_then(|e| utc_of(cal, e, Tz::UTC))
            .is_some_and(|(_, d)| d);
        for o in occurrences {
            let Some(start) = o.start() else { continue };
            let mut entries: Vec<ICalendarEntry> = Vec::with_capacity(comp.entries.len() + 1);
            for e in &comp.entries {
                match e.name {
                    ICalendarProperty::Rrule
                    | ICalendarProperty::Rdate
                    | ICalendarProperty::Exdate
                    | ICalendarProperty::Exrule => {}
                    ICalendarProperty::Dtstart => {
                        entries.push(date_entry(ICalendarProperty::Dtstart, start, is_date))
                    }
                    ICalendarProperty::Dtend | ICalendarProperty::Due => {
                        let end = match o {
                            Occurrence::Span { end, .. } => Some(end),
                            Occurrence::TodoDue { due, .. } => Some(due),
                            _ => None,
                        };
                        if let Some(end) = end {
                            entries.push(date_entry(e.name.clone(), end, is_date));
                        }
                    }
                    _ => entries.push(e.clone()),
                }
            }
            entries.push(date_entry(ICalendarProperty::RecurrenceId, start, is_date));
            let c = copy_tree(cal, id, &mut out, &|_| true, Some(entries));
            out.components[0].component_ids.push(c);
        }
    }
    Ok(out)
}

/// RFC 4791 section 9.6.6: the master, and only the overrides overlapping the range.
fn limit_recurrence_set(
    cal: &ICalendar,
    range: &TimeRange,
    instances: &dyn Instances,
) -> Result<ICalendar, BudgetExceeded> {
    let Some(mut out) = root_only(cal) else {
        return Ok(cal.clone());
    };
    for &id in &cal.components[0].component_ids {
        let comp = &cal.components[id as usize];
        let is_override = comp
            .entries
            .iter()
            .any(|e| e.name == ICalendarProperty::RecurrenceId);
        if is_override && overlapping(cal, id, range, instances)?.is_empty() {
            continue;
        }
        let c = copy_tree(cal, id, &mut out, &|_| true, None);
        out.components[0].component_ids.push(c);
    }
    Ok(out)
}

/// RFC 4791 section 9.6.7: FREEBUSY periods outside the range are left out.
fn limit_freebusy_set(cal: &mut ICalendar, range: &TimeRange) {
    let (s, e) = (range.start_or_min(), range.end_or_max());
    for comp in cal
        .components
        .iter_mut()
        .filter(|c| c.component_type == ICalendarComponentType::VFreebusy)
    {
        for entry in comp
            .entries
            .iter_mut()
            .filter(|en| en.name == ICalendarProperty::Freebusy)
        {
            entry.values.retain(|v| {
                !matches!(v, ICalendarValue::Period(_))
                    || period(v).is_some_and(|(ps, pe)| s < pe && e > ps)
            });
        }
        comp.entries
            .retain(|en| en.name != ICalendarProperty::Freebusy || !en.values.is_empty());
    }
}

/// RFC 4791 section 9.6.1: only the named components and properties.
pub fn subset(cal: &ICalendar, select: &CompSelect) -> ICalendar {
    let mut out = ICalendar {
        components: Vec::new(),
    };
    if let Some(root) = cal.components.first()
        && root
            .component_type
            .as_str()
            .eq_ignore_ascii_case(&select.name)
    {
        copy_selected(cal, 0, select, &mut out);
    }
    out
}

fn copy_selected(src: &ICalendar, id: u32, select: &CompSelect, dst: &mut ICalendar) -> u32 {
    let comp = &src.components[id as usize];
    let entries = if select.all_props {
        comp.entries.clone()
    } else {
        comp.entries
            .iter()
            .filter_map(|e| {
                let (_, novalue) = select
                    .props
                    .iter()
                    .find(|(n, _)| e.name.as_str().eq_ignore_ascii_case(n))?;
                let mut e = e.clone();
                if *novalue {
                    e.values = vec![ICalendarValue::Text(String::new())];
                }
                Some(e)
            })
            .collect()
    };
    let new_id = dst.components.len() as u32;
    dst.components.push(ICalendarComponent {
        component_type: comp.component_type.clone(),
        entries,
        component_ids: Vec::new(),
    });
    for &child in &comp.component_ids {
        let c = &src.components[child as usize];
        let child_select = if select.all_comps {
            Some(CompSelect {
                name: c.component_type.as_str().to_string(),
                all_props: true,
                props: Vec::new(),
                all_comps: true,
                comps: Vec::new(),
            })
        } else {
            select
                .comps
                .iter()
                .find(|s| c.component_type.as_str().eq_ignore_ascii_case(&s.name))
                .cloned()
        };
        if let Some(cs) = child_select {
            let n = copy_selected(src, child, &cs, dst);
            dst.components[new_id as usize].component_ids.push(n);
        }
    }
    new_id
}

/// The `address-data` value: `stored` unchanged, or only the named properties
/// (BEGIN, END, VERSION and UID are always kept, as RFC 6352 section 10.4.2 expects
/// a card to stay a card).
pub fn address_data(stored: &str, card: &VCard, req: &AddressDataRequest) -> String {
    let Some(props) = &req.props else {
        return stored.to_string();
    };
    let mut out = card.clone();
    out.entries.retain(|e| {
        let n = e.name.as_str();
        ["VERSION", "UID"].iter().any(|k| n.eq_ignore_ascii_case(k))
            || props.iter().any(|p| p.eq_ignore_ascii_case(n))
    });
    out.to_string()
}
