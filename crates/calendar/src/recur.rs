//! Refuses recurrence rules that would make anyone expanding them (this server, a CalDAV
//! client, a phone) spin: huge counts, unbounded sub-minute rules, rules that never match,
//! and rules whose size cannot be estimated at all. Nothing is expanded here; every check is
//! arithmetic on the rules themselves.

use crate::datetime;
use crate::model::Comp;
use calcard::icalendar::{
    ICalendarFrequency, ICalendarProperty, ICalendarRecurrenceRule, ICalendarValue,
};

/// Most RRULE and EXRULE values in one component. RFC 5545 says RRULE SHOULD NOT occur more
/// than once; a few legacy writers use two or three.
const MAX_RULES: usize = 4;
/// Most RRULE, RDATE and EXDATE values in one component.
const MAX_DATES: usize = 1_000;

/// Checks the recurrence of one component: together its rules may yield at most
/// `max_instances` instances ([`crate::Limits::max_instances`]).
pub(crate) fn check(comp: &Comp, max_instances: u64) -> Result<(), String> {
    let start_entry = comp.property(&ICalendarProperty::Dtstart);
    let start = start_entry
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_partial_date_time)
        .and_then(datetime::to_seconds);
    let mut dates = 0usize;
    let mut rules = 0usize;
    let mut instances = 0u64;
    for entry in &comp.entries {
        match entry.name {
            ICalendarProperty::Rrule | ICalendarProperty::Exrule => {
                for value in &entry.values {
                    let ICalendarValue::RecurrenceRule(rule) = value else {
                        return Err(format!(
                            "{} {:?} is not a valid recurrence rule",
                            entry.name.as_str(),
                            crate::model::truncate(value.as_text().unwrap_or(""), 80)
                        ));
                    };
                    let Some(start) = start else {
                        let problem = match start_entry {
                            None => "DTSTART is missing".to_string(),
                            Some(e) => format!(
                                "DTSTART {:?} is not a valid date",
                                crate::values::value_string(e)
                            ),
                        };
                        return Err(format!("{rule}: {problem}; the rule cannot be estimated"));
                    };
                    let estimate = check_rule(rule, start, max_instances)?;
                    if entry.name == ICalendarProperty::Rrule {
                        instances = instances.saturating_add(estimate);
                    }
                }
                rules += entry.values.len();
                dates += entry.values.len();
            }
            ICalendarProperty::Rdate | ICalendarProperty::Exdate => dates += entry.values.len(),
            _ => {}
        }
    }
    if rules > MAX_RULES {
        return Err(format!(
            "{rules} recurrence rules in one component (limit {MAX_RULES})"
        ));
    }
    if instances > max_instances {
        return Err(format!(
            "the recurrence rules of one component allow about {instances} instances, more than {max_instances}"
        ));
    }
    if dates > MAX_DATES {
        return Err(format!(
            "{dates} recurrence dates in one component (limit {MAX_DATES})"
        ));
    }
    Ok(())
}

/// Checks one rule and returns how many instances it yields at most (0 for a rule without
/// COUNT or UNTIL, which is allowed only at hourly or coarser steps: its expansion is
/// bounded by the caller's budget, not by the rule).
fn check_rule(
    rule: &ICalendarRecurrenceRule,
    start: i64,
    max_instances: u64,
) -> Result<u64, String> {
    let text = rule.to_string();
    if rule.interval == Some(0) {
        return Err(format!("{text}: INTERVAL=0 never advances"));
    }
    check_by_rules(rule).map_err(|why| format!("{text}: {why}"))?;
    if let Some(count) = rule.count {
        let count = u64::from(count);
        if count > max_instances {
            return Err(format!(
                "{text}: COUNT={count} is more than {max_instances} instances"
            ));
        }
        return Ok(count);
    }
    let step = step_seconds(rule);
    match &rule.until {
        None if step < 3600 => Err(format!(
            "{text}: a rule more frequent than hourly needs COUNT or UNTIL"
        )),
        None => Ok(0),
        Some(until) => {
            let Some(until) = datetime::to_seconds(until) else {
                return Err(format!(
                    "{text}: UNTIL is not a valid date; the rule cannot be estimated"
                ));
            };
            let span = until.saturating_sub(start).max(0) as u64;
            let instances = span / step.max(1);
            if instances > max_instances {
                return Err(format!(
                    "{text}: UNTIL allows about {instances} instances, more than {max_instances}"
                ));
            }
            Ok(instances)
        }
    }
}

