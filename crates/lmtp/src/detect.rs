//! Stage 1, detection: find the calendar part of a message, read its METHOD and UID, and
//! produce the headers that let the filter stage (and the user) see what it is.
//!
//! Detection is fail-open: whatever goes wrong, the message is delivered; a part that
//! cannot be used only earns an `X-Imipd-Cal-Error` header that says why.

use imipd_calendar::{Limits, Method, peek};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::ops::Range;

pub const METHOD_HEADER: &str = "X-ME-Cal-Method";
pub const UID_HEADER: &str = "X-ME-Cal-UID";
pub const EXISTS_HEADER: &str = "X-ME-Cal-Exists";
pub const MESSAGE_ID_HEADER: &str = "X-ME-Message-Id";
pub const ERROR_HEADER: &str = "X-Imipd-Cal-Error";

/// Header prefixes only imipd may write: inbound copies are forged and removed.
const OWN_PREFIXES: [&str; 3] = ["x-me-cal-", "x-me-message-id", "x-imipd-"];

/// Longest UID copied into a header; longer ones are refused as hostile.
const MAX_UID_BYTES: usize = 1024;

#[derive(Debug, Clone)]
pub struct DetectConfig {
    pub limits: Limits,
    /// Deepest multipart nesting searched.
    pub max_mime_depth: usize,
    /// Most MIME parts in a message that is searched.
    pub max_parts: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
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

/// What detection found in one message; shared by all its recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub invitation: Option<Invitation>,
    /// Why a calendar part (or the message) could not be used.
    pub error: Option<String>,
    /// Byte ranges of the top-level header section to drop: forged copies of our headers.
    pub strip: Vec<Range<usize>>,
    /// Whether the message uses CRLF line endings (added headers follow suit).
    pub crlf: bool,
    /// Whether any calendar part was seen, usable or not.
    pub had_calendar_part: bool,
}

impl Scan {
    /// The headers to add for one recipient; `exists` is the calendar holding the UID, if any.
    pub fn headers(&self, exists: Option<&str>) -> String {
        let eol = if self.crlf { "\r\n" } else { "\n" };
        let mut out = String::new();
        if let Some(inv) = &self.invitation {
            out.push_str(&format!("{METHOD_HEADER}: {}{eol}", inv.method.as_lower()));
            out.push_str(&format!("{UID_HEADER}: {}{eol}", inv.uid));
            if let Some(id) = exists {
                out.push_str(&format!("{EXISTS_HEADER}: {}{eol}", one_line(id)));
            }
            out.push_str(&format!(
                "{MESSAGE_ID_HEADER}: {}{eol}",
                thread_message_id(&inv.uid)
            ));
        }
        if let Some(error) = &self.error {
            out.push_str(&format!("{ERROR_HEADER}: {}{eol}", one_line(error)));
        }
        out
    }

    /// The original message without the stripped header lines, as borrowed pieces.
    pub fn kept<'m>(&self, message: &'m [u8]) -> Vec<&'m [u8]> {
        let mut pieces = Vec::with_capacity(self.strip.len() + 1);
        let mut at = 0;
        for range in &self.strip {
            pieces.push(&message[at..range.start]);
            at = range.end;
        }
        pieces.push(&message[at..]);
        pieces.retain(|p| !p.is_empty());
        pieces
    }
}

/// Scans a message. Never fails: problems end up in `Scan::error`.
pub fn scan(message: &[u8], config: &DetectConfig) -> Scan {
    let (header_end, strip) = own_header_lines(message);
    let crlf = message[..header_end.min(message.len())]
        .iter()
        .position(|&b| b == b'\n')
        .is_none_or(|i| i > 0 && message[i - 1] == b'\r');
    let mut result = Scan {
        strip,
        crlf,
        ..Scan::default()
    };
    match find_invitation(message, config, &mut result.had_calendar_part) {
        Ok(invitation) => result.invitation = invitation,
        Err(error) => result.error = Some(error),
    }
    result
}

fn find_invitation(
    message: &[u8],
    config: &DetectConfig,
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

/// Whether a MIME part holds calendar data: a leaf part that is `text/calendar`,
/// `application/ics`, or a file ending in `.ics`.
pub fn is_calendar_part(part: &mail_parser::MessagePart<'_>) -> bool {
    !matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) && calendar_by_headers(part)
}

/// `text/calendar`, `application/ics`, or a file name ending in `.ics`.
fn calendar_by_headers(part: &mail_parser::MessagePart<'_>) -> bool {
    let by_type = part.content_type().is_some_and(|ct| {
        let sub = ct.subtype().unwrap_or("");
        (ct.ctype().eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("calendar"))
            || (ct.ctype().eq_ignore_ascii_case("application") && sub.eq_ignore_ascii_case("ics"))
    });
    by_type
        || part.attachment_name().is_some_and(|name| {
            // `get`, not indexing: the last four bytes may split a UTF-8 character.
            name.len() >= 4
                && name
                    .get(name.len() - 4..)
                    .is_some_and(|ext| ext.eq_ignore_ascii_case(".ics"))
        })
}

