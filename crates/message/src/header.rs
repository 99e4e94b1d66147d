//! The header section of a message (RFC 5322 section 2.1): header fields up to the first
//! empty line.
//!
//! RFC 5322 gives no meaning to a line in the header section that is neither a header
//! field nor the continuation of one. imipd does what Postfix's cleanup does: such a line
//! starts the body, and an empty line is put before it ([`normalize`]), so the header
//! facts, Sieve, detection and the stored copy all read one header section. A header field
//! written after such a line (`Authentication-Results: …; dmarc=pass` below a line of
//! junk) is body text, whoever reads the message.

use std::borrow::Cow;

/// Where a message's header section ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// Offset of the line that ends the header section: the empty line, the first line that
    /// is not a header field, or the end of the message.
    pub end: usize,
    /// Whether that line is not a header field (rather than the empty line or the end).
    pub ended_by_junk: bool,
}

/// Finds the end of the header section.
pub fn section(message: &[u8]) -> Section {
    let mut at = 0;
    let mut first = true;
    while at < message.len() {
        let line_end = message[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| at + i + 1);
        let line = &message[at..line_end];
        let content = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        if content.is_empty() {
            return Section {
                end: at,
                ended_by_junk: false,
            };
        }
        let continuation = matches!(content[0], b' ' | b'\t');
        if (continuation && first) || (!continuation && !is_field(content)) {
            return Section {
                end: at,
                ended_by_junk: true,
            };
        }
        first = false;
        at = line_end;
    }
    Section {
        end: message.len(),
        ended_by_junk: false,
    }
}

/// `field-name ":"` (RFC 5322 section 3.6.8: printable ASCII but ':'), with the obsolete
/// white space before the colon (section 4.5) allowed.
fn is_field(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = &line[..colon];
    let name = match name.iter().rposition(|&b| b != b' ' && b != b'\t') {
        Some(last) => &name[..=last],
        None => return false,
    };
    name.iter().all(|&b| (33..=126).contains(&b))
}

/// The message with an empty line before the first line of its header section that is not
/// a header field; unchanged (borrowed) when there is none.
pub fn normalize(message: &[u8]) -> Cow<'_, [u8]> {
    let section = section(message);
    if !section.ended_by_junk {
        return Cow::Borrowed(message);
    }
    let eol: &[u8] = if crlf(message) { b"\r\n" } else { b"\n" };
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&message[..section.end]);
    out.extend_from_slice(eol);
    out.extend_from_slice(&message[section.end..]);
    Cow::Owned(out)
}

/// Whether the message ends its lines with CRLF (judged by the first line; a message of
/// one unterminated line counts as CRLF), so that added header lines can follow suit.
pub fn crlf(message: &[u8]) -> bool {
    message
        .iter()
        .position(|&b| b == b'\n')
        .is_none_or(|i| i > 0 && message[i - 1] == b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_the_header_section_ends() {
        // (message, end, ended by junk)
        let cases: [(&str, usize, bool); 9] = [
            ("A: 1\r\nB: 2\r\n\r\nbody", 12, false),
            ("A: 1\nB: 2\n\nbody", 10, false),
            ("A: 1\r\n folded\r\n\r\n", 15, false),
            ("A: 1\r\njunk line\r\nB: 2\r\n\r\n", 6, true),
            ("A: 1\r\nmal formed: 2\r\n\r\n", 6, true),
            ("Obsolete  : 1\r\n\r\n", 15, false),
            (" leading continuation\r\nA: 1\r\n\r\n", 0, true),
            ("A: 1\r\n:no name\r\n\r\n", 6, true),
            ("A: 1\r\nB: 2", 10, false),
        ];
        for (message, end, junk) in cases {
            let got = section(message.as_bytes());
            assert_eq!(
                (got.end, got.ended_by_junk),
                (end, junk),
                "message {message:?}"
            );
        }
    }

    #[test]
    fn normalize_puts_an_empty_line_before_junk() {
        let cases = [
            (
                "A: 1\r\njunk\r\nB: 2\r\n\r\nx",
                "A: 1\r\n\r\njunk\r\nB: 2\r\n\r\nx",
            ),
            ("A: 1\njunk\n\nx", "A: 1\n\njunk\n\nx"),
            ("A: 1\r\n\r\njunk\r\n", "A: 1\r\n\r\njunk\r\n"),
        ];
        for (message, want) in cases {
            let got = normalize(message.as_bytes());
            assert_eq!(String::from_utf8_lossy(&got), want, "message {message:?}");
        }
    }
}
