use std::fmt;

/// What processing an iTIP message did (or would do) to a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
/// log line, the queue row and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// The value of an `X-Imipd-Cal-Outcome` header: `added; reason="…"`, with the reason
    /// reduced to one line of printable characters so it cannot inject headers.
    pub fn header_value(&self) -> String {
        let reason: String = self
            .reason
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                c if c.is_control() => ' ',
                c => c,
            })
            .take(300)
            .collect();
        format!("{}; reason=\"{}\"", self.kind, reason)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}
