use crate::Result;
use rusqlite::Connection;

/// Each entry moves the schema one version up; never edit a released entry.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT,
    created       INTEGER NOT NULL
);
CREATE TABLE addresses (
    address    TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    is_primary INTEGER NOT NULL
);
CREATE INDEX addresses_user ON addresses(user);
CREATE TABLE calendars (
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    PRIMARY KEY (user, id)
);
-- A UID lives in at most one of a user's calendars.
CREATE TABLE objects (
    user        TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    uid         TEXT NOT NULL,
    ics         TEXT NOT NULL,
    modseq      INTEGER NOT NULL,
    PRIMARY KEY (user, uid),
    FOREIGN KEY (user, calendar_id) REFERENCES calendars(user, id) ON DELETE CASCADE
);
CREATE TABLE prefs (
    user  TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user, key)
);
CREATE TABLE sieve (
    user   TEXT PRIMARY KEY REFERENCES users(name) ON DELETE CASCADE,
    script TEXT NOT NULL
);
CREATE TABLE contacts (
    user    TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    address TEXT NOT NULL,
    PRIMARY KEY (user, address)
);
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    idem_key    TEXT NOT NULL UNIQUE,
    uid         TEXT NOT NULL,
    sender      TEXT NOT NULL,
    message     BLOB NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error  TEXT,
    outcome     TEXT,
    applied     INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, not_before);
-- jobs for one user and UID run one at a time, in order
CREATE INDEX jobs_serial ON jobs(user, uid, id);
CREATE INDEX jobs_sender ON jobs(user, sender, applied, updated);
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user        TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    rcpt_to     TEXT NOT NULL,
    data        BLOB NOT NULL,
    purpose     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error  TEXT,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, not_before);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters VALUES ('calendar_changes', 0);
"#,
    r#"
ALTER TABLE outbox ADD COLUMN idem_key TEXT;
CREATE UNIQUE INDEX outbox_idem ON outbox(idem_key) WHERE idem_key IS NOT NULL;
"#,
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        // The version is read inside the write lock: two processes opening a new
        // database at once must not both run the same migration.
        let tx = rusqlite::Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(tx.commit()?);
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}
