//! Naive date arithmetic on iCalendar date-times, enough to shift an instance and to
//! estimate how many instances a rule yields. Time zones are ignored on purpose: both ends
//! of every difference taken here are in the same zone.

use calcard::common::PartialDateTime;

/// Seconds since 1970-01-01T00:00:00 in the value's own zone (UTC if it has `Z`); `None`
/// unless the value is a real date (no month 13, no February 30th).
pub(crate) fn to_seconds(dt: &PartialDateTime) -> Option<i64> {
    let year = i64::from(dt.year?);
    let month = i64::from(dt.month?);
    let day = i64::from(dt.day?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (hour, minute, second) = (
        dt.hour.unwrap_or(0),
        dt.minute.unwrap_or(0),
        dt.second.unwrap_or(0),
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(days * 86_400 + secs)
}

/// The inverse of [`to_seconds`], keeping `like`'s shape (date only, or with time and zone).
pub(crate) fn from_seconds(seconds: i64, like: &PartialDateTime) -> Option<PartialDateTime> {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = like.clone();
    out.year = Some(u16::try_from(year).ok().filter(|y| *y <= 9999)?);
    out.month = Some(u8::try_from(month).ok()?);
    out.day = Some(u8::try_from(day).ok()?);
    if like.hour.is_some() {
        out.hour = Some(u8::try_from(rest / 3600).ok()?);
        out.minute = Some(u8::try_from(rest % 3600 / 60).ok()?);
        out.second = Some(u8::try_from(rest % 60).ok()?);
    }
    Some(out)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
