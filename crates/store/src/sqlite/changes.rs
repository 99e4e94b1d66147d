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
    Ok(conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
            [],
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
    let tx = conn.transaction()?;
    let (floor, now): (i64, i64) = tx
        .query_row(
            "SELECT sync_floor, sync_seq FROM calendars WHERE user = ?1 AND id = ?2",
            params![user, calendar_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NoSuchCalendar(calendar_id.to_string()))?;
    let Some(token) = token else {
        let changed = tx
            .prepare_cached(
                "SELECT href, uid, modseq FROM objects WHERE user = ?1 AND calendar_id = ?2
                 ORDER BY modseq",
            )?
            .query_map(params![user, calendar_id], |r| {
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
    if token < floor || token > head(&tx)? {
        return Err(Error::InvalidSyncToken {
            calendar_id: calendar_id.to_string(),
            token,
        });
    }
    let mut changes = Changes {
        token: now,
        ..Changes::default()
    };
    let rows = tx
        .prepare_cached(
            "SELECT href, uid, deleted, seq FROM changes
             WHERE user = ?1 AND calendar_id = ?2 AND href != ?3 AND seq > ?4 ORDER BY seq",
        )?
        .query_map(params![user, calendar_id, CALENDAR, token], |r| {
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
