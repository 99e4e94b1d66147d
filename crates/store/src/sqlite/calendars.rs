use crate::{Calendar, CalendarObject, Error, ObjectWrite, Result};
use rusqlite::{Connection, OptionalExtension, params};

pub const DEFAULT_ID: &str = "default";

pub fn list(conn: &Connection, user: &str) -> Result<Vec<Calendar>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, is_default FROM calendars WHERE user = ?1 ORDER BY is_default DESC, id",
        )?
        .query_map([user], |r| {
            Ok(Calendar {
                id: r.get(0)?,
                name: r.get(1)?,
                is_default: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn ensure_default(conn: &Connection, user: &str) -> Result<Calendar> {
    let existing = conn
        .query_row(
            "SELECT id, name FROM calendars WHERE user = ?1 AND is_default = 1",
            [user],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let (id, name) = match existing {
        Some(found) => found,
        None => {
            conn.execute(
                "INSERT OR IGNORE INTO calendars (user, id, name, is_default) VALUES (?1, ?2, 'Calendar', 1)",
                params![user, DEFAULT_ID],
            )?;
            (DEFAULT_ID.to_string(), "Calendar".to_string())
        }
    };
    Ok(Calendar {
        id,
        name,
        is_default: true,
    })
}

pub fn create(conn: &Connection, user: &str, id: &str, name: &str) -> Result<Calendar> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::NoSuchCalendar(format!(
            "{id} (calendar ids are 1-64 characters of A-Z a-z 0-9 - _)"
        )));
    }
    ensure_default(conn, user)?;
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO calendars (user, id, name, is_default) VALUES (?1, ?2, ?3, 0)",
        params![user, id, name],
    )?;
    if inserted == 0 {
        return Err(Error::CalendarExists(id.into()));
    }
    Ok(Calendar {
        id: id.into(),
        name: name.into(),
        is_default: false,
    })
}

fn object_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CalendarObject> {
    Ok(CalendarObject {
        calendar_id: r.get(0)?,
        uid: r.get(1)?,
        ics: r.get(2)?,
        modseq: r.get(3)?,
    })
}

pub fn find(conn: &Connection, user: &str, uid: &str) -> Result<Option<CalendarObject>> {
    Ok(conn
        .prepare_cached(
            "SELECT calendar_id, uid, ics, modseq FROM objects WHERE user = ?1 AND uid = ?2",
        )?
        .query_row(params![user, uid], object_from_row)
        .optional()?)
}

pub fn objects(conn: &Connection, user: &str) -> Result<Vec<CalendarObject>> {
    Ok(conn
        .prepare_cached(
            "SELECT calendar_id, uid, ics, modseq FROM objects WHERE user = ?1 ORDER BY calendar_id, uid",
        )?
        .query_map([user], object_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Applies one write and advances the change counter (inside the caller's transaction).
pub fn write(conn: &Connection, user: &str, write: &ObjectWrite) -> Result<()> {
    let modseq: i64 = conn.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = 'calendar_changes' RETURNING value",
        [],
        |r| r.get(0),
    )?;
    match write {
        ObjectWrite::Put {
            calendar_id,
            uid,
            ics,
        } => {
            if calendar_id == DEFAULT_ID {
                ensure_default(conn, user)?;
            }
            let known: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM calendars WHERE user = ?1 AND id = ?2)",
                params![user, calendar_id],
                |r| r.get(0),
            )?;
            if !known {
                return Err(Error::NoSuchCalendar(calendar_id.clone()));
            }
            conn.execute(
                "INSERT INTO objects (user, calendar_id, uid, ics, modseq) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user, uid) DO UPDATE SET calendar_id = excluded.calendar_id,
                     ics = excluded.ics, modseq = excluded.modseq",
                params![user, calendar_id, uid, ics, modseq],
            )?;
        }
        ObjectWrite::Delete { uid } => {
            conn.execute(
                "DELETE FROM objects WHERE user = ?1 AND uid = ?2",
                params![user, uid],
            )?;
        }
    }
    Ok(())
}
