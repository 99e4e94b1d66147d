//! The `X-Imipd-Cal-Outcome` header line.

use imipd_calendar::Outcome;

const NAME: &str = "X-Imipd-Cal-Outcome: ";
/// Longest reason written, in bytes: the whole field stays far below RFC 5322's 998.
const MAX_REASON_BYTES: usize = 600;
/// Lines are folded at spaces to stay near RFC 5322's recommended 78 characters.
const FOLD_AT: usize = 78;

/// `X-Imipd-Cal-Outcome: added; reason="…"` with CRLF. Quotes and backslashes in the
/// reason are escaped, control characters (CR, LF …) become spaces, and long reasons are
/// folded at spaces, which a quoted string allows, so the line cannot inject headers.
pub fn outcome_header(outcome: &Outcome) -> String {
    let mut reason = String::new();
    for c in outcome.reason.chars() {
        let piece: &str = &match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        };
        if reason.len() + piece.len() > MAX_REASON_BYTES {
            break;
        }
        reason.push_str(piece);
    }
    let line = format!("{NAME}{}; reason=\"{reason}\"", outcome.kind.as_str());
    let mut folded = String::with_capacity(line.len() + 16);
    let mut line_len = 0;
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            if line_len + 1 + word.chars().count() > FOLD_AT && line_len > NAME.len() {
                folded.push_str("\r\n");
                line_len = 0;
            }
            folded.push(' ');
            line_len += 1;
        }
        folded.push_str(word);
        line_len += word.chars().count();
    }
    folded.push_str("\r\n");
    folded
}
