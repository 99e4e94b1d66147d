//! Calendar data as the pages show it: times in words, instances of a stored object with
//! their summaries. Pure: nothing here reads the store or the clock.

use chrono::{DateTime, NaiveDate, TimeZone};
use chrono_tz::Tz;
use imipd_calendar::{EventSummary, Instance, Limits, instances_between, summarize};

pub const DAY: i64 = 86_400;

fn local(secs: i64, zone: Tz) -> Option<DateTime<Tz>> {
    DateTime::from_timestamp(secs, 0).map(|d| d.with_timezone(&zone))
}

/// `Tue 2026-12-08 10:00–11:00 Europe/Berlin`; `Tue 2026-12-08 (all day)` for dates, which
/// are the same day in every zone (they are read as UTC midnights).
pub fn span_text(start: i64, end: i64, all_day: bool, zone: Tz) -> String {
    if all_day {
        return local(start, chrono_tz::UTC).map_or_else(
            || "no date".into(),
            |s| format!("{} (all day)", s.format("%a %Y-%m-%d")),
        );
    }
    let (Some(s), Some(e)) = (local(start, zone), local(end, zone)) else {
        return "no date".into();
    };
    if s.date_naive() == e.date_naive() || end <= start {
        format!(
            "{}–{} {zone}",
            s.format("%a %Y-%m-%d %H:%M"),
            e.format("%H:%M")
        )
    } else {
        format!(
            "{} – {} {zone}",
            s.format("%a %Y-%m-%d %H:%M"),
            e.format("%a %Y-%m-%d %H:%M")
        )
    }
}

/// The start in the organizer's zone, when the event names one other than the user's.
pub fn in_zone(start: i64, organizer: Option<&str>, zone: Tz) -> Option<String> {
    let theirs: Tz = organizer?.parse().ok()?;
    if theirs == zone {
        return None;
    }
    Some(moment(start, theirs))
}

/// `Mon 2026-12-07 10:00 UTC`.
pub fn moment(secs: i64, zone: Tz) -> String {
    local(secs, zone).map_or_else(String::new, |d| {
        format!("{} {zone}", d.format("%a %Y-%m-%d %H:%M"))
    })
}

pub fn date_of(secs: i64, zone: Tz) -> String {
    local(secs, zone).map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

pub fn time_of(secs: i64, zone: Tz) -> String {
    local(secs, zone).map_or_else(String::new, |d| d.format("%H:%M").to_string())
}

/// When `day` begins in `zone` (its first moment, also on a day that skips midnight).
pub fn day_start(day: NaiveDate, zone: Tz) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            // Midnight is skipped (a DST change at 00:00): the day begins an hour later.
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc().timestamp(), |d| d.timestamp())
}

/// One instance of an event, with the component that describes it.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// The RECURRENCE-ID that names it in a recurring series.
    pub recurrence_id: Option<String>,
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
        recurrence_id: i.recurrence_id.clone(),
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
            .map(|o| {
                (
                    date_of(o.start, chrono_tz::UTC),
                    o.summary.summary.clone(),
                    o.cancelled(),
                )
            })
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
    fn times_read_in_the_users_zone_and_in_the_organizers_zone() {
        use chrono_tz::{America, Europe, UTC};
        let start = 1_796_637_600; // 2026-12-07T10:00Z
        assert_eq!(
            span_text(start, start + 3600, false, UTC),
            "Mon 2026-12-07 10:00–11:00 UTC"
        );
        assert_eq!(
            span_text(start, start + 3600, false, Europe::Berlin),
            "Mon 2026-12-07 11:00–12:00 Europe/Berlin"
        );
        // 10:00Z is 02:00 in Los Angeles; 13:00Z is 02:00 of the next day in Auckland.
        assert_eq!(time_of(start, America::Los_Angeles), "02:00");
        assert_eq!(
            moment(start + 3 * 3600, chrono_tz::Pacific::Auckland),
            "Tue 2026-12-08 02:00 Pacific/Auckland"
        );
        assert_eq!(
            in_zone(start, Some("Europe/Paris"), UTC).as_deref(),
            Some("Mon 2026-12-07 11:00 Europe/Paris")
        );
        assert_eq!(
            in_zone(start, Some("UTC"), Europe::Berlin).as_deref(),
            Some("Mon 2026-12-07 10:00 UTC")
        );
        assert_eq!(in_zone(start, Some("Europe/Berlin"), Europe::Berlin), None);
        assert_eq!(in_zone(start, Some("UTC"), UTC), None);
        assert_eq!(in_zone(start, Some("Nowhere/Else"), UTC), None);
        // A date is the same day wherever the user is.
        let date = 1_796_601_600; // 2026-12-07
        assert_eq!(
            span_text(date, date + DAY, true, America::Los_Angeles),
            "Mon 2026-12-07 (all day)"
        );
    }

    #[test]
    fn a_day_begins_at_the_users_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(day_start(day, chrono_tz::UTC), 1_796_601_600);
        assert_eq!(
            day_start(day, chrono_tz::Europe::Berlin),
            1_796_601_600 - 3600
        );
        // Santiago skips from 23:59:59 to 01:00 on 2026-09-06.
        let skipped = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let begins = day_start(skipped, chrono_tz::America::Santiago);
        assert_eq!(time_of(begins, chrono_tz::America::Santiago), "01:00");
    }
}
