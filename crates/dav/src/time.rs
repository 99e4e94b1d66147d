//! UTC instants as seconds since the epoch, in the iCalendar basic format that
//! CalDAV uses on the wire (`19980101T000000Z`).

/// Seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

use chrono::{DateTime, NaiveDate};

/// Parses `YYYYMMDDTHHMMSSZ`; anything else (no `Z`, a date only) is `None`,
/// because RFC 4791 section 9.9 requires UTC date-times in time-range attributes.
pub fn parse_utc(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !s.is_ascii() {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|d| d.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(4..6)?, digits(6..8)?)?;
    let (h, mi, se) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let day = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(day + i64::from(h * 3600 + mi * 60 + se))
}

/// Appends `t` as `YYYYMMDDTHHMMSSZ`.
pub fn format_utc(t: Timestamp, out: &mut String) {
    if let Some(at) = DateTime::from_timestamp(t, 0) {
        use std::fmt::Write;
        let _ = write!(out, "{}", at.format("%Y%m%dT%H%M%SZ"));
    }
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
