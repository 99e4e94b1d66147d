//! A Sieve tokenizer for the source pre-pass (see the crate docs). It only needs to find
//! command boundaries, tags and strings with their byte spans, so it follows sieve-rs's own
//! lexing rules closely enough that both agree on where every token starts and ends.

use crate::compile::CompileError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Identifier(String),
    Tag(String),
    /// A quoted or multi-line string with its decoded value.
    Str(String),
    Number,
    Open(u8),
    Close(u8),
    Comma,
    Semicolon,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Byte offset to 1-based line and column (columns count characters).
pub(crate) fn position(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

pub(crate) fn error_at(source: &str, offset: usize, message: impl Into<String>) -> CompileError {
    let (line, column) = position(source, offset);
    CompileError {
        line,
        column,
        message: message.into(),
    }
}

pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, CompileError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let ch = bytes[i];
        let start = i;
        match ch {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let Some(end) = source.get(i + 2..).and_then(|s| s.find("*/")) else {
                    return Err(error_at(source, start, "unterminated comment: add */"));
                };
                i += 2 + end + 2;
            }
            b'"' => {
                let mut value = Vec::new();
                let mut last = 0u8;
                i += 1;
                loop {
                    let Some(&c) = bytes.get(i) else {
                        return Err(error_at(source, start, "unterminated string: add \""));
                    };
                    i += 1;
                    // sieve-rs looks only at the previous raw byte; doing the same keeps
                    // both tokenizers in step on every input.
                    if c == b'"' && last != b'\\' {
                        break;
                    }
                    if c != b'\\' || last == b'\\' {
                        value.push(c);
                    }
                    last = c;
                }
                tokens.push(Token {
                    kind: Kind::Str(String::from_utf8_lossy(&value).into_owned()),
                    start,
                    end: i,
                });
            }
            b'[' | b'(' | b'{' => {
                i += 1;
                tokens.push(Token {
                    kind: Kind::Open(ch),
                    start,
                    end: i,
                });
            }
            b']' | b')' | b'}' => {
                i += 1;
                tokens.push(Token {
                    kind: Kind::Close(ch),
                    start,
                    end: i,
                });
            }
            b',' => {
                i += 1;
                tokens.push(Token {
                    kind: Kind::Comma,
                    start,
                    end: i,
                });
            }
            b';' => {
                i += 1;
                tokens.push(Token {
                    kind: Kind::Semicolon,
                    start,
                    end: i,
                });
            }
            b':' => {
                i += 1;
                let word_end = word_end(bytes, i);
                if word_end == i {
                    return Err(error_at(source, start, "a tag needs a name after ':'"));
                }
                tokens.push(Token {
                    kind: Kind::Tag(source[i..word_end].to_ascii_lowercase()),
                    start,
                    end: word_end,
                });
                i = word_end;
            }
            b'0'..=b'9' => {
                i = word_end(bytes, i);
                tokens.push(Token {
                    kind: Kind::Number,
                    start,
                    end: i,
                });
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = word_end(bytes, i);
                let word = source[i..end].to_ascii_lowercase();
                if word == "text" && bytes.get(end) == Some(&b':') {
                    let (value, next) = multi_line(source, start, end + 1)?;
                    tokens.push(Token {
                        kind: Kind::Str(value),
                        start,
                        end: next,
                    });
                    i = next;
                } else {
                    tokens.push(Token {
                        kind: Kind::Identifier(word),
                        start,
                        end,
                    });
                    i = end;
                }
            }
            _ => {
                // Let sieve-rs report characters it does not accept, with its own message.
                i += source[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    Ok(tokens)
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// A `text:` string from just after the colon: returns its value and the offset after
/// the terminating "." line.
fn multi_line(source: &str, start: usize, from: usize) -> Result<(String, usize), CompileError> {
    let Some(first_nl) = source.get(from..).and_then(|s| s.find('\n')) else {
        return Err(error_at(source, start, "unterminated multi-line string"));
    };
    let mut i = from + first_nl + 1;
    let mut value = String::new();
    loop {
        let Some(rest) = source.get(i..).filter(|r| !r.is_empty()) else {
            return Err(error_at(
                source,
                start,
                "unterminated multi-line string: end it with a line holding only \".\"",
            ));
        };
        let (line, next) = match rest.find('\n') {
            Some(p) => (&rest[..p], i + p + 1),
            None => (rest, source.len()),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == "." {
            return Ok((value, next));
        }
        value.push_str(line.strip_prefix('.').unwrap_or(line));
        value.push_str("\r\n");
        i = next;
    }
}
