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
    /// For an invitation: the sender's own `References` value (or its `In-Reply-To`
    /// message ids when it has none), which the rendered `References` keeps in front of the
    /// event's thread id. The sender's field is among the stripped lines.
    pub references: Option<String>,
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
            let thread = thread_message_id(&inv.uid);
            out.push_str(&format!("{MESSAGE_ID_HEADER}: {thread}{eol}"));
            // Threading clients (and IMAP THREAD=REFERENCES) put every mail about the
            // event under one parent, however its sender threads it.
            match self.references.as_deref() {
                Some(own) if own.contains(&thread) => {
                    out.push_str(&format!("References:{own}{eol}"))
                }
                Some(own) => out.push_str(&format!("References:{own}{eol} {thread}{eol}")),
                None => out.push_str(&format!("References: {thread}{eol}")),
            }
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
    let (header_end, strip, threading) = own_header_lines(message);
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
    if result.invitation.is_some() {
        result.references = threading.references(message);
        result.strip.extend(threading.references);
        result.strip.sort_by_key(|r| r.start);
    }
    result
}

/// Where the sender's `References` and `In-Reply-To` fields are in the header section.
#[derive(Default)]
struct Threading {
    references: Vec<Range<usize>>,
    in_reply_to: Vec<Range<usize>>,
}

impl Threading {
    /// The sender's `References` value, folding kept (several fields joined); without one,
    /// the message ids of `In-Reply-To` (RFC 5322 section 3.6.4).
    fn references(&self, message: &[u8]) -> Option<String> {
        let value = |r: &Range<usize>| {
            let field = String::from_utf8_lossy(&message[r.clone()]);
            let value = field.split_once(':').map_or("", |(_, v)| v);
            value.trim_end_matches(['\r', '\n']).to_string()
        };
        if !self.references.is_empty() {
            return Some(self.references.iter().map(value).collect());
        }
        let ids: Vec<String> = self
            .in_reply_to
            .iter()
            .map(value)
            .flat_map(|v| {
                v.split('<')
                    .skip(1)
                    .filter_map(|s| s.split_once('>'))
                    .map(|(id, _)| format!(" <{}>", one_line(id.trim())))
                    .collect::<Vec<_>>()
            })
            .collect();
        (!ids.is_empty()).then(|| ids.concat())
    }
}

/// Finds the end of the top-level header section, the header fields we own and those that
/// thread the message.
fn own_header_lines(message: &[u8]) -> (usize, Vec<Range<usize>>, Threading) {
    let mut strip: Vec<Range<usize>> = Vec::new();
    let mut threading = Threading::default();
    let mut at = 0;
    let mut current: Option<&mut Vec<Range<usize>>> = None;
    while at < message.len() {
        let end = message[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| at + i + 1);
        let line = &message[at..end];
        if line == b"\r\n" || line == b"\n" {
            return (at, strip, threading);
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(last) = current.as_mut().and_then(|fields| fields.last_mut()) {
                last.end = end;
            }
        } else {
            let name_end = line.iter().position(|&b| b == b':').unwrap_or(0);
            let name = String::from_utf8_lossy(&line[..name_end]).to_ascii_lowercase();
            let name = name.trim();
            current = match name {
                "" => None,
                "references" => Some(&mut threading.references),
                "in-reply-to" => Some(&mut threading.in_reply_to),
                _ if OWN_PREFIXES.iter().any(|p| name.starts_with(p)) => Some(&mut strip),
                _ => None,
            };
            if let Some(fields) = current.as_mut() {
                fields.push(at..end);
            }
        }
        at = end;
    }
    (at, strip, threading)
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
        let (end, strip, _) = own_header_lines(msg);
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
                "X-ME-Cal-Method: request\r\nX-ME-Cal-UID: u-1@example.org\r\nX-ME-Cal-Exists: default\r\nX-ME-Message-Id: {0}\r\nReferences: {0}\r\n",
                thread_message_id("u-1@example.org")
            )
        );
    }

    #[test]
    fn references_keep_the_senders_own_and_end_with_the_thread_id() {
        let thread = thread_message_id("u-1@example.org");
        let invitation = "Content-Type: text/calendar; method=REQUEST\r\n";
        // (sender's threading fields, calendar part?, the References we render, what of
        // the sender's fields stays in the message)
        let cases: &[(&str, bool, Option<String>, &str)] = &[
            ("", true, Some(format!("References: {thread}\r\n")), ""),
            (
                "References: <a@x>\r\n <b@x>\r\n",
                true,
                Some(format!("References: <a@x>\r\n <b@x>\r\n {thread}\r\n")),
                "",
            ),
            (
                "In-Reply-To: <a@x> (the last one)\r\n",
                true,
                Some(format!("References: <a@x>\r\n {thread}\r\n")),
                "In-Reply-To: <a@x> (the last one)\r\n",
            ),
            (
                "In-Reply-To: <a@x>\r\nReferences: <r@x>\r\n",
                true,
                Some(format!("References: <r@x>\r\n {thread}\r\n")),
                "In-Reply-To: <a@x>\r\n",
            ),
            (
                &format!("References: <a@x> {thread}\r\n"),
                true,
                Some(format!("References: <a@x> {thread}\r\n")),
                "",
            ),
            (
                "References: <a@x>\r\n",
                false,
                None,
                "References: <a@x>\r\n",
            ),
        ];
        for (fields, calendar, rendered, kept) in cases {
            let content = if *calendar { invitation } else { "" };
            let msg = format!("Subject: s\r\n{fields}{content}\r\n{ICS}");
            let s = scan(msg.as_bytes(), &MimeLimits::default());
            let headers = s.headers(None);
            // References is the last header rendered here (no error header).
            let got = headers
                .find("References:")
                .map(|at| headers[at..].to_string());
            assert_eq!(&got, rendered, "{fields:?}: the References rendered");
            let left = String::from_utf8(s.kept(msg.as_bytes()).concat()).unwrap();
            let head = &left[..left.find("\r\n\r\n").unwrap() + 2];
            let left: String = head
                .split_inclusive("\r\n")
                .filter(|l| !l.starts_with("Subject") && !l.starts_with("Content-Type"))
                .collect();
            assert_eq!(left, *kept, "{fields:?}: what stays of the sender's fields");
        }
    }
}
