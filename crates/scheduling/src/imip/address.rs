//! Mail addresses on their way out: every address that reaches a header or an SMTP
//! command passes through here first, because many of them come from calendar data.

use std::fmt;

/// A display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

impl Mailbox {
    pub fn new(name: Option<&str>, email: &str) -> Self {
        Mailbox {
            name: name.map(str::to_string),
            email: email.to_string(),
        }
    }

    /// The display name reduced to one safe line, or `None` when nothing printable is left.
    pub fn clean_name(&self) -> Option<String> {
        self.name
            .as_deref()
            .map(|n| one_line(n, 100))
            .filter(|n| !n.is_empty())
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.clean_name() {
            Some(name) => write!(f, "{name} <{}>", self.email),
            None => write!(f, "<{}>", self.email),
        }
    }
}

/// Whether `address` is a plain `local@domain` that is safe in a header and in
/// `MAIL FROM:<…>` / `RCPT TO:<…>`: printable ASCII, no spaces, brackets, quotes or
/// separators, one `@`, at most 254 characters.
pub fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && address.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'<' | b'>' | b'(' | b')' | b'[' | b']' | b',' | b';' | b':' | b'"' | b'\\'
                )
        })
        && !local.contains('@')
}

/// Reduces hostile text to one line for a header or a log: control characters (CR and LF
/// among them) become spaces, runs of spaces collapse, and the text is cut at `max` chars.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        out.push(c);
        if out.chars().count() >= max {
            break;
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let cases = [
            ("bob@example.org", true),
            ("bob+tag@sub.example.org", true),
            ("bob", false),
            ("@example.org", false),
            ("bob@", false),
            ("bob@example.org\r\nRCPT TO:<x@y>", false),
            ("bob@example.org>", false),
            ("bob smith@example.org", false),
            ("bob@@example.org", false),
            ("\"bob\"@example.org", false),
            ("bøb@example.org", false),
            ("bob@example.org.", false),
        ];
        for (input, want) in cases {
            assert_eq!(is_valid_address(input), want, "address {input:?}");
        }
    }

    #[test]
    fn one_line_strips_controls() {
        let cases = [
            ("Team sync", "Team sync"),
            ("Team\r\nBcc: x@y", "Team Bcc: x@y"),
            ("  a \t b  ", "a b"),
            ("bell\x07", "bell"),
        ];
        for (input, want) in cases {
            assert_eq!(one_line(input, 100), want, "input {input:?}");
        }
        assert_eq!(one_line("abcdef", 3), "abc");
    }
}
