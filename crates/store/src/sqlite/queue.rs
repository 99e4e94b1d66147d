use crate::{Error, Job, JobDone, JobFilter, JobNotice, JobState, NewJob, Result};
use rusqlite::{Connection, params};

const COLUMNS: &str = "id, user, spec, idem_key, uid, sender, message, state, attempts, \
                       not_before, last_error, outcome, created, updated, decided, queue_id, by_hand";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let state: String = r.get(7)?;
    Ok(Job {
        id: r.get(0)?,
        user: r.get(1)?,
        spec: r.get(2)?,
        idem_key: r.get(3)?,
        uid: r.get(4)?,
        sender: r.get(5)?,
        message: r.get(6)?,
        state: JobState::parse(&state).unwrap_or(JobState::Dead),
        attempts: r.get(8)?,
        not_before: r.get(9)?,
        last_error: r.get(10)?,
        outcome: r.get(11)?,
        created: r.get(12)?,
        updated: r.get(13)?,
        decided: r.get(14)?,
        queue_id: r.get(15)?,
        by_hand: r.get(16)?,
    })
}

pub fn enqueue(conn: &Connection, job: &NewJob) -> Result<Option<i64>> {
    insert(conn, job, JobState::Queued)
}

pub fn hold(conn: &Connection, job: &NewJob) -> Result<Option<i64>> {
    if let Some(id) = insert(conn, job, JobState::Held)? {
        return Ok(Some(id));
    }
    // The held job now belongs to this delivery, whose mail tells this decision.
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "UPDATE jobs SET decided = ?2, applied = ?3, queue_id = ?4, updated = unixepoch()
             WHERE idem_key = ?1 AND state = 'held' RETURNING id",
            params![job.idem_key, job.decided, job.applies, job.queue_id],
            |r| r.get(0),
        )
        .optional()?)
}

fn insert(conn: &Connection, job: &NewJob, state: JobState) -> Result<Option<i64>> {
    let inserted = conn.execute(
        "INSERT INTO jobs (user, spec, idem_key, uid, sender, message, state, not_before, created,
                           updated, decided, applied, queue_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, unixepoch(), unixepoch(), unixepoch(), ?8, ?9, ?10)
         ON CONFLICT (idem_key) DO NOTHING",
        params![
            crate::normalize_address(&job.user),
            job.spec,
            job.idem_key,
            job.uid,
            crate::normalize_address(&job.sender),
            job.message,
            state.as_str(),
            job.decided,
            job.applies,
            job.queue_id
        ],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

pub fn release(conn: &Connection, id: i64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE jobs SET state = 'queued', not_before = unixepoch(), updated = unixepoch()
         WHERE id = ?1 AND state = 'held'",
        [id],
    )?;
    Ok(changed == 1)
}

pub fn drop_held(conn: &Connection, id: i64) -> Result<bool> {
    let changed = conn.execute("DELETE FROM jobs WHERE id = ?1 AND state = 'held'", [id])?;
    Ok(changed == 1)
}

pub fn claim(
    tx: &rusqlite::Transaction<'_>,
    worker: &str,
    lease_secs: i64,
    max: usize,
) -> Result<Vec<Job>> {
    // A job is due when queued and not deferred, or when its lease ran out (its worker
    // died). It waits while an earlier job for the same user and UID is unfinished. Lease
    // times are the database's: the nodes sharing it need not agree on the time.
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_until = unixepoch() + ?2,
                attempts = attempts + 1, updated = unixepoch()
         WHERE id IN (
            SELECT j.id FROM jobs j
            WHERE ((j.state = 'queued' AND j.not_before <= unixepoch())
                   OR (j.state = 'running' AND j.lease_until < unixepoch()))
              AND NOT EXISTS (
                SELECT 1 FROM jobs e
                WHERE e.user = j.user AND e.uid = j.uid AND e.id < j.id
                  AND e.state IN ('queued', 'running'))
            ORDER BY j.id LIMIT ?3)
         RETURNING {COLUMNS}"
    );
    let mut jobs = tx
        .prepare_cached(&sql)?
        .query_map(params![worker, lease_secs, max as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Whether `table` (`jobs` or `outbox`) holds anything due: a plain read, so workers polling
/// an idle queue neither wait for the writer's turn nor make deliveries wait for theirs.
pub fn any_due(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM {table}
                WHERE (state = 'queued' AND not_before <= unixepoch())
                   OR (state = 'running' AND lease_until < unixepoch()))"
        ))?
        .query_row([], |r| r.get(0))?)
}

pub fn check_lease_of(conn: &Connection, table: &str, id: i64, worker: &str) -> Result<()> {
    let held: bool = conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1 AND state = 'running' AND lease_owner = ?2)"
        ),
        params![id, worker],
        |r| r.get(0),
    )?;
    if held {
        Ok(())
    } else {
        Err(Error::LeaseLost(id))
    }
}