/// Multipart nesting depth of every part, walking the tree from the root without recursion.
fn part_depths(parts: &[mail_parser::MessagePart<'_>]) -> Vec<usize> {
    let mut depth = vec![usize::MAX; parts.len()];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((id, d)) = stack.pop() {
        if id >= parts.len() || depth[id] != usize::MAX {
            continue;
        }
        depth[id] = d;
        if let PartType::Multipart(children) = &parts[id].body {
            stack.extend(children.iter().map(|&c| (c as usize, d + 1)));
        }
    }
    depth
}

/// Finds the end of the top-level header section and the header fields we own.
fn own_header_lines(message: &[u8]) -> (usize, Vec<Range<usize>>) {
    let mut strip: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    let mut current_is_ours = false;
    while at < message.len() {
        let end = message[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| at + i + 1);
        let line = &message[at..end];
        if line == b"\r\n" || line == b"\n" {
            return (at, strip);
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if current_is_ours && let Some(last) = strip.last_mut() {
                last.end = end;
            }
        } else {
            let name_end = line.iter().position(|&b| b == b':').unwrap_or(0);
            let name = String::from_utf8_lossy(&line[..name_end]).to_ascii_lowercase();
            let name = name.trim();
            current_is_ours = !name.is_empty() && OWN_PREFIXES.iter().any(|p| name.starts_with(p));
            if current_is_ours {
                strip.push(at..end);
            }
        }
        at = end;
    }
    (at, strip)
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(512)
        .collect()
}

/// A Message-Id that depends only on the UID, so every mail about one event threads together.
pub fn thread_message_id(uid: &str) -> String {
    format!(
        "<{:016x}{:016x}@imipd.cal>",
        fnv1a(uid, 0xcbf2_9ce4_8422_2325),
        fnv1a(uid, 0x6c62_272e_07bb_0142)
    )
}

/// FNV-1a: tiny, stable across releases and platforms (the id must never change).
fn fnv1a(s: &str, seed: u64) -> u64 {
    s.bytes().fold(seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u-1@example.org\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn forged_headers_are_found_with_their_continuations() {
        let msg = b"X-ME-Cal-Method: request\r\nSubject: hi\r\nx-imipd-cal-outcome: added;\r\n  reason=\"x\"\r\nX-ME-Message-Id: <a@b>\r\nFrom: a@b\r\n\r\nX-ME-Cal-UID: body\r\n";
        let (end, strip) = own_header_lines(msg);
        let kept: Vec<u8> = Scan {
            strip,
            ..Scan::default()
        }
        .kept(msg)
        .concat();
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "Subject: hi\r\nFrom: a@b\r\n\r\nX-ME-Cal-UID: body\r\n"
        );
        assert_eq!(&msg[end..end + 2], b"\r\n");
    }

    #[test]
    fn thread_ids_are_stable_and_distinct() {
        assert_eq!(thread_message_id("a"), thread_message_id("a"));
        assert_ne!(thread_message_id("a"), thread_message_id("b"));
        // Pinned: changing it would break threading of mail already delivered.
        assert_eq!(
            thread_message_id("u-1@example.org"),
            "<f2100f73b4fb3298b9ae3d065d45187d@imipd.cal>"
        );
    }

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
        let cfg = DetectConfig::default();
        for name in ["Réunion.ICS", "invite.ics"] {
            let s = scan(with_name(name).as_bytes(), &cfg);
            assert!(s.invitation.is_some(), "{name}: {s:?}");
        }
        // The last four bytes split "é": no match, and no panic.
        for name in ["xé.é", "é", "notes.txt"] {
            let s = scan(with_name(name).as_bytes(), &cfg);
            assert!(
                s.invitation.is_none() && !s.had_calendar_part,
                "{name}: {s:?}"
            );
        }
    }

    #[test]
    fn plain_calendar_part_is_detected() {
        let msg = format!(
            "From: a@example.org\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        );
        let s = scan(msg.as_bytes(), &DetectConfig::default());
        let inv = s.invitation.clone().unwrap();
        assert_eq!(
            (inv.method, inv.uid.as_str()),
            (Method::Request, "u-1@example.org")
        );
        assert!(s.crlf);
        assert_eq!(
            s.headers(Some("default")),
            format!(
                "X-ME-Cal-Method: request\r\nX-ME-Cal-UID: u-1@example.org\r\nX-ME-Cal-Exists: default\r\nX-ME-Message-Id: {}\r\n",
                thread_message_id("u-1@example.org")
            )
        );
    }
}
