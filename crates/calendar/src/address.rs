//! Calendar user addresses: compared case-insensitively, without the `mailto:` scheme.

/// `MAILTO:Bob@X.org ` → `bob@x.org`.
pub(crate) fn normalize(address: &str) -> String {
    let trimmed = address.trim();
    let bare = match trimmed.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &trimmed[7..],
        _ => trimmed,
    };
    bare.trim().to_lowercase()
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
}
