//! The Maildir++ `subscriptions` file, as Dovecot reads and writes it, so that a folder a
//! Sieve script creates shows up in `LSUB` and in clients that list subscribed folders only
//! (Thunderbird by default).
//!
//! The format (Dovecot's `subscription-file.c`): an optional header `V<TAB>2<LF><LF>`, then
//! one folder per line. Under that header a folder's hierarchy levels are separated by TAB;
//! without it (the older format) by the Maildir++ separator `.`. Levels are stored as on disk,
//! in modified UTF-7. Writers take `subscriptions.lock` (created exclusively, stale after 30
//! seconds, as Dovecot's dotlock is), write the new list into it and rename it over the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const FILE: &str = "subscriptions";
const LOCK: &str = "subscriptions.lock";
const VERSION_2: &str = "V\t2\n\n";
/// Dovecot treats a lock this old as left behind by a dead writer.
const STALE_LOCK: Duration = Duration::from_secs(30);
/// How long delivery waits for another writer before giving up on the subscription (the
/// mail is stored either way).
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Adds the Maildir++ folder whose directory is `<maildir>/<dir>` (".A.B") to the list, if
/// it is not there yet.
pub fn subscribe(maildir: &Path, dir: &str) -> io::Result<()> {
    let levels: Vec<&str> = dir.trim_start_matches('.').split('.').collect();
    let lock_path = maildir.join(LOCK);
    let mut lock = take_lock(&lock_path)?;
    let result = (|| {
        let current = match fs::read_to_string(maildir.join(FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => VERSION_2.to_string(),
            Err(e) => return Err(e),
        };
        let (header, lines) = match current.strip_prefix(VERSION_2) {
            Some(rest) => (VERSION_2, rest),
            None => ("", current.as_str()),
        };
        let entry = levels.join(if header.is_empty() { "." } else { "\t" });
        if lines.lines().any(|line| line == entry) {
            return Ok(false);
        }
        lock.write_all(header.as_bytes())?;
        lock.write_all(lines.as_bytes())?;
        if !lines.is_empty() && !lines.ends_with('\n') {
            lock.write_all(b"\n")?;
        }
        lock.write_all(format!("{entry}\n").as_bytes())?;
        lock.sync_all()?;
        Ok(true)
    })();
    match result {
        Ok(true) => {
            fs::rename(&lock_path, maildir.join(FILE))?;
            File::open(maildir)?.sync_all()
        }
        Ok(false) => fs::remove_file(&lock_path),
        Err(e) => {
            let _ = fs::remove_file(&lock_path);
            Err(e)
        }
    }
}

fn take_lock(path: &Path) -> io::Result<File> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(file) => return Ok(file),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let age = fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|age| age > STALE_LOCK) {
                    let _ = fs::remove_file(path);
                    continue;
                }
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        ErrorKind::WouldBlock,
                        format!("{} is held by another writer", path.display()),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_files_format_and_are_added_once() {
        // (existing file, folder directories subscribed in order, resulting file)
        let cases: &[(Option<&str>, &[&str], &str)] = &[
            (None, &[".Invitations"], "V\t2\n\nInvitations\n"),
            (
                None,
                &[".Calendar.accepted", ".Caf&AOk-", ".Calendar.accepted"],
                "V\t2\n\nCalendar\taccepted\nCaf&AOk-\n",
            ),
            (
                Some("V\t2\n\nSent\n"),
                &[".Sent", ".A.B"],
                "V\t2\n\nSent\nA\tB\n",
            ),
            (Some("Sent\nTrash"), &[".A.B"], "Sent\nTrash\nA.B\n"),
            (Some(""), &[".X"], "X\n"),
        ];
        for &(existing, dirs, expected) in cases {
            let maildir = tempfile::tempdir().unwrap();
            if let Some(text) = existing {
                fs::write(maildir.path().join(FILE), text).unwrap();
            }
            for dir in dirs {
                subscribe(maildir.path(), dir).unwrap();
            }
            let got = fs::read_to_string(maildir.path().join(FILE)).unwrap();
            assert_eq!(got, expected, "{existing:?} + {dirs:?}");
            assert!(!maildir.path().join(LOCK).exists(), "lock left behind");
        }
    }

    #[test]
    fn a_held_lock_is_waited_for_and_a_stale_one_broken() {
        let maildir = tempfile::tempdir().unwrap();
        let lock = maildir.path().join(LOCK);
        let old = File::create(&lock).unwrap();
        old.set_modified(SystemTime::now() - 2 * STALE_LOCK)
            .unwrap();
        subscribe(maildir.path(), ".Old").unwrap();
        File::create(&lock).unwrap();
        let err = subscribe(maildir.path(), ".New").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
        assert!(err.to_string().contains("subscriptions.lock"), "{err}");
        let got = fs::read_to_string(maildir.path().join(FILE)).unwrap();
        assert_eq!(got, "V\t2\n\nOld\n");
    }
}
