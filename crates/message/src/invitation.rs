//! The invitation in a mail: the first calendar part (by [`crate::is_calendar_part`]) with
//! a METHOD and a UID, within the MIME limits. The mail is hostile input: every bound is
//! checked before anything is decoded.

use crate::part::{calendar_by_headers, is_calendar_part, part_depths};
use imipd_calendar::{Limits, Method, peek};
use mail_parser::{MessageParser, MimeHeaders};

/// Longest UID copied into a header; longer ones are refused as hostile.
const MAX_UID_BYTES: usize = 1024;

/// How much of a mail's MIME structure is searched for calendar data.
#[derive(Debug, Clone)]
pub struct MimeLimits {
    pub limits: Limits,
    /// Deepest multipart nesting searched.
    pub max_mime_depth: usize,
    /// Most MIME parts in a message that is searched.
    pub max_parts: usize,
}

impl Default for MimeLimits {
    fn default() -> Self {
        MimeLimits {
            limits: Limits::default(),
            max_mime_depth: 16,
            max_parts: 256,
        }
    }
}

/// An iTIP message found in the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub method: Method,
    pub uid: String,
    /// The decoded calendar text, for the filter stage.
    pub calendar: String,
}

/// Finds the invitation in `message`. `Err` says why a calendar part (or the message)
/// could not be used; `had_calendar_part` is set when any calendar part was seen.
pub fn find_invitation(
    message: &[u8],
    config: &MimeLimits,
    had_calendar_part: &mut bool,
) -> Result<Option<Invitation>, String> {
    // Most mail is a single non-calendar part: its headers say so, and the body (which can
    // be large) is never parsed.
    if let Some(head) = MessageParser::default().parse_headers(message) {
        let root = head.root_part();
        let container = root.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                || ct.ctype().eq_ignore_ascii_case("message")
        });
        if !container && !calendar_by_headers(root) {
            return Ok(None);
        }
    }
    let Some(parsed) = MessageParser::default().parse(message) else {
        return Ok(None);
    };
    if parsed.parts.len() > config.max_parts {
        return Err(format!(
            "too many MIME parts ({}, limit {}): calendar data not examined",
            parsed.parts.len(),
            config.max_parts
        ));
    }
    let depths = part_depths(&parsed.parts);
    let mut first_error = None;
    for (index, part) in parsed.parts.iter().enumerate() {
        if !is_calendar_part(part) {
            continue;
        }
        *had_calendar_part = true;
        if depths.get(index).copied().unwrap_or(usize::MAX) > config.max_mime_depth {
            first_error.get_or_insert(format!(
                "calendar part nested deeper than {} MIME levels: not examined",
                config.max_mime_depth
            ));
            continue;
        }
        let encoded_len = part.offset_end.saturating_sub(part.offset_body) as usize;
        // Base64 grows data by 4/3; anything far beyond the cap is refused undecoded.
        if encoded_len > config.limits.max_part_bytes.saturating_mul(4) / 3 + 4096 {
            first_error.get_or_insert(format!(
                "calendar part too large ({encoded_len} bytes, limit {} bytes)",
                config.limits.max_part_bytes
            ));
            continue;
        }
        let data = part.contents();
        match peek(data, &config.limits) {
            Ok(found) => {
                let (Some(method), Some(uid)) = (found.method, found.uid) else {
                    // A calendar without METHOD is not an invitation; a later part may be.
                    continue;
                };
                if uid.len() > MAX_UID_BYTES || uid.chars().any(char::is_control) {
                    first_error
                        .get_or_insert("calendar UID is too long or has control characters".into());
                    continue;
                }
                return Ok(Some(Invitation {
                    method,
                    uid,
                    calendar: String::from_utf8_lossy(data).into_owned(),
                }));
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u-1@example.org\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn attachment_names_are_matched_by_their_last_characters() {
        let with_name = |name: &str| {
            format!(
                "From: a@example.org\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
                 Content-Type: application/octet-stream\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{ICS}\r\n--b--\r\n"
            )
        };
        let cfg = MimeLimits::default();
        for name in ["Réunion.ICS", "invite.ics"] {
            let mut seen = false;
            let found = find_invitation(with_name(name).as_bytes(), &cfg, &mut seen);
            assert!(matches!(found, Ok(Some(_))), "{name}: {found:?}");
        }
        // The last four bytes split "é": no match, and no panic.
        for name in ["xé.é", "é", "notes.txt"] {
            let mut seen = false;
            let found = find_invitation(with_name(name).as_bytes(), &cfg, &mut seen);
            assert!(matches!(found, Ok(None)) && !seen, "{name}: {found:?}");
        }
    }
}
