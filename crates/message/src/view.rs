//! [`MessageView`]: one MIME parse of a message, made once per delivery and borrowed by
//! every stage — detection (the calendar part and the forged headers), the header facts,
//! the Sieve stage ([`crate::SieveView`]) and the job (the chosen calendar part).

use crate::calendar::{CalendarScan, MimeLimits, find_invitation};
use crate::facts::HeaderFacts;
use crate::header;
use mail_parser::{Header, HeaderName, Message, MessageParser};
use std::ops::Range;

/// Header prefixes only imipd may write: inbound copies are forged and removed.
const OWN_PREFIXES: [&str; 3] = ["x-me-cal-", "x-me-message-id", "x-imipd-"];

pub struct MessageView<'m> {
    raw: &'m [u8],
    pub(crate) mime: Message<'m>,
    /// Byte ranges of the top-level header fields to drop: forged copies of imipd's own.
    pub strip: Vec<Range<usize>>,
    /// Whether the message uses CRLF line endings (added headers follow suit).
    pub crlf: bool,
    pub facts: HeaderFacts,
    pub calendar: CalendarScan,
}

impl<'m> MessageView<'m> {
    /// Parses `raw` once. `raw` is the message as [`header::normalize`] returns it, so that
    /// the header section is the same for every reader (see [`crate::header`]); header fields
    /// after the end of the header section are never read, even when it is not.
    pub fn parse(
        raw: &'m [u8],
        mail_from: &str,
        mime_limits: &MimeLimits,
        trusted_authserv_ids: &[String],
    ) -> Self {
        crate::counts::mime_parsed();
        let mut mime = MessageParser::default()
            .parse(raw)
            .unwrap_or_else(|| empty(raw));
        let section = header::section(raw);
        if let Some(root) = mime.parts.first_mut() {
            root.headers
                .retain(|h| (h.offset_field as usize) < section.end);
        }
        let root: &[Header<'_>] = mime.parts.first().map_or(&[], |p| &p.headers);
        let strip = root
            .iter()
            .filter(|h| is_own(h))
            .map(|h| field_extent(raw, h.offset_field as usize))
            .collect();
        let facts = HeaderFacts::read(root, raw, mail_from, trusted_authserv_ids);
        let calendar = find_invitation(&mime, mime_limits);
        MessageView {
            raw,
            mime,
            strip,
            crlf: header::crlf(raw),
            facts,
            calendar,
        }
    }

    /// The message as parsed.
    pub fn raw(&self) -> &'m [u8] {
        self.raw
    }

    /// Where the top-level header fields called `name` (case-insensitive) are: each from
    /// its name to the end of its last line, line break included.
    pub fn fields(&self, name: &str) -> Vec<Range<usize>> {
        self.mime
            .parts
            .first()
            .map_or(&[][..], |p| &p.headers[..])
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| field_extent(self.raw, h.offset_field as usize))
            .collect()
    }

    /// The message without the stripped header lines, as borrowed pieces.
    pub fn kept(&self) -> Vec<&'m [u8]> {
        let mut pieces = Vec::with_capacity(self.strip.len() + 1);
        let mut at = 0;
        for range in &self.strip {
            pieces.push(&self.raw[at.min(range.start)..range.start]);
            at = at.max(range.end);
        }
        pieces.push(&self.raw[at.min(self.raw.len())..]);
        pieces.retain(|p| !p.is_empty());
        pieces
    }
}

/// A header field starting at `start`: its first line and the continuation lines after it.
fn field_extent(raw: &[u8], start: usize) -> Range<usize> {
    let start = start.min(raw.len());
    let mut end = start;
    loop {
        end = raw[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| end + i + 1);
        if !matches!(raw.get(end), Some(b' ' | b'\t')) {
            return start..end;
        }
    }
}

/// Whether a header field is one only imipd may write.
fn is_own(header: &Header<'_>) -> bool {
    let HeaderName::Other(name) = &header.name else {
        return false;
    };
    OWN_PREFIXES.iter().any(|prefix| {
        name.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    })
}

/// What mail-parser gives up on (it parses anything but the empty message): one empty part.
fn empty(raw: &[u8]) -> Message<'_> {
    Message {
        parts: vec![mail_parser::MessagePart {
            headers: Vec::new(),
            is_encoding_problem: false,
            body: mail_parser::PartType::Text("".into()),
            encoding: mail_parser::Encoding::None,
            offset_header: 0,
            offset_body: 0,
            offset_end: raw.len() as u32,
        }],
        raw_message: raw.into(),
        ..Message::default()
    }
}
