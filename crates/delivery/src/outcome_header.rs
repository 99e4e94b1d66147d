//! The `X-Imipd-Cal-Outcome` header line: the outcome as [`Outcome`]'s one rendering,
//! folded.

use imipd_calendar::Outcome;

const NAME: &str = "X-Imipd-Cal-Outcome: ";
/// Lines are folded at spaces to stay near RFC 5322's recommended 78 characters.
const FOLD_AT: usize = 78;

/// `X-Imipd-Cal-Outcome: added; reason="…"` with CRLF. The value is the outcome's rendering
/// (which escapes the reason and keeps it to one line), folded at spaces, which a quoted
/// string allows: unfolded, the field is that rendering exactly.
pub fn outcome_header(outcome: &Outcome) -> String {
    let line = format!("{NAME}{outcome}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use imipd_calendar::OutcomeKind;

    #[test]
    fn the_header_is_the_rendering_folded() {
        let o = Outcome::new(OutcomeKind::Added, "event \"Lunch\" added");
        assert_eq!(
            outcome_header(&o),
            "X-Imipd-Cal-Outcome: added; reason=\"event \\\"Lunch\\\" added\"\r\n"
        );
        let evil = Outcome::error("bad\r\nBcc: victim@example.org\\");
        let h = outcome_header(&evil);
        assert!(!h.contains("\r\nBcc"), "{h:?}");
        assert!(h.ends_with("\\\\\"\r\n"), "{h:?}");
        let long = Outcome::no_action("word ".repeat(400));
        let h = outcome_header(&long);
        assert!(h.ends_with("\"\r\n"));
        for line in h.trim_end_matches("\r\n").split("\r\n").skip(1) {
            assert!(
                line.starts_with(' '),
                "continuation lines are folded: {line:?}"
            );
        }
        assert!(h.split("\r\n").all(|l| l.len() <= 78), "{h}");
        assert!(h.len() < 998 + 200);
        let unfolded = h.trim_end_matches("\r\n").replace("\r\n", "");
        assert_eq!(unfolded, format!("{NAME}{long}"));
    }
}
