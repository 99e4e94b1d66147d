use crate::{JobFilter, JobState, NewMail, OutMail, Result};
use rusqlite::{Connection, params};

const COLUMNS: &str = "id, user, mail_from, rcpt_to, data, purpose, state, attempts, not_before, last_error, created, \
     queue_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutMail> {
    let rcpts: String = r.get(3)?;
    let state: String = r.get(6)?;
    Ok(OutMail {
        id: r.get(0)?,
        user: r.get(1)?,
        mail_from: r.get(2)?,
        rcpt_to: serde_json::from_str(&rcpts).unwrap_or_default(),
        data: r.get(4)?,
        purpose: r.get(5)?,
        state: JobState::parse(&state).unwrap_or(JobState::Dead),
        attempts: r.get(7)?,
        not_before: r.get(8)?,
        last_error: r.get(9)?,
        created: r.get(10)?,
        queue_id: r.get(11)?,
    })
}

/// Queues `mail`; with an idempotency key already queued, returns that mail's id instead.
pub fn queue(conn: &Connection, mail: &NewMail) -> Result<i64> {
    let rcpts = serde_json::to_string(&mail.rcpt_to).unwrap_or_else(|_| "[]".into());
    let inserted = conn.execute(
        "INSERT INTO outbox (user, mail_from, rcpt_to, data, purpose, state, not_before, created,
                             updated, idem_key, queue_id)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', unixepoch(), unixepoch(), unixepoch(), ?6, ?7)
         ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING",
        params![
            mail.user,
            mail.mail_from,
            rcpts,
            mail.data,
            mail.purpose,
            mail.idem_key,
            mail.queue_id
        ],
    )?;
    if inserted == 0 {
        return Ok(conn.query_row(
            "SELECT id FROM outbox WHERE idem_key = ?1",
            [&mail.idem_key],
            |r| r.get(0),
        )?);
    }
    Ok(conn.last_insert_rowid())
}

pub fn claim(
    tx: &rusqlite::Transaction<'_>,
    worker: &str,
    lease_secs: i64,
    max: usize,
) -> Result<Vec<OutMail>> {
    // Lease times are the database's, as for jobs.
    let sql = format!(
        "UPDATE outbox SET state = 'running', lease_owner = ?1, lease_until = unixepoch() + ?2,
                attempts = attempts + 1, updated = unixepoch()
         WHERE id IN (
            SELECT id FROM outbox
            WHERE (state = 'queued' AND not_before <= unixepoch())
               OR (state = 'running' AND lease_until < unixepoch())
            ORDER BY id LIMIT ?3)
         RETURNING {COLUMNS}"
    );
    let mut mails = tx
        .prepare_cached(&sql)?
        .query_map(params![worker, lease_secs, max as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    mails.sort_by_key(|m| m.id);
    Ok(mails)
}

pub fn sent(tx: &rusqlite::Transaction<'_>, id: i64, worker: &str) -> Result<()> {
    super::queue::check_lease_of(tx, "outbox", id, worker)?;
    tx.execute(
        "UPDATE outbox SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL,
                updated = unixepoch() WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn list(conn: &Connection, filter: &JobFilter) -> Result<Vec<OutMail>> {
    super::queue::list_in(conn, "outbox", COLUMNS, filter, from_row)
}
