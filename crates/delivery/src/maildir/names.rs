//! Names inside a Maildir: checked user and folder names, Maildir++ folder directories,
//! flag suffixes and unique file names.

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest user or folder name accepted, in bytes: directory names stay well under the
/// usual 255-byte file name limit even after modified UTF-7 encoding.
pub const MAX_NAME: usize = 200;

fn invalid(what: &str, name: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid {what} name {name:?}: {why}"),
    )
}

/// Checks that `user` is usable as one directory name under the Maildir root.
pub fn check_user(user: &str) -> io::Result<()> {
    if user.is_empty() {
        return Err(invalid("user", user, "empty"));
    }
    if user.len() > MAX_NAME {
        return Err(invalid("user", user, "longer than 200 bytes"));
    }
    if user.starts_with('.') {
        return Err(invalid("user", user, "starts with '.'"));
    }
    if user.contains('/') || user.contains('\\') {
        return Err(invalid("user", user, "contains a path separator"));
    }
    if user.chars().any(char::is_control) {
        return Err(invalid("user", user, "contains a control character"));
    }
    Ok(())
}

/// Whether `folder` names INBOX, the Maildir itself rather than a Maildir++ folder.
pub fn is_inbox(folder: &str) -> bool {
    folder.eq_ignore_ascii_case("INBOX")
}

/// The Maildir++ directory name of a folder: "A/B" and "A.B" both become ".A.B", with
/// non-ASCII names in IMAP modified UTF-7 (RFC 3501 section 5.1.3) as IMAP servers
/// reading the Maildir expect.
pub fn folder_dir(folder: &str) -> io::Result<String> {
    if folder.is_empty() {
        return Err(invalid("folder", folder, "empty"));
    }
    if folder.len() > MAX_NAME {
        return Err(invalid("folder", folder, "longer than 200 bytes"));
    }
    if folder.chars().any(char::is_control) {
        return Err(invalid("folder", folder, "contains a control character"));
    }
    if folder.contains('\\') {
        return Err(invalid("folder", folder, "contains '\\'"));
    }
    let mut dir = String::new();
    for part in folder.split(['/', '.']) {
        if part.is_empty() {
            return Err(invalid(
                "folder",
                folder,
                "empty hierarchy level (leading, trailing or doubled '/' or '.')",
            ));
        }
        dir.push('.');
        dir.push_str(&modified_utf7(part));
    }
    Ok(dir)
}

fn modified_utf7(name: &str) -> String {
    let mut out = String::new();
    let mut wide: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush_utf7(&mut wide, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            wide.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush_utf7(&mut wide, &mut out);
    out
}

fn flush_utf7(wide: &mut Vec<u16>, out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    if wide.is_empty() {
        return;
    }
    let bytes: Vec<u8> = wide.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        let sextets = (chunk.len() * 8).div_ceil(6);
        for i in 0..sextets {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out.push('-');
    wide.clear();
}

/// The Maildir info suffix for IMAP flags: ":2," and the flag letters in ASCII order, or
/// "" when no known flag is set. Keywords have no letter here and are left out.
pub fn flag_suffix(flags: &[&str]) -> String {
    let mut letters: Vec<char> = flags
        .iter()
        .filter_map(|flag| match flag.to_ascii_lowercase().as_str() {
            "\\seen" => Some('S'),
            "\\answered" => Some('R'),
            "\\flagged" => Some('F'),
            "\\deleted" => Some('T'),
            "\\draft" => Some('D'),
            _ => None,
        })
        .collect();
    if letters.is_empty() {
        return String::new();
    }
    letters.sort_unstable();
    letters.dedup();
    format!(":2,{}", letters.into_iter().collect::<String>())
}

/// A file name no other delivery uses: time, process, per-process counter and a random
/// part, then the host name and the size (the `S=` that IMAP servers read to skip a stat).
pub fn unique_name(hostname: &str, size: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let random = RandomState::new().hash_one((now, count));
    format!(
        "{}.{}_{count}_{random:016x}.{},S={size}",
        now.as_secs(),
        std::process::id(),
        maildir_host(hostname)
    )
}

/// The host name with the characters a Maildir file name reserves escaped as the
/// Maildir specification asks ("/" as \057, ":" as \072).
fn maildir_host(hostname: &str) -> String {
    let mut out = String::new();
    for c in hostname.chars() {
        match c {
            '/' => out.push_str("\\057"),
            ':' => out.push_str("\\072"),
            ',' => out.push_str("\\054"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push_str("localhost");
    }
    out
}

/// This machine's host name, for file names.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        for good in ["alice", "bob@example.org", "a.b", "x-y_z"] {
            assert!(check_user(good).is_ok(), "{good:?} rejected");
        }
        let long = "a".repeat(MAX_NAME + 1);
        for bad in [
            "", ".hidden", "..", "../etc", "a/b", "a\\b", "a\nb", "a\0b", &long,
        ] {
            let err = check_user(bad).expect_err(bad);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
            assert!(err.to_string().contains("invalid user name"), "{err}");
        }
    }

    #[test]
    fn folders() {
        let cases = [
            ("Work", ".Work"),
            ("A/B", ".A.B"),
            ("A.B", ".A.B"),
            ("Calendar/Invites 2026", ".Calendar.Invites 2026"),
            ("R&D", ".R&-D"),
            ("Entwürfe", ".Entw&APw-rfe"),
            ("台北", ".&U,BTFw-"),
        ];
        for (folder, dir) in cases {
            assert_eq!(folder_dir(folder).ok().as_deref(), Some(dir), "{folder:?}");
        }
        let long = "a".repeat(MAX_NAME + 1);
        for bad in [
            "", ".A", "A.", "A//B", "..", "../x", "a/../b", "a\tb", "a\\b", &long,
        ] {
            let err = folder_dir(bad).expect_err(bad);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
            assert!(err.to_string().contains("invalid folder name"), "{err}");
        }
    }

    #[test]
    fn flags() {
        let cases: &[(&[&str], &str)] = &[
            (&[], ""),
            (&["$Label1"], ""),
            (&["\\Seen"], ":2,S"),
            (&["\\seen", "\\Flagged", "\\Answered"], ":2,FRS"),
            (&["\\Deleted", "\\Draft", "\\Seen", "\\Seen", "x"], ":2,DST"),
        ];
        for &(flags, suffix) in cases {
            assert_eq!(flag_suffix(flags), suffix, "{flags:?}");
        }
    }

    #[test]
    fn unique_names() {
        let a = unique_name("mx:1/a,b", 42);
        let b = unique_name("mx:1/a,b", 42);
        assert_ne!(a, b);
        assert!(a.ends_with(".mx\\0721\\057a\\054b,S=42"), "{a}");
        assert!(!a.contains('/') && !a.contains(':'), "{a}");
        assert!(!hostname().is_empty());
    }
}
