//! LMTP commands and replies as values over byte slices (RFC 2033, RFC 5321): no I/O here.
//!
//! Command lines are parsed with `smtp-proto`, which knows LHLO; this module maps its
//! results to the few commands an LMTP server acts on and its errors to the replies a
//! client should get.

use crate::Reply;
use smtp_proto::{Error as ProtoError, MAIL_BODY_8BITMIME, MAIL_BODY_BINARYMIME, Request};

/// Longest command line accepted, line ending included. RFC 5321 section 4.5.3.1.4 asks for
/// at least 512; parameters (ORCPT, ENVID) justify more, and a bound keeps memory fixed.
pub const MAX_COMMAND_LINE: usize = 4096;

/// The body type a client declared with `MAIL FROM:<..> BODY=` (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
}

/// A command the session acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Lhlo {
        host: String,
    },
    Mail {
        from: String,
        /// The SIZE parameter (RFC 1870), when given.
        size: Option<usize>,
        body: Body,
    },
    Rcpt {
        to: String,
    },
    Data,
    /// A chunk of the message follows the command line (RFC 3030).
    Bdat {
        size: usize,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    /// HELO or EHLO: this is LMTP, the client must say LHLO (RFC 2033 section 4.1).
    SmtpHello,
    /// A verb that exists in SMTP but is not offered here (AUTH, STARTTLS, EXPN, ...).
    NotImplemented(&'static str),
}

/// Parses one command line, ending in LF (CRLF or bare LF). A line that is not a usable
/// command yields the reply the client gets for it.
pub fn parse_command(line: &[u8]) -> Result<Command, Reply> {
    if line.contains(&0) {
        return Err(Reply::new(500, (5, 5, 2), "NUL byte in command line"));
    }
    if line.len() > MAX_COMMAND_LINE {
        return Err(line_too_long());
    }
    if line.last() != Some(&b'\n') {
        return Err(Reply::new(
            500,
            (5, 5, 2),
            "command line without line ending",
        ));
    }
    let request = Request::parse(&mut line.iter()).map_err(|e| parse_error(&e))?;
    Ok(match request {
        Request::Lhlo { host } => Command::Lhlo {
            host: host.into_owned(),
        },
        Request::Mail { from } => {
            if from.flags & MAIL_BODY_BINARYMIME != 0 {
                return Err(Reply::new(
                    555,
                    (5, 5, 4),
                    "BODY=BINARYMIME is not supported, send 8BITMIME",
                ));
            }
            Command::Mail {
                from: from.address.into_owned(),
                // smtp-proto leaves 0 when SIZE is absent; a declared 0 tells nothing either.
                size: (from.size > 0).then_some(from.size),
                body: if from.flags & MAIL_BODY_8BITMIME != 0 {
                    Body::EightBitMime
                } else {
                    Body::SevenBit
                },
            }
        }
        Request::Rcpt { to } => Command::Rcpt {
            to: to.address.into_owned(),
        },
        Request::Data => Command::Data,
        Request::Bdat {
            chunk_size,
            is_last,
        } => Command::Bdat {
            size: chunk_size,
            last: is_last,
        },
        Request::Rset => Command::Rset,
        Request::Noop { .. } => Command::Noop,
        Request::Quit => Command::Quit,
        Request::Vrfy { .. } => Command::Vrfy,
        Request::Help { .. } => Command::Help,
        Request::Helo { .. } | Request::Ehlo { .. } => Command::SmtpHello,
        other => Command::NotImplemented(other.name()),
    })
}

/// The reply to a command line longer than [`MAX_COMMAND_LINE`].
pub fn line_too_long() -> Reply {
    Reply::new(
        500,
        (5, 5, 2),
        format!("command line longer than {MAX_COMMAND_LINE} bytes"),
    )
}

fn parse_error(error: &ProtoError) -> Reply {
    match error {
        ProtoError::UnknownCommand => Reply::new(500, (5, 5, 1), "command unrecognized"),
        ProtoError::InvalidSenderAddress => Reply::new(501, (5, 1, 7), "bad sender address syntax"),
        ProtoError::InvalidRecipientAddress => {
            Reply::new(501, (5, 1, 3), "bad recipient address syntax")
        }
        ProtoError::SyntaxError { syntax } => {
            Reply::new(501, (5, 5, 4), format!("syntax: {syntax}"))
        }
        ProtoError::InvalidParameter { param } => {
            Reply::new(501, (5, 5, 4), format!("invalid {param} parameter"))
        }
        ProtoError::UnsupportedParameter { param } => Reply::new(
            555,
            (5, 5, 4),
            format!("unsupported parameter {}", printable(param)),
        ),
        ProtoError::NeedsMoreData { .. }
        | ProtoError::ResponseTooLong
        | ProtoError::InvalidResponse { .. } => {
            Reply::new(500, (5, 5, 2), "command line cannot be parsed")
        }
    }
}

/// Capabilities advertised in the LHLO reply.
pub fn lhlo_reply(hostname: &str, max_message_size: usize) -> Reply {
    Reply::new(
        250,
        (0, 0, 0),
        format!(
            "{hostname}\nPIPELINING\nENHANCEDSTATUSCODES\n8BITMIME\nCHUNKING\nSIZE {max_message_size}"
        ),
    )
}

/// Appends a reply in wire form. A `status` of `(0, 0, 0)` means "no enhanced status code",
/// as for the greeting and the LHLO reply (RFC 2034 section 3). Each line of `text` becomes
/// a line of a multi-line reply; control characters in it are replaced so a reply can never
/// break the framing.
pub fn write_reply(reply: &Reply, out: &mut Vec<u8>) {
    let code = if (200..=599).contains(&reply.code) {
        reply.code
    } else {
        451
    };
    let mut lines = reply.text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let separator = if lines.peek().is_some() { '-' } else { ' ' };
        out.extend_from_slice(format!("{code}{separator}").as_bytes());
        if reply.status.0 != 0 {
            let (class, subject, detail) = reply.status;
            out.extend_from_slice(format!("{class}.{subject}.{detail} ").as_bytes());
        }
        out.extend_from_slice(printable(line.trim_end_matches('\r')).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The reply in wire form, for logs and tests.
pub fn reply_to_string(reply: &Reply) -> String {
    let mut out = Vec::new();
    write_reply(reply, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse_command(line.as_bytes()).unwrap_or_else(|r| panic!("{line:?} rejected: {r:?}"))
    }

    type Code = (u16, (u8, u16, u16));

    fn err(line: &[u8]) -> Code {
        match parse_command(line) {
            Ok(c) => panic!("{line:?} parsed as {c:?}, expected an error"),
            Err(r) => (r.code, r.status),
        }
    }

    #[test]
    fn commands() {
        let cases: Vec<(&str, Command)> = vec![
            (
                "LHLO mx.example.org\r\n",
                Command::Lhlo {
                    host: "mx.example.org".into(),
                },
            ),
            ("lhlo mx\n", Command::Lhlo { host: "mx".into() }),
            (
                "MAIL FROM:<a@example.org>\r\n",
                Command::Mail {
                    from: "a@example.org".into(),
                    size: None,
                    body: Body::SevenBit,
                },
            ),
            (
                "MAIL FROM:<a@example.org> SIZE=1200 BODY=8BITMIME\r\n",
                Command::Mail {
                    from: "a@example.org".into(),
                    size: Some(1200),
                    body: Body::EightBitMime,
                },
            ),
            (
                "MAIL FROM:<>\r\n",
                Command::Mail {
                    from: String::new(),
                    size: None,
                    body: Body::SevenBit,
                },
            ),
            (
                "RCPT TO:<bob@example.org>\r\n",
                Command::Rcpt {
                    to: "bob@example.org".into(),
                },
            ),
            (
                "rcpt to:<bob@example.org> NOTIFY=NEVER\r\n",
                Command::Rcpt {
                    to: "bob@example.org".into(),
                },
            ),
            ("DATA\r\n", Command::Data),
            ("RSET\r\n", Command::Rset),
            ("NOOP\r\n", Command::Noop),
            ("NOOP hello\r\n", Command::Noop),
            ("QUIT\r\n", Command::Quit),
            ("EHLO mx\r\n", Command::SmtpHello),
            ("HELO mx\r\n", Command::SmtpHello),
            ("VRFY bob\r\n", Command::Vrfy),
            ("HELP\r\n", Command::Help),
            ("HELP DATA\r\n", Command::Help),
            ("EXPN list\r\n", Command::NotImplemented("EXPN")),
            ("STARTTLS\r\n", Command::NotImplemented("STARTTLS")),
            (
                "BDAT 10 LAST\r\n",
                Command::Bdat {
                    size: 10,
                    last: true,
                },
            ),
            (
                "BDAT 0\r\n",
                Command::Bdat {
                    size: 0,
                    last: false,
                },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(ok(line), expected, "input {line:?}");
        }
    }

    #[test]
    fn bad_lines() {
        let cases: Vec<(&[u8], Code)> = vec![
            (b"FOO\r\n", (500, (5, 5, 1))),
            (b"\r\n", (500, (5, 5, 1))),
            (b"NOOP\0\r\n", (500, (5, 5, 2))),
            (b"NOOP", (500, (5, 5, 2))),
            (b"LHLO\r\n", (501, (5, 5, 4))),
            (b"MAIL FROM:<a@@b>\r\n", (501, (5, 1, 7))),
            (b"MAIL TO:<a@b>\r\n", (501, (5, 5, 4))),
            (b"MAIL FROM:<a@b> SIZE=x\r\n", (501, (5, 5, 4))),
            (b"MAIL FROM:<a@b> FOO=1\r\n", (555, (5, 5, 4))),
            (b"MAIL FROM:<a@b> BODY=BINARYMIME\r\n", (555, (5, 5, 4))),
            (b"RCPT TO:<a b>\r\n", (501, (5, 1, 3))),
            (b"RCPT FROM:<a@b>\r\n", (501, (5, 5, 4))),
        ];
        for (line, expected) in cases {
            assert_eq!(
                err(line),
                expected,
                "input {:?}",
                String::from_utf8_lossy(line)
            );
        }
        let long = format!("NOOP {}\r\n", "x".repeat(MAX_COMMAND_LINE));
        assert_eq!(err(long.as_bytes()), (500, (5, 5, 2)));
    }

    #[test]
    fn reply_wire_form() {
        let cases = [
            (Reply::new(250, (2, 1, 5), "ok"), "250 2.1.5 ok\r\n"),
            (Reply::new(220, (0, 0, 0), "mx LMTP"), "220 mx LMTP\r\n"),
            (
                lhlo_reply("mx", 10),
                "250-mx\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SIZE 10\r\n",
            ),
            (
                Reply::new(451, (4, 3, 0), "bad\rtext\u{0}here"),
                "451 4.3.0 bad text here\r\n",
            ),
            (
                Reply::new(99, (4, 3, 0), "odd code"),
                "451 4.3.0 odd code\r\n",
            ),
        ];
        for (reply, expected) in cases {
            assert_eq!(reply_to_string(&reply), expected, "reply {reply:?}");
        }
    }
}
