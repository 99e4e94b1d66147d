//! Naive date arithmetic on iCalendar date-times, enough to shift an instance and to
//! estimate how many instances a rule yields. Time zones are ignored on purpose: both ends
//! of every difference taken here are in the same zone.

use calcard::common::PartialDateTime;
use chrono::{DateTime, Datelike, NaiveDate, Timelike};

/// Seconds since 1970-01-01T00:00:00 in the value's own zone (UTC if it has `Z`); `None`
/// unless the value is a real date (no month 13, no February 30th).
pub(crate) fn to_seconds(dt: &PartialDateTime) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(
        i32::from(dt.year?),
        u32::from(dt.month?),
        u32::from(dt.day?),
    )?;
    let (hour, minute, second) = (
        dt.hour.unwrap_or(0),
        dt.minute.unwrap_or(0),
        dt.second.unwrap_or(0),
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(midnight + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

/// The inverse of [`to_seconds`], keeping `like`'s shape (date only, or with time and zone).
pub(crate) fn from_seconds(seconds: i64, like: &PartialDateTime) -> Option<PartialDateTime> {
    let at = DateTime::from_timestamp(seconds, 0)?.naive_utc();
    let mut out = like.clone();
    out.year = Some(u16::try_from(at.year()).ok().filter(|y| *y <= 9999)?);
    out.month = Some(u8::try_from(at.month()).ok()?);
    out.day = Some(u8::try_from(at.day()).ok()?);
    if like.hour.is_some() {
        out.hour = Some(u8::try_from(at.hour()).ok()?);
        out.minute = Some(u8::try_from(at.minute()).ok()?);
        out.second = Some(u8::try_from(at.second()).ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: u16, mo: u8, d: u8, h: u8) -> PartialDateTime {
        PartialDateTime {
            year: Some(y),
            month: Some(mo),
            day: Some(d),
            hour: Some(h),
            minute: Some(0),
            second: Some(0),
            ..Default::default()
        }
    }

    #[test]
    fn round_trips_and_knows_leap_years() {
        assert_eq!(to_seconds(&dt(1970, 1, 1, 0)), Some(0));
        for (y, m, d, h) in [
            (2026, 2, 29, 0),
            (2026, 2, 30, 0),
            (2026, 13, 1, 0),
            (2026, 4, 31, 0),
            (2026, 1, 1, 24),
        ] {
            assert_eq!(to_seconds(&dt(y, m, d, h)), None, "{y}-{m}-{d} {h}h");
        }
        assert!(to_seconds(&dt(2024, 2, 29, 0)).is_some());
        assert!(to_seconds(&dt(2000, 2, 29, 0)).is_some());
        assert_eq!(to_seconds(&dt(1900, 2, 29, 0)), None);
        assert_eq!(to_seconds(&dt(2026, 1, 1, 0)), Some(1_767_225_600));
        let feb28 = to_seconds(&dt(2024, 2, 28, 10)).unwrap();
        assert_eq!(
            from_seconds(feb28 + 86_400, &dt(2000, 1, 1, 0)),
            Some(dt(2024, 2, 29, 10))
        );
        assert_eq!(
            from_seconds(feb28 + 2 * 86_400, &dt(2000, 1, 1, 0)),
            Some(dt(2024, 3, 1, 10))
        );
    }
}
