//! Delivery into Maildir (and Maildir++ folders), the layout Dovecot and other IMAP
//! servers read: a message is written under tmp/, synced, then renamed into new/ (or cur/
//! when it carries flags), so a reader never sees half a message and a 250 means the
//! message is on disk. A folder delivery creates is subscribed, as an IMAP client creating
//! it would have done.

mod names;
mod subscriptions;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Maildirs of all users under one root: `<root>/<user>/Maildir`.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    hostname: String,
}

impl Maildir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Maildir {
            root: root.into(),
            hostname: names::hostname(),
        }
    }

    /// Delivers to `<root>/<user>/Maildir` (folder `None` or INBOX) or to the Maildir++
    /// folder `<root>/<user>/Maildir/.<Name>/`, created if missing; "A/B" and "A.B" are
    /// both `.A.B`, and subscribed (Maildir++ `subscriptions`) when created. `pieces` are written one after the other, as given. With IMAP system
    /// flags (\Seen \Answered \Flagged \Deleted \Draft) the message goes to cur/ with
    /// `:2,` and the flag letters; other keywords are ignored. Returns the path of the message file.
    pub fn deliver(
        &self,
        user: &str,
        folder: Option<&str>,
        flags: &[&str],
        pieces: &[&[u8]],
    ) -> io::Result<PathBuf> {
        let dir = self.folder_path(user, folder)?;
        let is_folder = folder.is_some_and(|f| !names::is_inbox(f));
        if ensure_maildir(&dir, is_folder)?
            && is_folder
            && let (Some(inbox), Some(name)) = (dir.parent(), dir.file_name())
            && let Err(e) = subscriptions::subscribe(inbox, &name.to_string_lossy())
        {
            // The folder and the message are there; only clients that list subscribed
            // folders alone miss it until the user subscribes.
            tracing::warn!(
                user,
                "cannot subscribe to the new folder {}: {e}",
                dir.display()
            );
        }
        let size = pieces.iter().map(|p| p.len()).sum();
        let name = names::unique_name(&self.hostname, size);
        let tmp = dir.join("tmp").join(&name);
        if let Err(e) = write_synced(&tmp, pieces) {
            // The partial file is of no use to anyone; the write error is what matters.
            let _ = fs::remove_file(&tmp);
            return Err(with_path(e, &tmp));
        }
        let suffix = names::flag_suffix(flags);
        let (subdir, final_name) = if suffix.is_empty() {
            ("new", name)
        } else {
            ("cur", format!("{name}{suffix}"))
        };
        let target_dir = dir.join(subdir);
        let target = target_dir.join(final_name);
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(with_path(e, &target));
        }
        sync_dir(&target_dir).map_err(|e| with_path(e, &target_dir))?;
        Ok(target)
    }

    /// Whether the folder exists (INBOX always does: delivery creates it).
    pub fn folder_exists(&self, user: &str, folder: &str) -> bool {
        if names::is_inbox(folder) {
            return names::check_user(user).is_ok();
        }
        self.folder_path(user, Some(folder))
            .is_ok_and(|dir| dir.join("cur").is_dir())
    }

    fn folder_path(&self, user: &str, folder: Option<&str>) -> io::Result<PathBuf> {
        names::check_user(user)?;
        let inbox = self.root.join(user).join("Maildir");
        match folder {
            Some(folder) if !names::is_inbox(folder) => Ok(inbox.join(names::folder_dir(folder)?)),
            _ => Ok(inbox),
        }
    }
}

/// Creates cur/, new/ and tmp/ where missing, and the `maildirfolder` marker that
/// Maildir++ puts in every folder. Returns whether anything was missing.
fn ensure_maildir(dir: &Path, is_folder: bool) -> io::Result<bool> {
    if dir.join("tmp").is_dir() && dir.join("new").is_dir() && dir.join("cur").is_dir() {
        return Ok(false);
    }
    for sub in ["cur", "new", "tmp"] {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(|e| with_path(e, &path))?;
    }
    if is_folder {
        let marker = dir.join("maildirfolder");
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&marker)
            .map_err(|e| with_path(e, &marker))?;
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent).map_err(|e| with_path(e, parent))?;
    }
    Ok(true)
}

fn write_synced(path: &Path, pieces: &[&[u8]]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    for piece in pieces {
        file.write_all(piece)?;
    }
    file.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The error with the path it concerns, so the log says which file or directory to check.
fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
