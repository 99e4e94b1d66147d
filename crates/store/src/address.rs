//! Address normalisation: the one place that decides when two addresses are the same.

/// Lower-cases the ASCII letters of an address and strips a `mailto:` prefix and angle
/// brackets. Everything else is kept byte for byte: Unicode case folding would make
/// look-alikes one address (`\u{212A}ate`, with a Kelvin sign, folds to `kate`).
pub fn normalize_address(address: &str) -> String {
    let a = address.trim().trim_start_matches('<').trim_end_matches('>');
    let a = match a.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &a[7..],
        _ => a,
    };
    a.trim().to_ascii_lowercase()
}

/// The address a mailbox is known by: normalised, with a `+tag` sub-address removed
/// (`Bob+lists@Example.org` → `bob@example.org`). `None` when it is not local@domain.
pub fn canonical_address(address: &str) -> Option<String> {
    let a = normalize_address(address);
    let (local, domain) = a.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    if local.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let cases = [
            ("bob@example.org", Some("bob@example.org")),
            ("Bob@Example.ORG", Some("bob@example.org")),
            ("<bob+tag@example.org>", Some("bob@example.org")),
            ("mailto:BOB@example.org", Some("bob@example.org")),
            ("MAILTO:bob+a+b@example.org", Some("bob@example.org")),
            ("bob", None),
            ("@example.org", None),
            ("+tag@example.org", None),
            ("bob@", None),
            ("\u{212A}ate@example.org", Some("\u{212A}ate@example.org")),
            ("\u{C9}mile@example.org", Some("\u{C9}mile@example.org")),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_address(input).as_deref(), want, "input {input:?}");
        }
    }
}
