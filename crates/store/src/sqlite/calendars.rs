use crate::{
    Calendar, CalendarObject, CalendarProps, Conflict, DEFAULT_COMPONENTS, Error, Expect, Found,
    ObjectVersion, ObjectWrite, Result, Written,
};
use rusqlite::{Connection, OptionalExtension, params};

pub const DEFAULT_ID: &str = "default";

const CALENDAR: &str = "SELECT id, name, is_default, description, color, timezone, components, \
                        sync_seq FROM calendars";

fn calendar_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Calendar> {
    let components: String = r.get(6)?;
    Ok(Calendar {
        id: r.get(0)?,
        name: r.get(1)?,
        is_default: r.get(2)?,
        description: r.get(3)?,
        color: r.get(4)?,
        timezone: r.get(5)?,
        components: components.split(',').map(str::to_string).collect(),
        sync_token: r.get(7)?,
    })
}

pub fn list(conn: &Connection, user: &str) -> Result<Vec<Calendar>> {
    Ok(conn
        .prepare_cached(&format!(
            "{CALENDAR} WHERE user = ?1 ORDER BY is_default DESC, id"
        ))?
        .query_map([user], calendar_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

fn get(conn: &Connection, user: &str, id: &str) -> Result<Calendar> {
    conn.prepare_cached(&format!("{CALENDAR} WHERE user = ?1 AND id = ?2"))?
        .query_row(params![user, id], calendar_from_row)
        .optional()?
        .ok_or_else(|| Error::NoSuchCalendar(id.to_string()))
}

pub fn ensure_default(conn: &Connection, user: &str) -> Result<Calendar> {
    let existing = conn
        .prepare_cached(&format!("{CALENDAR} WHERE user = ?1 AND is_default = 1"))?
        .query_row([user], calendar_from_row)
        .optional()?;
    match existing {
        Some(found) => Ok(found),
        None => {
            insert(
                conn,
                user,
                DEFAULT_ID,
                "Calendar",
                true,
                &CalendarProps::default(),
            )?;
            get(conn, user, DEFAULT_ID)
        }
    }
}

fn insert(
    conn: &Connection,
    user: &str,
    id: &str,
    name: &str,
    is_default: bool,
    props: &CalendarProps,
) -> Result<bool> {
    let components = props
        .components
        .as_ref()
        .map(|c| c.join(","))
        .unwrap_or_else(|| DEFAULT_COMPONENTS.join(","));
    let set = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO calendars
             (user, id, name, is_default, description, color, timezone, components)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user,
            id,
            name,
            is_default,
            set(&props.description),
            set(&props.color),
            set(&props.timezone),
            components
        ],
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    // Tokens from before the calendar existed (an earlier calendar of that id) are void.
    let seq = super::changes::log(conn, user, id, None, "", false)?;
    conn.execute(
        "UPDATE calendars SET sync_floor = ?3 WHERE user = ?1 AND id = ?2",
        params![user, id, seq],
    )?;
    Ok(true)
}

pub fn create(conn: &Connection, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar> {
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
    let props = props.checked()?;
    ensure_default(conn, user)?;
    let name = props.name.as_deref().unwrap_or(id);
    if !insert(conn, user, id, name, false, &props)? {
        return Err(Error::CalendarExists(id.into()));
    }
    get(conn, user, id)
}

pub fn update(conn: &Connection, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar> {
    let props = props.checked()?;
    get(conn, user, id)?;
    // NULLIF turns the empty string (unset) into NULL; NULL leaves the column as it is.
    conn.execute(
        "UPDATE calendars SET
             name = COALESCE(?3, name),
             description = CASE WHEN ?4 IS NULL THEN description ELSE NULLIF(?4, '') END,
             color = CASE WHEN ?5 IS NULL THEN color ELSE NULLIF(?5, '') END,
             timezone = CASE WHEN ?6 IS NULL THEN timezone ELSE NULLIF(?6, '') END,
             components = COALESCE(?7, components)
         WHERE user = ?1 AND id = ?2",
        params![
            user,
            id,
            props.name,
            props.description,
            props.color,
            props.timezone,
            props.components.map(|c| c.join(","))
        ],
    )?;
    super::changes::log(conn, user, id, None, "", false)?;
    get(conn, user, id)
}

pub fn set_default(conn: &Connection, user: &str, id: &str) -> Result<()> {
    get(conn, user, id)?;
    conn.execute(
        "UPDATE calendars SET is_default = (id = ?2) WHERE user = ?1",
        params![user, id],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, user: &str, id: &str) -> Result<u64> {
    if get(conn, user, id)?.is_default {
        return Err(Error::DefaultCalendar {
            user: user.to_string(),
            id: id.to_string(),
        });
    }
    let objects = conn.execute(
        "DELETE FROM objects WHERE user = ?1 AND calendar_id = ?2",
        params![user, id],
    )?;
    conn.execute(
        "DELETE FROM calendars WHERE user = ?1 AND id = ?2",
        params![user, id],
    )?;
    super::changes::forget_calendar(conn, user, id)?;
    super::changes::log(conn, user, id, None, "", true)?;
    super::dead_properties::forget(conn, user, &crate::PropertyOwner::Calendar(id))?;
    Ok(objects as u64)
}

const OBJECT: &str = "SELECT o.calendar_id, o.href, o.uid, o.ics, o.modseq FROM objects o";

pub(super) const FIND: &str = "SELECT o.calendar_id, o.href, o.uid, o.ics, o.modseq
     FROM calendars c CROSS JOIN objects o ON o.user = c.user AND o.calendar_id = c.id
     WHERE c.user = ?1 AND o.uid = ?2
     ORDER BY c.is_default DESC, c.id LIMIT 1";

fn object_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CalendarObject> {
    Ok(CalendarObject {
        calendar_id: r.get(0)?,
        href: r.get(1)?,
        uid: r.get(2)?,
        ics: r.get(3)?,
        modseq: r.get(4)?,
    })
}

/// The scheduling copy of `uid`: in the default calendar if it is there, else in the
/// first calendar by id. Each of the user's calendars is looked up in its UID index:
/// `CROSS JOIN` keeps SQLite from walking all the user's objects instead.
pub fn find(conn: &Connection, user: &str, uid: &str) -> Result<Option<CalendarObject>> {
    Ok(conn
        .prepare_cached(FIND)?
        .query_row(params![user, uid], object_from_row)
        .optional()?)
}

pub fn at(
    conn: &Connection,
    user: &str,
    calendar_id: &str,
    href: &str,
) -> Result<Option<CalendarObject>> {
    Ok(conn
        .prepare_cached(&format!(
            "{OBJECT} WHERE o.user = ?1 AND o.calendar_id = ?2 AND o.href = ?3"
        ))?
        .query_row(params![user, calendar_id, href], object_from_row)
        .optional()?)
}

/// The objects at `hrefs` of one calendar: the names go in as one JSON array, so the
/// statement is the same (and stays prepared) however many are asked.
pub fn many_at(
    conn: &Connection,
    user: &str,
    calendar_id: &str,
    hrefs: &[&str],
) -> Result<Vec<CalendarObject>> {
    let names = serde_json::Value::from(hrefs.to_vec()).to_string();
    Ok(conn
        .prepare_cached(&format!(
            "{OBJECT} WHERE o.user = ?1 AND o.calendar_id = ?2
                 AND o.href IN (SELECT value FROM json_each(?3))"
        ))?
        .query_map(params![user, calendar_id, names], object_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

fn with_uid_in(
    conn: &Connection,
    user: &str,
    calendar_id: &str,
    uid: &str,
) -> Result<Option<CalendarObject>> {
    Ok(conn
        .prepare_cached(&format!(
            "{OBJECT} WHERE o.user = ?1 AND o.calendar_id = ?2 AND o.uid = ?3"
        ))?
        .query_row(params![user, calendar_id, uid], object_from_row)
        .optional()?)
}

/// The objects of one calendar by href; with `during` (UTC seconds), only those whose
/// indexed span meets `start..=end`: every object with an instance in that range is among
/// them, and the caller's exact filter decides. All of them are read in primary-key order,
/// without the sort a read through the time-range index would need.
pub fn objects_in(
    conn: &Connection,
    user: &str,
    calendar_id: &str,
    during: Option<(i64, i64)>,
) -> Result<Vec<CalendarObject>> {
    let mut stmt;
    let rows = match during {
        None => {
            stmt = conn.prepare_cached(&format!(
                "{OBJECT} WHERE o.user = ?1 AND o.calendar_id = ?2 ORDER BY o.href"
            ))?;
            stmt.query_map(params![user, calendar_id], object_from_row)?
        }
        Some((start, end)) => {
            stmt = conn.prepare_cached(&format!(
                "{OBJECT} WHERE o.user = ?1 AND o.calendar_id = ?2
                     AND o.last_end >= ?3 AND o.first_start <= ?4
                 ORDER BY o.href"
            ))?;
            stmt.query_map(params![user, calendar_id, start, end], object_from_row)?
        }
    };
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `octet_length` reads the length from the record header: SQLite loads no part of the
/// data for it.
pub fn versions(conn: &Connection, user: &str, calendar_id: &str) -> Result<Vec<ObjectVersion>> {
    Ok(conn
        .prepare_cached(
            "SELECT href, modseq, octet_length(ics) FROM objects
             WHERE user = ?1 AND calendar_id = ?2 ORDER BY href",
        )?
        .query_map(params![user, calendar_id], |r| {
            Ok(ObjectVersion {
                href: r.get(0)?,
                modseq: r.get(1)?,
                size: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn objects(conn: &Connection, user: &str) -> Result<Vec<CalendarObject>> {
    Ok(conn
        .prepare_cached(&format!(
            "{OBJECT} WHERE o.user = ?1 ORDER BY o.calendar_id, o.uid"
        ))?
        .query_map([user], object_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Checks one write's precondition, then applies it and logs the change (inside the
/// caller's transaction). `span` is the time-range index entry of a Put's data (see
/// [`super::timespan::of`]), computed before the transaction so the write lock is not held
/// while a series is expanded.
pub fn write(
    conn: &Connection,
    user: &str,
    write: &ObjectWrite,
    (first_start, last_end): (i64, i64),
) -> Result<Written> {
    let (calendar_id, href) = match write {
        ObjectWrite::Put {
            calendar_id, href, ..
        }
        | ObjectWrite::Delete {
            calendar_id, href, ..
        } => (calendar_id, href),
    };
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
    let stored = at(conn, user, calendar_id, href)?;
    let conflict = |uid: &str, expected: Expect, found: Found| {
        Err(Error::Conflict(Box::new(Conflict {
            user: user.to_string(),
            calendar_id: calendar_id.clone(),
            href: href.clone(),
            uid: uid.to_string(),
            expected,
            found,
        })))
    };
    match write {
        ObjectWrite::Put {
            uid, ics, expect, ..
        } => {
            let holder = match expect {
                Expect::MustNotExist => with_uid_in(conn, user, calendar_id, uid)?,
                Expect::UidUnused => find(conn, user, uid)?,
                Expect::Modseq(_) => None,
            };
            let next_modseq =
                || super::changes::log(conn, user, calendar_id, Some(href), uid, false);
            let modseq = match (expect, &stored, holder) {
                (Expect::MustNotExist | Expect::UidUnused, None, None) => {
                    let modseq = next_modseq()?;
                    conn.execute(
                        "INSERT INTO objects
                             (user, calendar_id, href, uid, ics, modseq, first_start, last_end)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            user,
                            calendar_id,
                            href,
                            uid,
                            ics,
                            modseq,
                            first_start,
                            last_end
                        ],
                    )?;
                    modseq
                }
                (Expect::MustNotExist | Expect::UidUnused, Some(o), _) => {
                    return conflict(uid, *expect, found_at(o, uid));
                }
                (Expect::MustNotExist | Expect::UidUnused, None, Some(o)) => {
                    let found = Found::Uid {
                        calendar_id: o.calendar_id,
                        href: o.href,
                    };
                    return conflict(uid, *expect, found);
                }
                (Expect::Modseq(n), Some(o), _) if o.modseq == *n && o.uid == *uid => {
                    let modseq = next_modseq()?;
                    conn.execute(
                        "UPDATE objects SET ics = ?4, modseq = ?5, first_start = ?6, last_end = ?7
                         WHERE user = ?1 AND calendar_id = ?2 AND href = ?3",
                        params![user, calendar_id, href, ics, modseq, first_start, last_end],
                    )?;
                    modseq
                }
                (Expect::Modseq(_), Some(o), _) => return conflict(uid, *expect, found_at(o, uid)),
                (Expect::Modseq(_), None, _) => return conflict(uid, *expect, Found::Nothing),
            };
            Ok(Written {
                calendar_id: calendar_id.clone(),
                href: href.clone(),
                uid: uid.clone(),
                modseq: Some(modseq),
            })
        }
        ObjectWrite::Delete { modseq: n, .. } => {
            let expected = Expect::Modseq(*n);
            let Some(o) = stored else {
                return conflict("", expected, Found::Nothing);
            };
            if o.modseq != *n {
                return conflict(&o.uid, expected, Found::Version(o.modseq));
            }
            conn.execute(
                "DELETE FROM objects WHERE user = ?1 AND calendar_id = ?2 AND href = ?3",
                params![user, calendar_id, href],
            )?;
            super::changes::log(conn, user, calendar_id, Some(href), &o.uid, true)?;
            Ok(Written {
                calendar_id: calendar_id.clone(),
                href: href.clone(),
                uid: o.uid,
                modseq: None,
            })
        }
    }
}

/// What a writer of `uid` finds in `stored`, the object at its href.
fn found_at(stored: &CalendarObject, uid: &str) -> Found {
    if stored.uid == uid {
        Found::Version(stored.modseq)
    } else {
        Found::OtherUid(stored.uid.clone())
    }
}
