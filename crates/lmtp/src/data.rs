//! Message transparency for DATA (RFC 5321 section 4.5.2): removing and adding the dot
//! that protects lines starting with ".", and finding the terminating "." line.
//!
//! Both directions work on chunks as they arrive, so a message of any size streams through
//! without being held whole. Received line endings are kept exactly as the client sent them
//! (CRLF or bare LF): the message handed on is the message received. Sent data is put in
//! wire form, with every line ending CRLF, as RFC 5321 requires of a client.
//!
//! Only `<CRLF>.<CRLF>` ends the data (RFC 5321 section 4.1.1.4). A "." line with a bare LF
//! on either side (`<LF>.<LF>`, `<LF>.<CRLF>`, `<CRLF>.<LF>`) is message content and is kept
//! as received: reading it as the end would let text inside one message be taken as the next
//! transaction's commands (SMTP smuggling, CVE-2023-51764), and treating it as content keeps
//! the message whole exactly as the MTA in front of us accepted it, so nothing is refused that
//! the MTA delivered in good faith. A client that ends its data with a bare-LF "." waits until
//! the idle timeout; [`DataDecoder::bare_dot_lines`] lets the connection say why.

/// Decodes DATA content: un-stuffs dots and stops at the `<CRLF>.<CRLF>` line. Lines end at
/// LF, with or without CR before it, so a leading dot is removed after a bare LF too.
#[derive(Debug)]
pub struct DataDecoder {
    state: DecodeState,
    /// In [`DecodeState::InLine`]: the byte before the next one read was CR.
    after_cr: bool,
    bare_dot_lines: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// At the start of a line; `crlf` when the previous line ended in CRLF (or this is the
    /// first line of the data).
    LineStart {
        crlf: bool,
    },
    InLine,
    /// A "." opened the line; it is dropped unless the line turns out to be "." alone
    /// without CRLF on both sides.
    Dot {
        crlf: bool,
    },
    /// ".\r" opened the line: the end if LF follows and the line before ended in CRLF.
    DotCr {
        crlf: bool,
    },
    Finished,
}

impl Default for DataDecoder {
    fn default() -> Self {
        DataDecoder {
            state: DecodeState::LineStart { crlf: true },
            after_cr: false,
            bare_dot_lines: 0,
        }
    }
}

/// How far one call to [`DataDecoder::decode`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Input bytes used; the rest (after the final ".") belongs to the next command.
    pub consumed: usize,
    /// Whether the terminating "." line was seen.
    pub finished: bool,
}

impl DataDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// "." lines kept as content because a bare LF was next to them.
    pub fn bare_dot_lines(&self) -> usize {
        self.bare_dot_lines
    }

    /// Feeds received bytes; message bytes go to `sink` in order, in as few calls as the
    /// dots allow (usually one per chunk).
    pub fn decode(&mut self, input: &[u8], mut sink: impl FnMut(&[u8])) -> Decoded {
        let mut at = 0;
        // Start of the input run not yet given to the sink.
        let mut run = 0;
        while at < input.len() {
            match self.state {
                DecodeState::Finished => break,
                DecodeState::InLine => match input[at..].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        let crlf = if i > 0 {
                            input[at + i - 1] == b'\r'
                        } else {
                            self.after_cr
                        };
                        at += i + 1;
                        self.state = DecodeState::LineStart { crlf };
                    }
                    None => {
                        self.after_cr = input.last() == Some(&b'\r');
                        at = input.len();
                    }
                },
                DecodeState::LineStart { crlf } => {
                    if input[at] == b'.' {
                        sink_nonempty(&mut sink, &input[run..at]);
                        at += 1;
                        run = at;
                        self.state = DecodeState::Dot { crlf };
                    } else {
                        self.after_cr = false;
                        self.state = DecodeState::InLine;
                    }
                }
                DecodeState::Dot { crlf } => match input[at] {
                    b'\n' => {
                        // "." then a bare LF: content, kept whole.
                        self.bare_dot_lines += 1;
                        sink(b".");
                        self.after_cr = false;
                        self.state = DecodeState::InLine;
                    }
                    b'\r' => {
                        at += 1;
                        run = at;
                        self.state = DecodeState::DotCr { crlf };
                    }
                    _ => {
                        self.after_cr = false;
                        self.state = DecodeState::InLine;
                    }
                },
                DecodeState::DotCr { crlf } => {
                    if input[at] == b'\n' {
                        if crlf {
                            self.state = DecodeState::Finished;
                            return Decoded {
                                consumed: at + 1,
                                finished: true,
                            };
                        }
                        // "<LF>.<CRLF>": content, kept whole.
                        self.bare_dot_lines += 1;
                        sink(b".\r");
                    } else {
                        // ".\r" then more text: an ordinary stuffed line; the held CR is data.
                        sink(b"\r");
                    }
                    self.after_cr = true;
                    self.state = DecodeState::InLine;
                }
            }
        }
        sink_nonempty(&mut sink, &input[run..at]);
        Decoded {
            consumed: at,
            finished: self.state == DecodeState::Finished,
        }
    }
}

