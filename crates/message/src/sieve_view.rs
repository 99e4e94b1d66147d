//! The message as the Sieve stage reads it, built once per delivery from the one parse and
//! lent to each recipient's script with that recipient's detection headers on top.
//!
//! sieve-rs reads a parsed `mail_parser::Message` (`Runtime::filter_parsed`), taking header
//! values either parsed or from the raw bytes at the header's offsets. So the view keeps a
//! copy of the raw message with room at its end: for each recipient, the detection header
//! lines are written there and header entries pointing at them are put first in the top-level
//! header list, which is exactly what parsing those lines on top of the message would give,
//! without parsing the message again.

use crate::view::MessageView;
use mail_parser::{Header, HeaderName, HeaderValue, Message, PartType};
use std::borrow::Cow;

/// Sieve sees at most this much of a message: the header section and the start of the body
/// are what scripts test; the parts after it are empty to the script.
pub const SIEVE_VIEW_BYTES: usize = 4 * 1024 * 1024;

pub struct SieveView<'m> {
    message: Message<'m>,
    /// Length of the message bytes at the start of the raw copy.
    base: usize,
}

impl<'m> SieveView<'m> {
    /// The message as delivered: the fields in `view.strip` (forged copies of imipd's own
    /// headers, and whatever detection renders anew) removed.
    pub fn new(view: &MessageView<'m>) -> Self {
        let mut sieve = Self::as_written(view);
        if let Some(root) = sieve.message.parts.first_mut() {
            root.headers.retain(|h| {
                !view
                    .strip
                    .iter()
                    .any(|r| r.start == h.offset_field as usize)
            });
        }
        sieve
    }

    /// The message with every header field it has, for a message whose detection headers
    /// are already in it (`imipd sieve test` on a delivered copy, tests).
    pub fn as_written(view: &MessageView<'m>) -> Self {
        let mut message = view.mime.clone();
        let base = view.raw().len().min(SIEVE_VIEW_BYTES);
        for part in &mut message.parts {
            if part.offset_header as usize >= base {
                part.headers.clear();
            }
            if part.offset_end as usize > base
                && !matches!(part.body, PartType::Multipart(_) | PartType::Message(_))
            {
                part.body = PartType::Text("".into());
            }
            part.offset_end = part.offset_end.min(base as u32);
            part.offset_body = part.offset_body.min(part.offset_end);
            part.offset_header = part.offset_header.min(part.offset_body);
        }
        message.raw_message = Cow::Owned(view.raw()[..base].to_vec());
        SieveView { message, base }
    }

    /// Runs `f` on the message with `headers` (complete header lines, as detection writes
    /// them) on top; `f` hands the message back for the next recipient.
    pub fn lend<R>(&mut self, headers: &str, f: impl FnOnce(Message<'m>) -> (R, Message<'m>)) -> R {
        let mut message = std::mem::take(&mut self.message);
        let mut raw = match std::mem::take(&mut message.raw_message) {
            Cow::Owned(raw) => raw,
            Cow::Borrowed(raw) => raw.to_vec(),
        };
        raw.truncate(self.base);
        let added = header_entries(headers, raw.len());
        raw.extend_from_slice(headers.as_bytes());
        message.raw_message = Cow::Owned(raw);
        let count = added.len();
        if let Some(root) = message.parts.first_mut() {
            root.headers.splice(0..0, added);
        }
        let (result, mut message) = f(message);
        if let Some(root) = message.parts.first_mut() {
            root.headers.drain(..count.min(root.headers.len()));
        }
        self.message = message;
        result
    }
}

/// Header entries for `Name: value` lines placed at offset `at` of the raw message, as
/// mail-parser records a field it does not interpret: the value as text, `offset_start` just
/// after the colon, `offset_end` after the line break.
fn header_entries(headers: &str, at: usize) -> Vec<Header<'static>> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in headers.split_inclusive('\n') {
        let end = start + line.len();
        if let Some(colon) = line.find(':') {
            out.push(Header {
                name: HeaderName::Other(line[..colon].trim().to_string().into()),
                value: HeaderValue::Text(line[colon + 1..].trim().to_string().into()),
                offset_field: (at + start) as u32,
                offset_start: (at + start + colon + 1) as u32,
                offset_end: (at + end) as u32,
            });
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MimeLimits;
    use mail_parser::MessageParser;

    /// The lent message reads like the detection headers parsed on top of the message.
    #[test]
    fn lent_headers_read_as_if_parsed() {
        let message = b"From: a@example.org\r\nX-ME-Cal-UID: forged\r\nSubject: hi\r\n\r\nbody\r\n";
        let view = MessageView::parse(message, "", &MimeLimits::default(), &[]);
        let mut sieve = SieveView::new(&view);
        for headers in [
            "X-ME-Cal-Method: request\r\nX-ME-Cal-UID: u-1@example.org\r\n",
            "X-ME-Cal-Method: cancel\r\n",
            "",
        ] {
            let mut expected_raw = headers.as_bytes().to_vec();
            expected_raw.extend(view.kept().concat());
            let expected = MessageParser::default().parse(&expected_raw).unwrap();
            let seen = |m: &Message<'_>| -> Vec<(String, String, String)> {
                m.parts[0]
                    .headers
                    .iter()
                    .map(|h| {
                        let raw = m
                            .raw_message
                            .get(h.offset_start as usize..h.offset_end as usize)
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default();
                        let field = m
                            .raw_message
                            .get(h.offset_field as usize..h.offset_start as usize)
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default();
                        (field, format!("{:?}", h.value), raw)
                    })
                    .collect()
            };
            let want = seen(&expected);
            let got = sieve.lend(headers, |m| (seen(&m), m));
            assert_eq!(got, want, "headers {headers:?}");
        }
    }
}