/// Marks a job done with its outcome (inside the transaction that commits its writes).
pub fn finish(conn: &Connection, done: &JobDone) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, outcome = ?2,
                applied = ?3, last_error = NULL, updated = unixepoch()
         WHERE id = ?1",
        params![done.job_id, done.outcome, done.applied],
    )?;
    noticed(conn, done.job_id)
}

pub fn record_by_hand(conn: &Connection, id: i64, record: &str) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE jobs SET by_hand = ?2, updated = unixepoch() WHERE id = ?1",
        params![id, record],
    )?;
    if changed == 1 {
        noticed(conn, id)?;
    }
    Ok(changed == 1)
}

/// Puts a job on the job feed: its record changed in a way its user sees.
pub fn noticed(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_feed (user, job_id) SELECT user, id FROM jobs WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(())
}

pub fn feed(conn: &Connection, seq: i64, limit: usize) -> Result<Vec<JobNotice>> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, user, job_id FROM job_feed WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![seq, limit as i64], |r| {
            Ok(JobNotice {
                seq: r.get(0)?,
                user: r.get(1)?,
                job_id: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn feed_head(conn: &Connection) -> Result<i64> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'job_feed'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

pub fn fail(
    conn: &Connection,
    table: &str,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    check_lease_of(conn, table, id, worker)?;
    let state = if retry_at.is_some() { "queued" } else { "dead" };
    conn.execute(
        &format!(
            "UPDATE {table} SET state = ?2, not_before = COALESCE(?3, unixepoch()),
                    last_error = ?4, lease_owner = NULL, lease_until = NULL, updated = unixepoch()
             WHERE id = ?1"
        ),
        params![id, state, retry_at, error],
    )?;
    Ok(())
}

/// Puts a claimed row of `table` back, due at `retry_at`, without counting the claim as an
/// attempt: it was not tried.
pub fn wait(
    conn: &Connection,
    table: &str,
    id: i64,
    worker: &str,
    why: &str,
    retry_at: i64,
) -> Result<()> {
    check_lease_of(conn, table, id, worker)?;
    conn.execute(
        &format!(
            "UPDATE {table} SET state = 'queued', not_before = ?2, last_error = ?3,
                    attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_until = NULL,
                    updated = unixepoch()
             WHERE id = ?1"
        ),
        params![id, retry_at, why],
    )?;
    Ok(())
}

pub fn list(conn: &Connection, filter: &JobFilter) -> Result<Vec<Job>> {
    list_in(conn, "jobs", COLUMNS, filter, from_row)
}

/// The newest rows of `table` (`jobs` or `outbox`) that `filter` lets through.
pub fn list_in<T>(
    conn: &Connection,
    table: &str,
    columns: &str,
    filter: &JobFilter,
    from_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let sql = format!(
        "SELECT {columns} FROM {table}
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR user = ?2)
         ORDER BY id DESC LIMIT ?3"
    );
    let limit = if filter.limit == 0 { 100 } else { filter.limit };
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                filter.state.map(JobState::as_str),
                filter.user,
                limit as i64
            ],
            from_row,
        )?
        .collect::<rusqlite::Result<_>>()?)
}

/// The done jobs of `user` still in the schedule inbox, newest first.
pub fn inbox(conn: &Connection, user: &str, limit: usize) -> Result<Vec<Job>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs
         WHERE state = 'done' AND user = ?1
           AND id NOT IN (SELECT job_id FROM inbox_deleted)
         ORDER BY id DESC LIMIT ?2"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(params![user, limit as i64], from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The deletion takes the next job id as its position (AUTOINCREMENT never hands it out
/// again), so one sync token orders new items and deletions alike.
pub fn delete_from_inbox(conn: &Connection, user: &str, job_id: i64) -> Result<bool> {
    conn.execute(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'jobs'",
        [],
    )?;
    let changed = conn.execute(
        "INSERT OR IGNORE INTO inbox_deleted (job_id, seq)
         SELECT id, (SELECT seq FROM sqlite_sequence WHERE name = 'jobs')
         FROM jobs WHERE id = ?2 AND user = ?1 AND state = 'done'",
        params![user, job_id],
    )?;
    Ok(changed > 0)
}

/// The items deleted from `user`'s schedule inbox since it kept their position: (job id,
/// position of the deletion).
pub fn inbox_deletions(conn: &Connection, user: &str) -> Result<Vec<(i64, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT d.job_id, d.seq FROM inbox_deleted d JOIN jobs j ON j.id = d.job_id
             WHERE j.user = ?1 AND d.seq > 0 ORDER BY d.seq",
        )?
        .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Job>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

pub fn retry(conn: &Connection, table: &str, id: i64) -> Result<bool> {
    let changed = conn.execute(
        &format!(
            "UPDATE {table} SET state = 'queued', not_before = unixepoch(), updated = unixepoch()
             WHERE id = ?1 AND state IN ('dead', 'queued')"
        ),
        [id],
    )?;
    Ok(changed == 1)
}

pub fn actions_since(conn: &Connection, user: &str, sender: &str, since: i64) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM jobs
         WHERE user = ?1 AND sender = ?2 AND applied = 1 AND created >= ?3 AND state != 'dead'",
        params![user, sender, since],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}
