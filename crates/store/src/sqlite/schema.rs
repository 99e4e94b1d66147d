use crate::Result;
use rusqlite::{Connection, Transaction, params};

/// One part of a migration: SQL, or Rust for what SQL cannot compute.
enum Step {
    Sql(&'static str),
    Rust(fn(&Transaction<'_>) -> Result<()>),
}

/// Each entry moves the schema one version up, in one transaction; never edit a released
/// entry.
const MIGRATIONS: &[&[Step]] = &[
    &[Step::Sql(V1)],
    &[Step::Sql(V2_OUTBOX_IDEM)],
    &[
        Step::Sql(V3_OBJECTS),
        Step::Rust(name_objects),
        Step::Sql(V3_SWAP),
    ],
    &[Step::Sql(V4_CALENDAR_PROPERTIES)],
    &[Step::Sql(V5_CHANGE_LOG)],
    &[Step::Sql(V6_NODES)],
    &[
        Step::Sql(ADDRESS_BOOKS),
        Step::Rust(contacts_to_cards),
        Step::Sql(DROP_CONTACTS),
    ],
    &[Step::Sql(DECIDED)],
    &[Step::Sql(V7_APP_PASSWORDS), Step::Sql(V7_DEAD_PROPERTIES)],
    &[Step::Sql(V8_TIME_RANGE), Step::Rust(index_time_ranges)],
    &[Step::Sql(V9_INBOX_DELETED)],
    &[Step::Sql(V10_SESSIONS)],
    &[Step::Sql(V11_INBOX_DELETED_SEQ)],
    &[Step::Sql(V12_JOB_FEED)],
    &[Step::Sql(FINISHED_ONLY_INDEXES)],
    &[Step::Sql(ONE_UID_INDEX)],
];

/// A UID is found through the per-calendar UID index (a user has a few calendars, each
/// looked up in turn): the index by user and UID alone cost every object write a page.
const ONE_UID_INDEX: &str = r#"
DROP INDEX objects_uid;
"#;

/// When each schedule inbox item was deleted, as a position among the jobs' ids (drawn
/// from their sequence), so that a sync-collection delta reports the deletion (RFC 6578);
/// 0 for items deleted before this was kept, which no delta reports.
const V11_INBOX_DELETED_SEQ: &str = r#"
ALTER TABLE inbox_deleted ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
"#;

/// The job feed (see `Store::job_feed_since`): a row each time a job's record changes for
/// its user to see (finished, applied by hand), under a number that only grows; and what
/// the user applied by hand after the job.
const V12_JOB_FEED: &str = r#"
ALTER TABLE jobs ADD COLUMN by_hand TEXT;
CREATE TABLE job_feed (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    user   TEXT NOT NULL,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE
);
CREATE INDEX job_feed_job ON job_feed(job_id);
"#;

/// The indexes that pruning reads hold only what it prunes: finished jobs and mail, and
/// tombstones. A job's or mail's every step, and every live change, wrote a page of them
/// for nothing.
const FINISHED_ONLY_INDEXES: &str = r#"
DROP INDEX jobs_finished;
CREATE INDEX jobs_finished ON jobs(state, updated) WHERE state = 'done';
DROP INDEX outbox_finished;
CREATE INDEX outbox_finished ON outbox(state, updated) WHERE state = 'done';
DROP INDEX changes_tombstones;
CREATE INDEX changes_tombstones ON changes(deleted, at) WHERE deleted = 1;
"#;

/// Web sessions (see `Sessions`): the digest of each browser's secret, its user and its
/// CSRF token.
const V10_SESSIONS: &str = r#"
CREATE TABLE web_sessions (
    digest  TEXT PRIMARY KEY,
    user    TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf    TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires);
"#;

const V1: &str = r#"
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
"#;

/// Mail queued outside a job's lease (a Sieve redirect) is queued once per key.
const V2_OUTBOX_IDEM: &str = r#"
ALTER TABLE outbox ADD COLUMN idem_key TEXT;
CREATE UNIQUE INDEX outbox_idem ON outbox(idem_key) WHERE idem_key IS NOT NULL;
"#;

/// Objects get a resource name (href) per calendar; a UID is unique per calendar, no
/// longer per user, so one UID can live in two calendars.
const V3_OBJECTS: &str = r#"
CREATE TABLE objects_v2 (
    user        TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    href        TEXT NOT NULL,
    uid         TEXT NOT NULL,
    ics         TEXT NOT NULL,
    modseq      INTEGER NOT NULL,
    PRIMARY KEY (user, calendar_id, href),
    UNIQUE (user, calendar_id, uid),
    FOREIGN KEY (user, calendar_id) REFERENCES calendars(user, id) ON DELETE CASCADE
);
"#;

const V3_SWAP: &str = r#"
DROP TABLE objects;
ALTER TABLE objects_v2 RENAME TO objects;
CREATE INDEX objects_uid ON objects(user, uid);
"#;

/// What CalDAV clients show and set on a calendar.
const V4_CALENDAR_PROPERTIES: &str = r#"
ALTER TABLE calendars ADD COLUMN description TEXT;
ALTER TABLE calendars ADD COLUMN color TEXT;
ALTER TABLE calendars ADD COLUMN timezone TEXT;
ALTER TABLE calendars ADD COLUMN components TEXT NOT NULL DEFAULT 'VEVENT,VTODO';
"#;

/// The change log replaces the one global counter: each object's (and calendar's) latest
/// change under a sequence that goes on from the counter, so modseqs keep growing; tokens
/// start at the migration.
const V5_CHANGE_LOG: &str = r#"
CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    user        TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    -- '' for the calendar itself
    href        TEXT NOT NULL,
    uid         TEXT NOT NULL,
    deleted     INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX changes_latest ON changes(user, calendar_id, href);
CREATE INDEX changes_tombstones ON changes(deleted, at);
ALTER TABLE calendars ADD COLUMN sync_floor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calendars ADD COLUMN sync_seq INTEGER NOT NULL DEFAULT 0;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'changes', value FROM counters WHERE name = 'calendar_changes';
UPDATE calendars SET
    sync_floor = (SELECT value FROM counters WHERE name = 'calendar_changes'),
    sync_seq = (SELECT value FROM counters WHERE name = 'calendar_changes');
DROP TABLE counters;
"#;

/// The processes sharing the database and the worker ids their leases are held under;
/// indexes for pruning finished work.
const V6_NODES: &str = r#"
CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    process       TEXT,
    started       INTEGER NOT NULL,
    heartbeat     INTEGER NOT NULL
);
CREATE TABLE workers (
    id   TEXT PRIMARY KEY,
    node TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE
);
CREATE INDEX workers_node ON workers(node);
CREATE INDEX jobs_finished ON jobs(state, updated);
CREATE INDEX outbox_finished ON outbox(state, updated);
"#;

/// Address books (RFC 6352) replace the contacts list; every EMAIL of every card is a known
/// sender. Their change log works as the calendars' does: one row per card (and per book)
/// holding its latest change, under a sequence number that only grows.
const ADDRESS_BOOKS: &str = r#"
CREATE TABLE addressbooks (
    user        TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    is_default  INTEGER NOT NULL,
    -- tokens below it are of an earlier book of this id
    sync_floor  INTEGER NOT NULL,
    -- its newest change: its sync token and ctag
    sync_seq    INTEGER NOT NULL,
    PRIMARY KEY (user, id)
);
CREATE TABLE cards (
    user    TEXT NOT NULL,
    book_id TEXT NOT NULL,
    href    TEXT NOT NULL,
    uid     TEXT NOT NULL,
    vcard   TEXT NOT NULL,
    modseq  INTEGER NOT NULL,
    PRIMARY KEY (user, book_id, href),
    UNIQUE (user, book_id, uid),
    FOREIGN KEY (user, book_id) REFERENCES addressbooks(user, id) ON DELETE CASCADE
);
CREATE INDEX cards_uid ON cards(user, uid);
-- every EMAIL of every card, normalised, kept on write: the contacts gate reads this
CREATE TABLE card_emails (
    user    TEXT NOT NULL,
    book_id TEXT NOT NULL,
    href    TEXT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (user, book_id, href, address),
    FOREIGN KEY (user, book_id, href) REFERENCES cards(user, book_id, href) ON DELETE CASCADE
);
CREATE INDEX card_emails_address ON card_emails(user, address);
CREATE TABLE card_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    user    TEXT NOT NULL,
    book_id TEXT NOT NULL,
    -- '' for the address book itself
    href    TEXT NOT NULL,
    uid     TEXT NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE UNIQUE INDEX card_changes_latest ON card_changes(user, book_id, href);
"#;

/// Each contact becomes the card `contacts add` writes, in its user's default address book.
fn contacts_to_cards(tx: &Transaction<'_>) -> Result<()> {
    let contacts = tx
        .prepare("SELECT user, address FROM contacts ORDER BY user, address")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (user, address) in contacts {
        super::addressbooks::add_contact(tx, &user, &address)?;
    }
    Ok(())
}

const DROP_CONTACTS: &str = "DROP TABLE contacts;";

/// The queue id of the message a job or an outgoing mail is for (LMTP gives one per
/// transaction; mail made by the command line gets its own), and the decision taken at
/// delivery, as JSON the update stage reads. `applied` also marks a job whose decision
/// will change the calendar, and a sender's hourly limit counts by delivery time:
/// deliveries agree on the limit before the worker has run. What the worker records
/// becomes JSON too: `{"outcome": {"kind", "reason"}}`.
const DECIDED: &str = r#"
ALTER TABLE jobs ADD COLUMN queue_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN queue_id TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN decided TEXT;
DROP INDEX jobs_sender;
CREATE INDEX jobs_sender_created ON jobs(user, sender, applied, created);
UPDATE jobs SET outcome = json_object('outcome', json_object(
        'kind', substr(outcome, 1, instr(outcome, ';') - 1),
        'reason', substr(outcome, instr(outcome, 'reason="') + 8,
                         length(outcome) - instr(outcome, 'reason="') - 8)))
    WHERE instr(outcome, '; reason="') > 0;
"#;

/// App passwords (see `crate::app_passwords`): the id is the public first part of the
/// password, so a sign-in finds the one hash to check.
const V7_APP_PASSWORDS: &str = r#"
CREATE TABLE app_passwords (
    user      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label     TEXT NOT NULL,
    id        TEXT NOT NULL,
    hash      TEXT NOT NULL,
    created   INTEGER NOT NULL,
    last_used INTEGER,
    PRIMARY KEY (user, label),
    UNIQUE (user, id)
);
"#;

/// Properties a client sets on a collection that imipd does not interpret (RFC 4918 dead
/// properties), kept as the XML the client sent. `collection` is the collection's path in
/// the user's home, e.g. `calendars/work`.
const V7_DEAD_PROPERTIES: &str = r#"
CREATE TABLE dead_properties (
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    xml        TEXT NOT NULL,
    PRIMARY KEY (user, collection, namespace, name)
);
"#;

/// The time-range index: each object's first start and last end in UTC seconds (see
/// `timespan`), `i64::MIN` and `i64::MAX` for unbounded ends, which is also what a row
/// not yet indexed holds: a candidate for every range, never missed.
const V8_TIME_RANGE: &str = r#"
ALTER TABLE objects ADD COLUMN first_start INTEGER NOT NULL DEFAULT -9223372036854775808;
ALTER TABLE objects ADD COLUMN last_end INTEGER NOT NULL DEFAULT 9223372036854775807;
CREATE INDEX objects_time ON objects(user, calendar_id, last_end, first_start);
"#;

/// The applied jobs a client deleted from the schedule inbox (RFC 6638 section 2.2): they
/// stay in the queue's history (`imipd jobs list`) and leave the inbox.
const V9_INBOX_DELETED: &str = r#"
CREATE TABLE inbox_deleted (
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE
);
"#;

/// Indexes the objects stored before the index existed.
fn index_time_ranges(tx: &Transaction<'_>) -> Result<()> {
    let rows = tx
        .prepare("SELECT rowid, ics FROM objects")?
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut update =
        tx.prepare("UPDATE objects SET first_start = ?2, last_end = ?3 WHERE rowid = ?1")?;
    for (rowid, ics) in rows {
        let (first_start, last_end) = super::timespan::of(&ics);
        update.execute(params![rowid, first_start, last_end])?;
    }
    Ok(())
}

/// Names every stored object after its UID, as new ones are named.
fn name_objects(tx: &Transaction<'_>) -> Result<()> {
    let rows = tx
        .prepare("SELECT user, calendar_id, uid, ics, modseq FROM objects")?
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut insert = tx.prepare(
        "INSERT INTO objects_v2 (user, calendar_id, href, uid, ics, modseq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (user, calendar_id, uid, ics, modseq) in rows {
        let href = crate::href_for_uid(&uid);
        insert.execute(params![user, calendar_id, href, uid, ics, modseq])?;
    }
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Brings the schema up to version `target` (tests start from older versions).
fn migrate_to(conn: &mut Connection, target: usize) -> Result<()> {
    loop {
        // The version is read inside the write lock: two processes opening a new
        // database at once must not both run the same migration.
        let tx = Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        let Some(steps) = MIGRATIONS.get(version).filter(|_| version < target) else {
            return Ok(tx.commit()?);
        };
        for step in *steps {
            match step {
                Step::Sql(sql) => tx.execute_batch(sql)?,
                Step::Rust(f) => f(&tx)?,
            }
        }
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema version a migration step starts from.
    fn version_before(sql: &str) -> usize {
        MIGRATIONS
            .iter()
            .position(|steps| steps.iter().any(|s| matches!(s, Step::Sql(q) if *q == sql)))
            .unwrap()
    }

    fn at_version(version: usize) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("old.sqlite3")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrate_to(&mut conn, version).unwrap();
        (dir, conn)
    }

    #[test]
    fn pruning_reads_the_indexes_of_what_it_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("new.sqlite3")).unwrap();
        migrate(&mut conn).unwrap();
        for (query, index) in [
            (
                "SELECT id FROM jobs WHERE state = 'done' AND updated <= 5",
                "jobs_finished",
            ),
            (
                "SELECT id FROM outbox WHERE state = 'done' AND updated <= 5",
                "outbox_finished",
            ),
            (
                "SELECT seq FROM changes WHERE deleted = 1 AND at <= 5",
                "changes_tombstones",
            ),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                .unwrap()
                .query_map([], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|step| step.contains(index)),
                "{query}: {plan:?}"
            );
        }
    }

