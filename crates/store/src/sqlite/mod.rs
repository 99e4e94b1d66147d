//! The embedded default backend: one SQLite file in WAL mode, `synchronous=FULL` so that
//! a committed job is on disk before the LMTP `250` that depends on it. Only a job's lease
//! is committed without a flush of its own (see `SqliteStore::write_unflushed`).

mod addressbooks;
mod app_passwords;
mod calendars;
mod changes;
mod dead_properties;
mod nodes;
mod outbox;
mod queue;
mod schema;
mod sessions;
mod store_impl;
mod timespan;
mod users;

use crate::{Error, Result};
use rusqlite::Connection;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Prepared statements kept per connection: more than the store has, so none is prepared
/// twice on one connection.
const STATEMENTS_KEPT: usize = 256;

pub struct SqliteStore {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One writer at a time inside the process: threads queue here and are woken as soon as
    /// the previous commit ends, instead of polling SQLite's lock with growing sleeps (which
    /// put 100 ms spikes into LMTP replies under load). Other processes still meet the
    /// busy timeout.
    writer: Mutex<()>,
    /// Device and inode of the file opened: a file deleted or swapped underneath a running
    /// server would otherwise take acknowledged mail into an unlinked inode.
    identity: (u64, u64),
}

impl SqliteStore {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let store = SqliteStore {
            path: path.as_ref().to_path_buf(),
            idle: Mutex::new(Vec::new()),
            writer: Mutex::new(()),
            identity: (0, 0),
        };
        let mut conn = store.connect()?;
        schema::migrate(&mut conn)?;
        let meta = std::fs::metadata(&store.path).map_err(|_| Error::Replaced {
            path: store.path.clone(),
            what: "disappeared while it was being opened",
        })?;
        store.put_back(conn);
        Ok(SqliteStore {
            identity: (meta.dev(), meta.ino()),
            ..store
        })
    }

    /// Whether the file at the path is still the one opened, and writable.
    pub(crate) fn check_file(&self) -> Result<()> {
        let replaced = |what| Error::Replaced {
            path: self.path.clone(),
            what,
        };
        let meta = std::fs::metadata(&self.path).map_err(|_| replaced("was deleted"))?;
        if (meta.dev(), meta.ino()) != self.identity {
            return Err(replaced("was replaced by another file"));
        }
        // Asked of the kernel, not by opening the file: closing any descriptor of the
        // database file drops every POSIX lock this process's SQLite connections hold on it.
        let not_writable = |source| Error::NotWritable {
            path: self.path.clone(),
            source,
        };
        let path = std::ffi::CString::new(self.path.as_os_str().as_bytes())
            .map_err(|_| not_writable(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
        if unsafe { libc::access(path.as_ptr(), libc::W_OK) } != 0 {
            return Err(not_writable(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection> {
        let open = |path: &Path| -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // rusqlite keeps 16 prepared statements by default, fewer than the store uses:
            // past that each call prepared its statement again (a job claim spent more on
            // preparing than on running).
            conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
            Ok(conn)
        };
        open(&self.path).map_err(|source| Error::Open {
            path: self.path.clone(),
            source,
        })
    }

    fn put_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < 16
        {
            idle.push(conn);
        }
    }

    /// An idle connection of the pool, or a new one.
    fn take(&self) -> Result<Connection> {
        match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    /// Runs `f` on a pooled connection.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.take()?;
        let result = f(&mut conn);
        self.put_back(conn);
        result
    }

    /// Runs `f` in an immediate transaction whose commit is not flushed to the disk, for
    /// writes that a power cut may undo without harm. A crash of the process loses nothing
    /// (the WAL is written before the commit returns), and the next flushed commit makes it
    /// durable with everything before it. The connection goes back to the pool only once
    /// it flushes again.
    fn write_unflushed<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut conn = self.take()?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = (|| {
            let tx =
                rusqlite::Transaction::new(&mut conn, rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        conn.pragma_update(None, "synchronous", "FULL")?;
        self.put_back(conn);
        result
    }

    /// Runs `f` in an immediate (write-locking) transaction.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.with(|conn| {
            let tx = rusqlite::Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PRAGMA synchronous` of every pooled connection: 2 is FULL.
    fn pooled_synchronous(store: &SqliteStore) -> Vec<i64> {
        store
            .idle
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap())
            .collect()
    }

    #[test]
    fn an_unflushed_write_leaves_every_pooled_connection_flushing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite3")).unwrap();
        let synchronous = |tx: &rusqlite::Transaction<'_>| -> Result<i64> {
            Ok(tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
        };
        assert_eq!(
            store.write_unflushed(synchronous).unwrap(),
            1,
            "NORMAL inside"
        );
        assert_eq!(pooled_synchronous(&store), [2]);
        let failed: Result<()> = store.write_unflushed(|_| Err(Error::NoSuchUser("x".into())));
        assert!(failed.is_err());
        assert_eq!(pooled_synchronous(&store), [2]);
        assert_eq!(store.write(synchronous).unwrap(), 2, "FULL for the others");
    }
}
