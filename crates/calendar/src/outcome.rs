use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest reason rendered, in bytes: a header line carrying it stays far below RFC 5322's
/// 998 octets.
pub const MAX_REASON_BYTES: usize = 600;

/// What processing an iTIP message did (or would do) to a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Added,
    Updated,
    NoAction,
    Error,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Added => "added",
            OutcomeKind::Updated => "updated",
            OutcomeKind::NoAction => "no_action",
            OutcomeKind::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "added" => OutcomeKind::Added,
            "updated" => OutcomeKind::Updated,
            "no_action" => OutcomeKind::NoAction,
            "error" => OutcomeKind::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision as a value: it travels unchanged from the core to the mail header, the
/// log line, the queue row (as JSON) and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub reason: String,
}

impl Outcome {
    pub fn new(kind: OutcomeKind, reason: impl Into<String>) -> Self {
        Outcome {
            kind,
            reason: reason.into(),
        }
    }

    pub fn no_action(reason: impl Into<String>) -> Self {
        Self::new(OutcomeKind::NoAction, reason)
    }

    pub fn error(reason: impl Into<String>) -> Self {
        Self::new(OutcomeKind::Error, reason)
    }
}

/// The one rendering of an outcome, wherever it is shown: the `X-Imipd-Cal-Outcome` header,
/// the command line and log lines. `added; reason="…"`, the reason a quoted string
/// (RFC 5322 section 3.2.4) with quotes and backslashes escaped, control characters (CR,
/// LF …) as spaces and at most [`MAX_REASON_BYTES`] bytes, so that it cannot inject headers.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; reason=\"", self.kind)?;
        let mut written = 0;
        for c in self.reason.chars() {
            let mut buf = [0u8; 4];
            let piece: &str = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                c if c.is_control() => " ",
                c => c.encode_utf8(&mut buf),
            };
            written += piece.len();
            if written > MAX_REASON_BYTES {
                break;
            }
            f.write_str(piece)?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_one_quoted_string_of_bounded_length() {
        let o = Outcome::new(OutcomeKind::Added, "event \"Lunch\" added");
        assert_eq!(o.to_string(), "added; reason=\"event \\\"Lunch\\\" added\"");
        let evil = Outcome::error("bad\r\nBcc: victim@example.org\\");
        assert_eq!(
            evil.to_string(),
            "error; reason=\"bad  Bcc: victim@example.org\\\\\""
        );
        let long = Outcome::no_action("é".repeat(1000));
        let text = long.to_string();
        assert!(text.ends_with("é\""), "cut at a character: {text}");
        let reason = &text["no_action; reason=\"".len()..text.len() - 1];
        assert!(reason.len() <= MAX_REASON_BYTES, "{} bytes", reason.len());
        assert!(reason.len() > MAX_REASON_BYTES - 2);
    }

    #[test]
    fn outcomes_travel_as_json_of_the_type() {
        let o = Outcome::no_action("rate limit: 50");
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(json, r#"{"kind":"no_action","reason":"rate limit: 50"}"#);
        assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), o);
    }
}
