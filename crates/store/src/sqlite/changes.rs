//! The change log: one row per object (and per calendar) holding its latest change, under
//! a sequence number that only grows. A write replaces the object's row with a new one, a
//! delete leaves a tombstone row, so sync tokens, ctags and the push feed are all "the
//! rows after n".

use crate::{ChangedObject, Changes, Error, FeedEntry, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// The `href` of a row about the calendar itself.
const CALENDAR: &str = "";

/// Records a change to the object at `href` (`None`: the calendar itself) and moves the
/// calendar's sync token; returns the change's sequence number, the object's new modseq.
pub fn log(
    conn: &Connection,
    user: &str,
    calendar_id: &str,
    href: Option<&str>,
    uid: &str,
    deleted: bool,
) -> Result<i64> {
    let href = href.unwrap_or(CALENDAR);
    conn.prepare_cached("DELETE FROM changes WHERE user = ?1 AND calendar_id = ?2 AND href = ?3")?
        .execute(params![user, calendar_id, href])?;
    let seq: i64 = conn
        .prepare_cached(
            "INSERT INTO changes (user, calendar_id, href, uid, deleted, at)
             VALUES (?1, ?2, ?3, ?4, ?5, unixepoch()) RETURNING seq",
        )?
        .query_row(params![user, calendar_id, href, uid, deleted], |r| r.get(0))?;
    conn.prepare_cached("UPDATE calendars SET sync_seq = ?3 WHERE user = ?1 AND id = ?2")?
        .execute(params![user, calendar_id, seq])?;
    Ok(seq)
}

/// A calendar's objects' rows go with it (the calendar's own row says it is gone).
pub fn forget_calendar(conn: &Connection, user: &str, calendar_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM changes WHERE user = ?1 AND calendar_id = ?2",
        params![user, calendar_id],
    )?;
    Ok(())
}

pub fn head(conn: &Connection) -> Result<i64> {
    head_of(conn, &CALENDARS)
}

/// Where one change log lives. Calendars and address books keep theirs apart (card changes
/// never reach the calendar push feed, and a book and a calendar may share an id), but read
/// them by the same rules.
pub(crate) struct Log {
    /// The collections table (`id`, `sync_floor`, `sync_seq`).
    pub collections: &'static str,
    /// The members table and the log table, both keyed by `user`, `column`, `href`.
    pub members: &'static str,
    pub changes: &'static str,
    pub column: &'static str,
    /// The `href` of a row about the collection itself.
    pub own_href: &'static str,
}

const CALENDARS: Log = Log {
    collections: "calendars",
    members: "objects",
    changes: "changes",
    column: "calendar_id",
    own_href: CALENDAR,
};

/// The newest sequence number given out in `log` (0 before the first).
pub(crate) fn head_of(conn: &Connection, log: &Log) -> Result<i64> {
    Ok(conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = ?1",
            [log.changes],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Read in one transaction, so the token and the rows are of one moment.
pub fn since(
    conn: &mut Connection,
    user: &str,
    calendar_id: &str,
    token: Option<i64>,
) -> Result<Changes> {
    since_in(
        conn,
        &CALENDARS,
        user,
        calendar_id,
        token,
        || Error::NoSuchCalendar(calendar_id.to_string()),
        |token| Error::InvalidSyncToken {
            calendar_id: calendar_id.to_string(),
            token,
        },
    )
}

/// What changed in collection `id` of `log` since `token` (`None`: every member now);
/// `missing` and `invalid` name the collection's own errors.
pub(crate) fn since_in(
    conn: &mut Connection,
    log: &Log,
    user: &str,
    id: &str,
    token: Option<i64>,
    missing: impl FnOnce() -> Error,
    invalid: impl FnOnce(i64) -> Error,
) -> Result<Changes> {
    let tx = conn.transaction()?;
    let (floor, now): (i64, i64) = tx
        .query_row(
            &format!(
                "SELECT sync_floor, sync_seq FROM {} WHERE user = ?1 AND id = ?2",
                log.collections
            ),
            params![user, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(missing)?;
    let Some(token) = token else {
        let changed = tx
            .prepare_cached(&format!(
                "SELECT href, uid, modseq FROM {} WHERE user = ?1 AND {} = ?2 ORDER BY modseq",
                log.members, log.column
            ))?
            .query_map(params![user, id], |r| {
                Ok(ChangedObject {
                    href: r.get(0)?,
                    uid: r.get(1)?,
                    modseq: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        return Ok(Changes {
            token: now,
            changed,
            deleted: Vec::new(),
        });
    };
    if token < floor || token > head_of(&tx, log)? {
        return Err(invalid(token));
    }
    let mut changes = Changes {
        token: now,
        ..Changes::default()
    };
    let rows = tx
        .prepare_cached(&format!(
            "SELECT href, uid, deleted, seq FROM {}
             WHERE user = ?1 AND {} = ?2 AND href != ?3 AND seq > ?4 ORDER BY seq",
            log.changes, log.column
        ))?
        .query_map(params![user, id, log.own_href, token], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<(String, String, bool, i64)>>>()?;
    for (href, uid, deleted, modseq) in rows {
        if deleted {
            changes.deleted.push(href);
        } else {
            changes.changed.push(ChangedObject { href, uid, modseq });
        }
    }
    Ok(changes)
}

pub fn feed(conn: &Connection, seq: i64, limit: usize) -> Result<Vec<FeedEntry>> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, user, calendar_id, href, uid, deleted FROM changes
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![seq, limit as i64], |r| {
            let href: String = r.get(3)?;
            Ok(FeedEntry {
                seq: r.get(0)?,
                user: r.get(1)?,
                calendar_id: r.get(2)?,
                href: (href != CALENDAR).then_some(href),
                uid: r.get(4)?,
                deleted: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}
