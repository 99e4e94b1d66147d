//! Calendar user addresses: compared without the `mailto:` scheme, ASCII letters
//! case-insensitively and everything else byte for byte. Unicode case folding would make
//! look-alikes equal (`\u{212A}ate`, with a Kelvin sign, folds to `kate`), so it is never used.

/// `MAILTO:Bob@X.org ` → `bob@x.org`; non-ASCII characters are kept as written.
pub(crate) fn normalize(address: &str) -> String {
    let trimmed = address.trim();
    let bare = match trimmed.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &trimmed[7..],
        _ => trimmed,
    };
    bare.trim().to_ascii_lowercase()
}

/// Like [`normalize`], and drops a `+tag` from the local part so `bob+cal@x` is `bob@x`:
/// used only to recognise the user's own addresses.
pub(crate) fn normalize_untagged(address: &str) -> String {
    let normal = normalize(address);
    match normal.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => normal,
    }
}

/// The user's addresses, ready for [`is_user`].
pub(crate) struct UserAddresses(Vec<String>);

impl UserAddresses {
    pub(crate) fn new<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all: Vec<String> = addresses
            .into_iter()
            .filter(|a| !a.trim().is_empty())
            .map(normalize_untagged)
            .collect();
        all.sort();
        all.dedup();
        UserAddresses(all)
    }

    pub(crate) fn contains(&self, address: &str) -> bool {
        let wanted = normalize_untagged(address);
        self.0.contains(&wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_scheme_case_and_tag() {
        assert_eq!(normalize(" MAILTO:Bob@X.org"), "bob@x.org");
        assert_eq!(normalize("bob@x"), "bob@x");
        assert_eq!(normalize_untagged("mailto:Bob+Cal@X"), "bob@x");
        let user = UserAddresses::new(["bob@x", ""]);
        assert!(user.contains("mailto:BOB+work@x"));
        assert!(!user.contains("bobby@x"));
    }

    #[test]
    fn only_ascii_letters_are_case_insensitive() {
        for (a, b, same) in [
            ("Kate@Example.ORG", "kate@example.org", true),
            ("\u{212A}ate@example.org", "kate@example.org", false),
            ("\u{212A}ate@example.org", "Kate@example.org", false),
            ("j\u{f6}rg@EXAMPLE.org", "j\u{f6}rg@example.org", true),
            ("J\u{d6}RG@example.org", "j\u{f6}rg@example.org", false),
            ("stra\u{df}e@example.org", "strasse@example.org", false),
            ("\u{131}da@example.org", "ida@example.org", false),
        ] {
            assert_eq!(normalize(a) == normalize(b), same, "{a:?} vs {b:?}");
            assert_eq!(
                UserAddresses::new([b]).contains(a),
                same,
                "user {b:?}, address {a:?}"
            );
        }
    }
}