/// The shortest time between two instances, in seconds.
fn step_seconds(rule: &ICalendarRecurrenceRule) -> u64 {
    let base: u64 = match rule.freq {
        ICalendarFrequency::Secondly => 1,
        ICalendarFrequency::Minutely => 60,
        ICalendarFrequency::Hourly => 3600,
        ICalendarFrequency::Daily => 86_400,
        ICalendarFrequency::Weekly => 7 * 86_400,
        ICalendarFrequency::Monthly => 28 * 86_400,
        ICalendarFrequency::Yearly => 365 * 86_400,
    };
    // BY-rules can make a coarse rule fire more often than its FREQ (BYHOUR in a daily rule).
    let finer = if !rule.bysecond.is_empty() {
        1
    } else if !rule.byminute.is_empty() {
        60
    } else if !rule.byhour.is_empty() {
        3600
    } else if !rule.byday.is_empty() || !rule.bymonthday.is_empty() || !rule.byyearday.is_empty() {
        86_400
    } else {
        base
    };
    base.saturating_mul(u64::from(rule.interval.unwrap_or(1)))
        .min(finer.max(1))
}

fn check_by_rules(rule: &ICalendarRecurrenceRule) -> Result<(), String> {
    if rule.bysecond.iter().any(|s| *s > 60) {
        return Err("BYSECOND outside 0..60".into());
    }
    if rule.byminute.iter().any(|m| *m > 59) {
        return Err("BYMINUTE outside 0..59".into());
    }
    if rule.byhour.iter().any(|h| *h > 23) {
        return Err("BYHOUR outside 0..23".into());
    }
    if rule
        .bymonthday
        .iter()
        .any(|d| *d == 0 || !(-31..=31).contains(d))
    {
        return Err("BYMONTHDAY outside 1..31".into());
    }
    if rule
        .byyearday
        .iter()
        .any(|d| *d == 0 || !(-366..=366).contains(d))
    {
        return Err("BYYEARDAY outside 1..366".into());
    }
    if rule
        .byweekno
        .iter()
        .any(|w| *w == 0 || !(-53..=53).contains(w))
    {
        return Err("BYWEEKNO outside 1..53".into());
    }
    if rule
        .bysetpos
        .iter()
        .any(|p| *p == 0 || !(-366..=366).contains(p))
    {
        return Err("BYSETPOS outside 1..366".into());
    }
    let months: Vec<u8> = rule.bymonth.iter().map(|m| m.month()).collect();
    if months.iter().any(|m| !(1..=12).contains(m)) {
        return Err("BYMONTH outside 1..12".into());
    }
    if !rule.bymonthday.is_empty() && !months.is_empty() {
        let possible = months.iter().any(|m| {
            let len = month_length(*m);
            rule.bymonthday
                .iter()
                .any(|d| i16::from(d.unsigned_abs()) <= len)
        });
        if !possible {
            return Err("no BYMONTH has any of the BYMONTHDAY days; the rule never occurs".into());
        }
    }
    let ordinal_limit = match rule.freq {
        ICalendarFrequency::Monthly => 5,
        _ if !rule.bymonth.is_empty() => 5,
        _ => 53,
    };
    if rule
        .byday
        .iter()
        .filter_map(|d| d.ordwk)
        .any(|n| n == 0 || n.unsigned_abs() > ordinal_limit)
    {
        return Err(format!(
            "BYDAY ordinal outside 1..{ordinal_limit}; the rule never occurs"
        ));
    }
    Ok(())
}

/// The longest a month can be (February counts its leap day).
fn month_length(month: u8) -> i16 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
