//! Resource names of the objects imipd files itself (mail, the command line). CalDAV
//! clients choose their own names; these only have to be stable, unique per UID and safe
//! in a URL.

use sha2::{Digest, Sha256};

/// The longest UID used as its own name; longer ones are hashed.
const MAX_PLAIN: usize = 100;

/// `<uid>.ics` when the UID is at most 100 characters of `A-Z a-z 0-9 - _ . @` (not
/// starting with `.`), which no URL needs to escape; otherwise `~` and 40 hex digits of
/// the UID's SHA-256. `~` is not in the first set, so the two kinds never collide.
pub fn href_for_uid(uid: &str) -> String {
    name_for_uid(uid, "ics")
}

/// The same rule for a card of an address book: `<uid>.vcf`, or `~<hash>.vcf`.
pub fn card_href_for_uid(uid: &str) -> String {
    name_for_uid(uid, "vcf")
}

fn name_for_uid(uid: &str, extension: &str) -> String {
    let plain = !uid.is_empty()
        && uid.len() <= MAX_PLAIN
        && !uid.starts_with('.')
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if plain {
        return format!("{uid}.{extension}");
    }
    let digest = Sha256::digest(uid.as_bytes());
    let hex: String = digest[..20].iter().map(|b| format!("{b:02x}")).collect();
    format!("~{hex}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_uid_when_safe_and_a_hash_otherwise() {
        let long = "a".repeat(101);
        // (UID, whether it is its own name)
        let cases = [
            ("abc123@example.org", true),
            ("040000008200E00074C5B7101A82E008", true),
            ("a_b-c.d", true),
            (&long[..100], true),
            (&long, false),
            ("", false),
            (".hidden", false),
            ("..", false),
            ("with space", false),
            ("a/b", false),
            ("a%2Fb", false),
            ("~x", false),
            ("caf\u{e9}", false),
            ("line\r\nbreak", false),
        ];
        for (uid, plain) in cases {
            let href = href_for_uid(uid);
            assert!(href.ends_with(".ics"), "{uid:?} → {href}");
            assert_eq!(href == format!("{uid}.ics"), plain, "{uid:?} → {href}");
            if !plain {
                assert!(
                    href.starts_with('~') && href.len() == 45,
                    "{uid:?} → {href}"
                );
            }
            assert_eq!(href_for_uid(uid), href, "stable");
        }
        assert_ne!(href_for_uid("a b"), href_for_uid("a  b"));
        assert_eq!(card_href_for_uid("kate-1"), "kate-1.vcf");
        assert_eq!(
            card_href_for_uid("urn:uuid:1"),
            href_for_uid("urn:uuid:1").replace(".ics", ".vcf")
        );
    }
}
