//! UTC instants as seconds since the epoch, in the iCalendar basic format that
//! CalDAV uses on the wire (`19980101T000000Z`).

/// Seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// Parses `YYYYMMDDTHHMMSSZ`; anything else (no `Z`, a date only) is `None`,
/// because RFC 4791 section 9.9 requires UTC date-times in time-range attributes.
pub fn parse_utc(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Appends `t` as `YYYYMMDDTHHMMSSZ`.
pub fn format_utc(t: Timestamp, out: &mut String) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    use std::fmt::Write;
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_utc_date_times() {
        let cases = [
            ("19700101T000000Z", Some(0)),
            ("20060104T000000Z", Some(1_136_332_800)),
            ("20240229T235959Z", Some(1_709_251_199)),
            ("19941106T084937Z", Some(784_111_777)),
            ("20230229T000000Z", None),
            ("20060104T000000", None),
            ("20060104", None),
            ("2006010AT000000Z", None),
            ("20061304T000000Z", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_utc(input), want, "parse_utc({input:?})");
            if let Some(t) = want {
                let mut s = String::new();
                format_utc(t, &mut s);
                assert_eq!(s, input, "format_utc({t})");
            }
        }
    }
}
