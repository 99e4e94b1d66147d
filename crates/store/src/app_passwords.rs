//! App passwords: one generated password per device or app, each with a label, signing in
//! as the user over HTTP Basic beside the user's own password, and revocable one by one.
//!
//! A generated password is [`GROUPS`] groups of four characters from [`ALPHABET`], e.g.
//! `k7qm-2xwa-9fhr-tn4c-pe3v-bd8s` (80 bits of secret beyond its id). Its first two
//! groups are its id, stored in clear, so a sign-in checks one hash, the one of the
//! password it names, whatever number of app passwords a user has; the whole password is
//! stored as an Argon2id hash like the user's own ([`crate::hash_password`]).
//!
//! The functions here ([`issue_app_password`], [`list_app_passwords`],
//! [`revoke_app_password`]) are what `imipd user app-password` and the web page call.

use crate::{Error, Result, hash_password};
use password_hash::rand_core::{OsRng, RngCore};
use serde::Serialize;

/// The characters of a generated password: lower-case letters and digits without the ones
/// read as each other (`0`/`o`, `1`/`l`), 32 of them, so each carries 5 bits.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const GROUPS: usize = 6;
const GROUP_LEN: usize = 4;
/// Characters of the id: the first two groups.
const ID_LEN: usize = 2 * GROUP_LEN;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// App passwords a user may have at once.
pub const MAX_APP_PASSWORDS: usize = 50;

/// An app password as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppPassword {
    pub label: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds of the last sign-in checked against it (sign-ins within the credential
    /// cache's lifetime are not recorded again).
    pub last_used: Option<i64>,
}

/// A newly issued app password: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAppPassword {
    pub label: String,
    pub password: String,
}

/// What a backend stores of app passwords.
pub trait AppPasswords {
    /// Stores a new app password; [`Error::AppPasswordExists`] when the label is taken.
    fn insert_app_password(&self, user: &str, label: &str, id: &str, hash: &str) -> Result<()>;
    /// The user's app passwords, by label.
    fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>>;
    /// The hash of the user's app password with this id.
    fn app_password_hash(&self, user: &str, id: &str) -> Result<Option<String>>;
    /// Records a sign-in with the app password `id` at `at` (Unix seconds).
    fn app_password_used(&self, user: &str, id: &str, at: i64) -> Result<()>;
    /// Deletes the app password with this label; `false` when there is none.
    fn delete_app_password(&self, user: &str, label: &str) -> Result<bool>;
}

/// Generates an app password for `user` under `label`, stores its hash and returns it.
pub fn issue_app_password(
    store: &dyn AppPasswords,
    user: &str,
    label: &str,
) -> Result<IssuedAppPassword> {
    let label = checked_label(label)?;
    if store.app_passwords(user)?.len() >= MAX_APP_PASSWORDS {
        return Err(Error::InvalidAppPassword(format!(
            "{user} has {MAX_APP_PASSWORDS} app passwords, the most allowed; revoke one first"
        )));
    }
    let password = generate();
    let id = app_password_id(&password).unwrap_or_default();
    store.insert_app_password(user, &label, &id, &hash_password(&password)?)?;
    Ok(IssuedAppPassword { label, password })
}

pub fn list_app_passwords(store: &dyn AppPasswords, user: &str) -> Result<Vec<AppPassword>> {
    store.app_passwords(user)
}

/// Revokes the app password `label`: the next request made with it is refused.
pub fn revoke_app_password(store: &dyn AppPasswords, user: &str, label: &str) -> Result<()> {
    if store.delete_app_password(user, label.trim())? {
        return Ok(());
    }
    let labels: Vec<String> = store
        .app_passwords(user)?
        .into_iter()
        .map(|p| p.label)
        .collect();
    Err(Error::NoSuchAppPassword {
        user: user.into(),
        label: label.into(),
        labels: if labels.is_empty() {
            "none".into()
        } else {
            labels.join(", ")
        },
    })
}

/// The id of `password` and the form its hash was made of, when it has the shape of a
/// generated app password: case, spaces and dashes do not count, as people retype them.
pub fn app_password_parts(password: &str) -> Option<(String, String)> {
    let canonical: String = password
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let well_formed =
        canonical.len() == GROUPS * GROUP_LEN && canonical.bytes().all(|b| ALPHABET.contains(&b));
    well_formed.then(|| (canonical[..ID_LEN].to_string(), grouped(&canonical)))
}

fn app_password_id(password: &str) -> Option<String> {
    app_password_parts(password).map(|(id, _)| id)
}

fn generate() -> String {
    let mut bytes = [0u8; GROUPS * GROUP_LEN];
    OsRng.fill_bytes(&mut bytes);
    // 256 is a multiple of 32: taking the low 5 bits keeps every character equally likely.
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    grouped(&chars)
}

fn grouped(chars: &str) -> String {
    chars
        .as_bytes()
        .chunks(GROUP_LEN)
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn checked_label(label: &str) -> Result<String> {
    let label = label.trim();
    let reason = if label.is_empty() {
        Some("is empty; name the device or app, e.g. \"phone\"".to_string())
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Some(format!("is longer than {MAX_LABEL_CHARS} characters"))
    } else if label.chars().any(char::is_control) {
        Some("contains control characters".to_string())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidAppPassword(format!("the label {reason}"))),
        None => Ok(label.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_their_shape_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), GROUPS * GROUP_LEN + GROUPS - 1, "{a}");
        let (id, canonical) = app_password_parts(&a).unwrap();
        assert_eq!(canonical, a);
        assert_eq!(id, a[..ID_LEN + 1].replace('-', ""));
    }

    #[test]
    fn retyped_passwords_name_the_same_id() {
        // (typed, canonical form when it is one)
        let cases = [
            (
                "abcd-efgh-ijkm-npqr-stuv-wxyz",
                Some("abcd-efgh-ijkm-npqr-stuv-wxyz"),
            ),
            (
                "ABCD EFGH IJKM NPQR STUV WXYZ",
                Some("abcd-efgh-ijkm-npqr-stuv-wxyz"),
            ),
            (
                "abcdefghijkmnpqrstuvwxyz",
                Some("abcd-efgh-ijkm-npqr-stuv-wxyz"),
            ),
            ("abcd-efgh-ijkm-npqr-stuv-wxy", None),
            ("abcd-efgh-ijkm-npqr-stuv-wxyz2", None),
            ("abcd-efgh-ijkl-npqr-stuv-wxyz", None),
            ("secret", None),
            ("", None),
        ];
        for (typed, want) in cases {
            assert_eq!(
                app_password_parts(typed).map(|(_, c)| c).as_deref(),
                want,
                "{typed:?}"
            );
        }
    }

    #[test]
    fn labels_are_checked() {
        let long = "x".repeat(MAX_LABEL_CHARS + 1);
        // (label, accepted as)
        let cases = [
            (" phone ", Some("phone")),
            ("Büro-Mac", Some("Büro-Mac")),
            ("", None),
            ("   ", None),
            ("a\nb", None),
            (long.as_str(), None),
        ];
        for (label, want) in cases {
            assert_eq!(checked_label(label).ok().as_deref(), want, "{label:?}");
        }
    }
}