fn sink_nonempty(sink: &mut impl FnMut(&[u8]), bytes: &[u8]) {
    if !bytes.is_empty() {
        sink(bytes);
    }
}

/// Encodes a message for DATA: doubles a leading dot, sends every line ending as CRLF, and
/// ends with the "." line.
#[derive(Debug)]
pub struct DotStuffer {
    line_start: bool,
    /// The previous byte was CR, so an LF at the start of the next chunk needs none.
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer {
            line_start: true,
            after_cr: false,
        }
    }
}

impl DotStuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the wire form of `chunk` to `out`. Callers bound `chunk` to bound `out`.
    pub fn encode(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut rest = chunk;
        while let Some(&first) = rest.first() {
            if self.line_start && first == b'.' {
                out.push(b'.');
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = &rest[..i];
                    out.extend_from_slice(line);
                    let has_cr = line.last().map_or(self.after_cr, |&b| b == b'\r');
                    if !has_cr {
                        out.push(b'\r');
                    }
                    out.push(b'\n');
                    self.line_start = true;
                    self.after_cr = false;
                    rest = &rest[i + 1..];
                }
                None => {
                    out.extend_from_slice(rest);
                    self.after_cr = rest.last() == Some(&b'\r');
                    self.line_start = false;
                    rest = &[];
                }
            }
        }
    }

    /// Appends the end of the data: a line ending if the message lacks a final one, then ".".
    pub fn finish(self, out: &mut Vec<u8>) {
        if !self.line_start {
            if !self.after_cr {
                out.push(b'\r');
            }
            out.push(b'\n');
        }
        out.extend_from_slice(b".\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns (message, consumed, finished).
    fn decode_in_steps(input: &[u8], step: usize) -> (Vec<u8>, usize, bool) {
        let mut decoder = DataDecoder::new();
        let mut message = Vec::new();
        let mut consumed = 0;
        for chunk in input.chunks(step) {
            let d = decoder.decode(chunk, |b| message.extend_from_slice(b));
            consumed += d.consumed;
            if d.finished {
                return (message, consumed, true);
            }
            assert_eq!(
                d.consumed,
                chunk.len(),
                "unfinished decode must use all input"
            );
        }
        (message, consumed, false)
    }

    #[test]
    fn decoding() {
        // (wire input, message, bytes consumed, finished)
        let cases: &[(&str, &str, usize, bool)] = &[
            ("a\r\n.\r\n", "a\r\n", 6, true),
            (".\r\n", "", 3, true),
            ("..foo\r\n.\r\n", ".foo\r\n", 10, true),
            ("...\r\n.\r\n", "..\r\n", 8, true),
            ("a\n..b\r\n.\r\n", "a\n.b\r\n", 10, true),
            (".x\r\n.\r\n", "x\r\n", 7, true),
            (".\rx\r\n.\r\n", "\rx\r\n", 8, true),
            ("a.\r\nb\r\n.\r\n", "a.\r\nb\r\n", 10, true),
            ("a\r\n.\r\nQUIT\r\n", "a\r\n", 6, true),
            ("a\r\n\r\n.\r\n", "a\r\n\r\n", 8, true),
            ("a\r\n.", "a\r\n", 4, false),
            ("a\r\n.\r", "a\r\n", 5, false),
            ("no end\r\n", "no end\r\n", 8, false),
            ("bare\rcr\r\n.\r\n", "bare\rcr\r\n", 12, true),
            ("a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", 11, true),
            // Only <CRLF>.<CRLF> ends the data: a "." line next to a bare LF is content.
            (".\n", ".\n", 2, false),
            ("a\n.\n", "a\n.\n", 4, false),
            ("a\n.\r\n", "a\n.\r\n", 5, false),
            ("a\r\n.\n", "a\r\n.\n", 5, false),
            ("\n.\r\n", "\n.\r\n", 4, false),
            ("a\n.\nQUIT\r\n.\r\n", "a\n.\nQUIT\r\n", 13, true),
            ("a\r\n.\nMAIL\r\n.\r\n", "a\r\n.\nMAIL\r\n", 14, true),
            ("a\n.\r\nRCPT\r\n.\r\n", "a\n.\r\nRCPT\r\n", 14, true),
            ("a\n.\n..x\r\n.\r\n", "a\n.\n.x\r\n", 12, true),
            ("a\n.\r\n.\r\n", "a\n.\r\n", 8, true),
            ("a\n.\n\r\n.\r\n", "a\n.\n\r\n", 9, true),
        ];
        for &(input, message, consumed, finished) in cases {
            for step in 1..=input.len() {
                let got = decode_in_steps(input.as_bytes(), step);
                let expected = (message.as_bytes().to_vec(), consumed, finished);
                assert_eq!(
                    got,
                    expected,
                    "input {input:?} in steps of {step}: expected {message:?}, got {:?}",
                    String::from_utf8_lossy(&got.0)
                );
            }
        }
    }

    #[test]
    fn bare_lf_dot_lines_are_counted() {
        // (wire input, "." lines kept as content)
        let cases: &[(&str, usize)] = &[
            ("a\r\n.\r\n", 0),
            ("a\n.\nb\n.\r\nc\r\n.\nd\r\n.\r\n", 3),
            ("..\r\n.\r\n", 0),
        ];
        for &(input, expected) in cases {
            let mut decoder = DataDecoder::new();
            decoder.decode(input.as_bytes(), |_| {});
            assert_eq!(decoder.bare_dot_lines(), expected, "input {input:?}");
        }
    }

    #[test]
    fn encoding() {
        // (message pieces, wire form)
        let cases: &[(&[&str], &str)] = &[
            (&["a\r\n"], "a\r\n.\r\n"),
            (&[""], ".\r\n"),
            (&[], ".\r\n"),
            (&[".foo\r\n"], "..foo\r\n.\r\n"),
            (&["a\n.b\n"], "a\r\n..b\r\n.\r\n"),
            (&["no end"], "no end\r\n.\r\n"),
            (&["cr end\r"], "cr end\r\n.\r\n"),
            (&["X: 1\r\n", ".body\r\n"], "X: 1\r\n..body\r\n.\r\n"),
            (&["a\r", "\nb\n"], "a\r\nb\r\n.\r\n"),
            (&["a", ".b\r\n"], "a.b\r\n.\r\n"),
            (&["a\r\n", ".", "\r\n"], "a\r\n..\r\n.\r\n"),
        ];
        for &(pieces, wire) in cases {
            let mut stuffer = DotStuffer::new();
            let mut out = Vec::new();
            for piece in pieces {
                stuffer.encode(piece.as_bytes(), &mut out);
            }
            stuffer.finish(&mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                wire,
                "pieces {pieces:?}: expected {wire:?}"
            );
        }
    }

    #[test]
    fn encoding_then_decoding_gives_the_crlf_message_back() {
        let message = b"Subject: x\r\n\r\n.\r\n..\r\n.a\r\nend\r\n";
        let mut wire = Vec::new();
        let mut stuffer = DotStuffer::new();
        stuffer.encode(message, &mut wire);
        stuffer.finish(&mut wire);
        let (decoded, consumed, finished) = decode_in_steps(&wire, 3);
        assert_eq!(
            (decoded.as_slice(), consumed, finished),
            (&message[..], wire.len(), true)
        );
    }
}
