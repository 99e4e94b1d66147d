//! Stage 1, detection: find the calendar part of a message, read its METHOD and UID, and
//! produce the headers that let the filter stage (and the user) see what it is.
//!
//! Detection is fail-open: whatever goes wrong, the message is delivered; a part that
//! cannot be used only earns an `X-Imipd-Cal-Error` header that says why.

use imipd_message::find_invitation;
pub use imipd_message::{Invitation, MimeLimits};
use std::ops::Range;

pub const METHOD_HEADER: &str = "X-ME-Cal-Method";
pub const UID_HEADER: &str = "X-ME-Cal-UID";
pub const EXISTS_HEADER: &str = "X-ME-Cal-Exists";
pub const MESSAGE_ID_HEADER: &str = "X-ME-Message-Id";
pub const ERROR_HEADER: &str = "X-Imipd-Cal-Error";

/// Header prefixes only imipd may write: inbound copies are forged and removed.
const OWN_PREFIXES: [&str; 3] = ["x-me-cal-", "x-me-message-id", "x-imipd-"];

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
pub fn scan(message: &[u8], config: &MimeLimits) -> Scan {
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
    use imipd_calendar::Method;

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
    fn plain_calendar_part_is_detected() {
        let msg = format!(
            "From: a@example.org\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        );
        let s = scan(msg.as_bytes(), &MimeLimits::default());
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
