//! Reads a queued mail again and finds its iTIP calendar part: the first `text/calendar`,
//! `application/ics` or `*.ics` part that has a METHOD. Bounded like detection: the mail
//! is hostile input.

use crate::part::is_calendar_part;
use imipd_calendar::{Limits, peek};
use mail_parser::MessageParser;

/// Most MIME parts examined in one message.
const MAX_PARTS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("message cannot be parsed as MIME")]
    Unparsable,
    #[error("too many MIME parts ({0}, limit {MAX_PARTS})")]
    TooManyParts(usize),
    #[error("no calendar part with a METHOD")]
    NoItip,
    /// The reason the first calendar part was refused (too large, not UTF-8, …).
    #[error("{0}")]
    Refused(String),
}

/// An iTIP calendar part found in a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItipPart {
    pub uid: String,
    pub text: String,
}

/// Finds the iTIP part for `uid`, or the first iTIP part if none matches it.
pub fn itip_part(message: &[u8], uid: &str, limits: &Limits) -> Result<ItipPart, ExtractError> {
    let parsed = MessageParser::default()
        .parse(message)
        .ok_or(ExtractError::Unparsable)?;
    if parsed.parts.len() > MAX_PARTS {
        return Err(ExtractError::TooManyParts(parsed.parts.len()));
    }
    let mut first = None;
    let mut refused = None;
    for part in parsed.parts.iter().filter(|p| is_calendar_part(p)) {
        let encoded_len = part.offset_end.saturating_sub(part.offset_body) as usize;
        // Base64 grows data by 4/3: anything far beyond the cap is refused undecoded.
        if encoded_len > limits.max_part_bytes.saturating_mul(4) / 3 + 4096 {
            refused.get_or_insert(format!(
                "calendar part too large ({encoded_len} bytes, limit {} bytes)",
                limits.max_part_bytes
            ));
            continue;
        }
        let data = part.contents();
        match peek(data, limits) {
            Ok(found) => {
                let (Some(_), Some(found_uid)) = (found.method, found.uid) else {
                    continue;
                };
                // peek accepted it, so it is UTF-8.
                let text = String::from_utf8_lossy(data).into_owned();
                let candidate = ItipPart {
                    uid: found_uid,
                    text,
                };
                if candidate.uid == uid {
                    return Ok(candidate);
                }
                first.get_or_insert(candidate);
            }
            Err(e) => {
                refused.get_or_insert(e.to_string());
            }
        }
    }
    match (first, refused) {
        (Some(part), _) => Ok(part),
        (None, Some(reason)) => Err(ExtractError::Refused(reason)),
        (None, None) => Err(ExtractError::NoItip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ics(method: &str, uid: &str) -> String {
        let method = if method.is_empty() {
            String::new()
        } else {
            format!("METHOD:{method}\r\n")
        };
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{method}BEGIN:VEVENT\r\nUID:{uid}\r\n\
             DTSTAMP:20260101T100000Z\r\nDTSTART:20260105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    fn mail(parts: &[(&str, &str, String)]) -> Vec<u8> {
        let mut m = String::from(
            "From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n",
        );
        for (ctype, disposition, body) in parts {
            m.push_str(&format!(
                "--B\r\nContent-Type: {ctype}\r\n{disposition}\r\n{body}\r\n"
            ));
        }
        m.push_str("--B--\r\n");
        m.into_bytes()
    }

    #[test]
    fn finds_the_itip_part() {
        let limits = Limits::default();
        // (case, message, the job's UID, the UID found or the error)
        type Case = (
            &'static str,
            Vec<u8>,
            &'static str,
            Result<&'static str, ExtractError>,
        );
        let cases: Vec<Case> = vec![
            (
                "text/calendar",
                mail(&[
                    ("text/plain", "", "hi".into()),
                    ("text/calendar; method=REQUEST", "", ics("REQUEST", "u1")),
                ]),
                "u1",
                Ok("u1"),
            ),
            (
                "application/ics attachment",
                mail(&[("application/ics", "", ics("CANCEL", "u2"))]),
                "u2",
                Ok("u2"),
            ),
            (
                "octet-stream named .ics",
                mail(&[(
                    "application/octet-stream",
                    "Content-Disposition: attachment; filename=\"invite.ICS\"\r\n",
                    ics("REPLY", "u3"),
                )]),
                "u3",
                Ok("u3"),
            ),
            (
                "a calendar without METHOD is skipped",
                mail(&[
                    ("text/calendar", "", ics("", "u4")),
                    ("text/calendar", "", ics("REQUEST", "u5")),
                ]),
                "u5",
                Ok("u5"),
            ),
            (
                "the part matching the job's UID wins",
                mail(&[
                    ("text/calendar", "", ics("REQUEST", "a")),
                    ("text/calendar", "", ics("REQUEST", "b")),
                ]),
                "b",
                Ok("b"),
            ),
            (
                "no calendar at all",
                mail(&[("text/plain", "", "hello".into())]),
                "u",
                Err(ExtractError::NoItip),
            ),
            (
                "garbage calendar",
                mail(&[("text/calendar", "", "not a calendar".into())]),
                "u",
                Err(ExtractError::Refused("unparsable calendar part".into())),
            ),
        ];
        for (name, message, uid, want) in cases {
            let got = itip_part(&message, uid, &limits).map(|p| p.uid);
            assert_eq!(got.as_deref().map_err(Clone::clone), want, "case {name}");
        }
    }

    #[test]
    fn oversized_part_is_refused() {
        let limits = Limits {
            max_part_bytes: 64,
            ..Limits::default()
        };
        let message = mail(&[("text/calendar", "", ics("REQUEST", "u"))]);
        assert!(matches!(
            itip_part(&message, "u", &limits),
            Err(ExtractError::Refused(r)) if r.contains("too large")
        ));
    }
}
