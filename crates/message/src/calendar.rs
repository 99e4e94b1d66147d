//! The invitation in a mail: the first calendar part (by [`crate::is_calendar_part`]) that
//! is an iTIP message, within the MIME limits, parsed once by the calendar core. The mail
//! is hostile input: every bound is checked before anything is decoded, and a part that
//! cannot be used earns a reason instead of the calendar headers (the seed's rule: a
//! broken attachment is delivered as if there were none).

use crate::part::{is_calendar_part, part_depths};
use imipd_calendar::{ItipMessage, Limits, Method};
use mail_parser::{Message, MimeHeaders};

/// Longest UID accepted: `X-ME-Cal-UID: ` and the UID stay within RFC 5322's 998 octets.
pub const MAX_UID_BYTES: usize = 998 - "X-ME-Cal-UID: ".len();

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
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub method: Method,
    pub uid: String,
    /// The decoded calendar part: what the job carries to the update stage.
    pub calendar: String,
    /// The calendar part parsed, for every recipient's decision.
    pub itip: ItipMessage,
}

/// What the calendar-part rule found in one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalendarScan {
    pub invitation: Option<Invitation>,
    /// Why a calendar part (or the message) could not be used.
    pub error: Option<String>,
    /// Whether any calendar part was seen, usable or not.
    pub had_calendar_part: bool,
}

/// Applies the calendar-part rule to a parsed message.
pub fn find_invitation(message: &Message<'_>, config: &MimeLimits) -> CalendarScan {
    let mut scan = CalendarScan::default();
    if message.parts.len() > config.max_parts {
        scan.had_calendar_part = message.parts.iter().any(is_calendar_part);
        scan.error = Some(format!(
            "too many MIME parts ({}, limit {}): calendar data not examined",
            message.parts.len(),
            config.max_parts
        ));
        return scan;
    }
    let depths = part_depths(&message.parts);
    for (index, part) in message.parts.iter().enumerate() {
        if !is_calendar_part(part) {
            continue;
        }
        scan.had_calendar_part = true;
        let refused = |scan: &mut CalendarScan, why: String| {
            scan.error.get_or_insert(why);
        };
        if depths.get(index).copied().unwrap_or(usize::MAX) > config.max_mime_depth {
            refused(
                &mut scan,
                format!(
                    "calendar part nested deeper than {} MIME levels: not examined",
                    config.max_mime_depth
                ),
            );
            continue;
        }
        let encoded_len = part.offset_end.saturating_sub(part.offset_body) as usize;
        // Base64 grows data by 4/3; anything far beyond the cap is refused undecoded.
        if encoded_len > config.limits.max_part_bytes.saturating_mul(4) / 3 + 4096 {
            refused(
                &mut scan,
                format!(
                    "calendar part too large ({encoded_len} bytes, limit {} bytes)",
                    config.limits.max_part_bytes
                ),
            );
            continue;
        }
        let data = part.contents();
        let itip = match ItipMessage::parse(data, &config.limits) {
            // A calendar without METHOD is not an invitation; a later part may be.
            Ok(None) => continue,
            Ok(Some(itip)) => itip,
            Err(e) => {
                refused(&mut scan, e.to_string());
                continue;
            }
        };
        // RFC 6047 section 2.4: the Content-Type's method must be the calendar's.
        let parameter = part.content_type().and_then(|ct| ct.attribute("method"));
        if let Err(e) = itip.peek().check_content_type_method(parameter) {
            refused(&mut scan, e.to_string());
            continue;
        }
        let uid = itip.uid().to_string();
        if uid.len() > MAX_UID_BYTES || uid.chars().any(char::is_control) {
            refused(
                &mut scan,
                format!(
                    "calendar UID is longer than {MAX_UID_BYTES} bytes or has control \
                     characters: not processed"
                ),
            );
            continue;
        }
        scan.invitation = Some(Invitation {
            method: itip.method(),
            uid,
            // The calendar core accepted it, so it is UTF-8.
            calendar: String::from_utf8_lossy(data).into_owned(),
            itip,
        });
        scan.error = None;
        return scan;
    }
    scan
}
