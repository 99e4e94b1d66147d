//! RFC 4790 collations applied to text-match (RFC 4791 section 9.7.5, RFC 6352 10.5.4).

use crate::query::{Collation, MatchType, TextMatch};

/// Does `value` satisfy the text-match, negation included?
pub fn text_matches(tm: &TextMatch, value: &str) -> bool {
    compare(tm.collation, tm.match_type, value, &tm.value) != tm.negate
}

/// A text-match against several values (the values of a multi-valued property, or
/// every parameter of one name): `None` when there is no value at all, else whether
/// one of them matches, negation applied to that outcome.
pub fn match_any<S: AsRef<str>>(
    tm: &TextMatch,
    values: impl IntoIterator<Item = S>,
) -> Option<bool> {
    let mut any = false;
    let mut matched = false;
    for v in values {
        any = true;
        matched = matched || compare(tm.collation, tm.match_type, v.as_ref(), &tm.value);
    }
    any.then_some(matched != tm.negate)
}

/// The match itself, without negation.
pub fn compare(collation: Collation, match_type: MatchType, value: &str, needle: &str) -> bool {
    match collation {
        Collation::Octet => apply(match_type, value.as_bytes(), needle.as_bytes()),
        Collation::AsciiCasemap => {
            // ASCII letters only: "É" and "é" stay different, as the collation says.
            let v = value.as_bytes().to_ascii_lowercase();
            let n = needle.as_bytes().to_ascii_lowercase();
            apply(match_type, &v, &n)
        }
        Collation::UnicodeCasemap => {
            // RFC 5051 folds with the Unicode titlecase mapping after NFKD; full case
            // folding to lower case gives the same result for the scripts contacts and
            // events are written in, without a normalisation table.
            let v = fold(value);
            let n = fold(needle);
            apply(match_type, v.as_bytes(), n.as_bytes())
        }
    }
}

fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn apply(match_type: MatchType, value: &[u8], needle: &[u8]) -> bool {
    match match_type {
        MatchType::Equals => value == needle,
        MatchType::StartsWith => value.starts_with(needle),
        MatchType::EndsWith => value.ends_with(needle),
        MatchType::Contains => {
            needle.is_empty() || value.windows(needle.len()).any(|w| w == needle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Collation::*;
    use MatchType::*;

    #[test]
    fn collations_and_match_types() {
        let cases = [
            (AsciiCasemap, Contains, "Weekly MEETING", "meeting", true),
            (AsciiCasemap, Contains, "Ärger im BÜRO", "ärger", false),
            (AsciiCasemap, Contains, "Ärger im BÜRO", "Ärger IM", true),
            (Octet, Contains, "Weekly MEETING", "meeting", false),
            (Octet, Contains, "Weekly MEETING", "MEET", true),
            (UnicodeCasemap, Contains, "ÄRGER im Büro", "ärger", true),
            (UnicodeCasemap, Equals, "Straße", "STRASSE", false),
            (UnicodeCasemap, Equals, "ΣΊΣΥΦΟΣ", "σίσυφοσ", true),
            (
                AsciiCasemap,
                Equals,
                "alice@example.com",
                "ALICE@example.COM",
                true,
            ),
            (
                AsciiCasemap,
                Equals,
                "alice@example.com",
                "alice@example.co",
                false,
            ),
            (AsciiCasemap, StartsWith, "mailto:bob@x", "MAILTO:", true),
            (
                AsciiCasemap,
                EndsWith,
                "bob@example.com",
                "@EXAMPLE.com",
                true,
            ),
            (
                AsciiCasemap,
                EndsWith,
                "bob@example.com",
                "@example.org",
                false,
            ),
            (Octet, Contains, "anything", "", true),
        ];
        for (collation, mt, value, needle, want) in cases {
            assert_eq!(
                compare(collation, mt, value, needle),
                want,
                "{collation:?} {mt:?} {value:?} ~ {needle:?}"
            );
        }
        let negated = TextMatch {
            value: "x".into(),
            collation: Octet,
            match_type: Contains,
            negate: true,
        };
        assert!(text_matches(&negated, "abc"));
        assert!(!text_matches(&negated, "axc"));
    }
}
