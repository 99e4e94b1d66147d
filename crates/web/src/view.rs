//! Calendar data as the pages show it: times in words, instances of a stored object with
//! their summaries. Pure: nothing here reads the store or the clock.

use chrono::{DateTime, Utc};
use imipd_calendar::{EventSummary, Instance, Limits, instances_between, summarize};

pub const DAY: i64 = 86_400;

fn utc(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// `Tue 2026-12-08 10:00–11:00 UTC`; `Tue 2026-12-08 (all day)` for dates.
pub fn span_text(start: i64, end: i64, all_day: bool) -> String {
    let (Some(s), Some(e)) = (utc(start), utc(end)) else {
        return "no date".into();
    };
    if all_day {
        return format!("{} (all day)", s.format("%a %Y-%m-%d"));
    }
    if s.date_naive() == e.date_naive() || end <= start {
        format!(
            "{}–{} UTC",
            s.format("%a %Y-%m-%d %H:%M"),
            e.format("%H:%M")
        )
    } else {
        format!(
            "{} – {} UTC",
            s.format("%a %Y-%m-%d %H:%M"),
            e.format("%a %Y-%m-%d %H:%M")
        )
    }
}

/// The start in the organizer's zone, when the event names one other than UTC.
pub fn in_zone(start: i64, zone: Option<&str>) -> Option<String> {
    let zone = zone?;
    let tz: chrono_tz::Tz = zone.parse().ok()?;
    if tz == chrono_tz::UTC {
        return None;
    }
    let local = utc(start)?.with_timezone(&tz);
    Some(format!("{} {zone}", local.format("%a %Y-%m-%d %H:%M")))
}

/// `Mon 2026-12-07 10:00 UTC`.
pub fn moment(secs: i64) -> String {
    utc(secs).map_or_else(String::new, |d| {
        d.format("%a %Y-%m-%d %H:%M UTC").to_string()
    })
}

pub fn date_of(secs: i64) -> String {
    utc(secs).map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

pub fn time_of(secs: i64) -> String {
    utc(secs).map_or_else(String::new, |d| d.format("%H:%M").to_string())
}

/// One instance of an event, with the component that describes it.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub start: i64,
    pub end: i64,
    pub all_day: bool,
    pub summary: EventSummary,
}

impl Occurrence {
    pub fn cancelled(&self) -> bool {
        self.summary.status.eq_ignore_ascii_case("CANCELLED")
    }
}

/// The instances of `ics` that overlap `start..end`, each with its override's summary when
/// it has one, else the series'.
pub fn occurrences(ics: &str, start: i64, end: i64, limits: &Limits) -> Vec<Occurrence> {
    let (Ok(summaries), Ok(found)) = (
        summarize(ics, limits),
        instances_between(ics, start, end, limits),
    ) else {
        return Vec::new();
    };
    let master = summaries
        .iter()
        .find(|s| s.recurrence_id.is_none())
        .or(summaries.first());
    found
        .instances
        .iter()
        .filter(|i| i.start != i64::MIN)
        .filter_map(|i| {
            let own = summaries
                .iter()
                .find(|s| {
                    i.overridden && s.recurrence_id.is_some() && s.recurrence_id == i.recurrence_id
                })
                .or(master)?;
            Some(occurrence(i, own))
        })
        .collect()
}

fn occurrence(i: &Instance, summary: &EventSummary) -> Occurrence {
    Occurrence {
        start: i.start,
        end: i.end,
        all_day: summary.start.len() == 8,
        summary: summary.clone(),
    }
}

/// The instance an invitation card shows: the next one from `now` on, else the last.
pub fn next_occurrence(ics: &str, now: i64, limits: &Limits) -> Option<Occurrence> {
    let all = occurrences(ics, now - 400 * DAY, now + 20 * 366 * DAY, limits);
    all.iter().find(|o| o.end > now).or(all.last()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n\
        UID:w@example.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261207T100000Z\r\n\
        DTEND:20261207T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:w@example.com\r\nDTSTAMP:20260101T000000Z\r\n\
        RECURRENCE-ID:20261214T100000Z\r\nDTSTART:20261214T100000Z\r\nDTEND:20261214T110000Z\r\n\
        STATUS:CANCELLED\r\nSUMMARY:Standup (off)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn recurrences_expand_with_their_overrides() {
        let start = 1_796_601_600; // 2026-12-07T00:00Z
        let got = occurrences(WEEKLY, start, start + 21 * DAY, &Limits::default());
        let seen: Vec<(String, String, bool)> = got
            .iter()
            .map(|o| (date_of(o.start), o.summary.summary.clone(), o.cancelled()))
            .collect();
        assert_eq!(
            seen,
            [
                ("2026-12-07".into(), "Standup".into(), false),
                ("2026-12-14".into(), "Standup (off)".into(), true),
                ("2026-12-21".into(), "Standup".into(), false),
            ]
        );
    }

    #[test]
    fn times_read_as_utc_and_in_the_organizers_zone() {
        let start = 1_796_637_600; // 2026-12-07T10:00Z
        assert_eq!(
            span_text(start, start + 3600, false),
            "Mon 2026-12-07 10:00–11:00 UTC"
        );
        assert_eq!(
            in_zone(start, Some("Europe/Paris")).as_deref(),
            Some("Mon 2026-12-07 11:00 Europe/Paris")
        );
        assert_eq!(in_zone(start, Some("UTC")), None);
        assert_eq!(in_zone(start, Some("Nowhere/Else")), None);
    }
}