    #[test]
    fn a_uid_is_found_through_each_calendars_uid_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("new.sqlite3")).unwrap();
        migrate(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::super::calendars::FIND
            ))
            .unwrap()
            .query_map(["u", "x"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH o") && step.contains("uid=?")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN o")),
            "{plan:?}"
        );
    }

    #[test]
    fn objects_of_a_version_1_database_get_names_and_keep_their_data() {
        let (_dir, mut conn) = at_version(1);
        let long_uid = "x".repeat(300);
        conn.execute_batch(&format!(
            "INSERT INTO users VALUES ('bob@example.org', NULL, 0);
             INSERT INTO calendars VALUES ('bob@example.org', 'default', 'Calendar', 1);
             INSERT INTO calendars VALUES ('bob@example.org', 'work', 'Work', 0);
             INSERT INTO objects VALUES ('bob@example.org', 'default', 'a@example.org', 'A', 3);
             INSERT INTO objects VALUES ('bob@example.org', 'work', '{long_uid}', 'B', 7);
             UPDATE counters SET value = 7;"
        ))
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, String, String, String, i64)> = conn
            .prepare("SELECT calendar_id, href, uid, ics, modseq FROM objects ORDER BY modseq")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let want = [
            (
                "default",
                "a@example.org.ics".to_string(),
                "a@example.org",
                "A",
                3,
            ),
            (
                "work",
                crate::href_for_uid(&long_uid),
                long_uid.as_str(),
                "B",
                7,
            ),
        ];
        assert_eq!(rows.len(), want.len(), "{rows:?}");
        for (got, want) in rows.iter().zip(want) {
            assert_eq!(
                (
                    got.0.as_str(),
                    got.1.clone(),
                    got.2.as_str(),
                    got.3.as_str(),
                    got.4
                ),
                want
            );
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        // The change log goes on from the old counter, so versions keep growing, and old
        // calendars take tokens from the migration on.
        let tx = conn.transaction().unwrap();
        assert_eq!(super::super::changes::head(&tx).unwrap(), 7);
        let next = super::super::changes::log(
            &tx,
            "bob@example.org",
            "default",
            Some("n.ics"),
            "n",
            false,
        )
        .unwrap();
        assert_eq!(next, 8);
        let floor: i64 = tx
            .query_row("SELECT MIN(sync_floor) FROM calendars", [], |r| r.get(0))
            .unwrap();
        assert_eq!(floor, 7);
    }

    #[test]
    fn objects_stored_before_the_time_range_index_are_indexed() {
        // The version before V8_TIME_RANGE.
        let (_dir, mut conn) = at_version(version_before(V8_TIME_RANGE));
        let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
                     UID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260310T100000Z\r\n\
                     DTEND:20260310T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        conn.execute_batch("INSERT INTO users VALUES ('b@x', NULL, 0);")
            .unwrap();
        conn.execute(
            "INSERT INTO calendars (user, id, name, is_default) VALUES ('b@x', 'default', 'C', 1)",
            [],
        )
        .unwrap();
        for (href, ics) in [("a.ics", event), ("junk.ics", "not a calendar")] {
            conn.execute(
                "INSERT INTO objects (user, calendar_id, href, uid, ics, modseq)
                 VALUES ('b@x', 'default', ?1, ?1, ?2, 1)",
                params![href, ics],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let span = |href: &str| -> (i64, i64) {
            conn.query_row(
                "SELECT first_start, last_end FROM objects WHERE href = ?1",
                [href],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(span("a.ics"), super::super::timespan::of(event));
        assert_eq!(span("a.ics").1 - span("a.ics").0, 3600);
        assert_eq!(span("junk.ics"), (i64::MIN, i64::MAX));
    }

    #[test]
    fn outcomes_recorded_as_text_become_json() {
        let (_dir, mut conn) = at_version(version_before(DECIDED));
        // (what an older imipd recorded, what it reads as now)
        let cases = [
            (
                Some("added; reason=\"new event u from a@x\""),
                Some(r#"{"outcome":{"kind":"added","reason":"new event u from a@x"}}"#),
            ),
            (
                Some("no_action; reason=\"\""),
                Some(r#"{"outcome":{"kind":"no_action","reason":""}}"#),
            ),
            (None, None),
        ];
        for (n, (old, _)) in cases.iter().enumerate() {
            conn.execute(
                "INSERT INTO jobs (user, spec, idem_key, uid, sender, message, state, not_before,
                                   outcome, created, updated)
                 VALUES ('b@x', '{}', ?1, 'u', 'a@x', x'', 'done', 0, ?2, 0, 0)",
                params![n.to_string(), old],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        for (n, (_, new)) in cases.iter().enumerate() {
            let got: Option<String> = conn
                .query_row(
                    "SELECT outcome FROM jobs WHERE idem_key = ?1",
                    [n.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(got.as_deref(), *new);
        }
    }
}
