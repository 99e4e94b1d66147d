use super::{SqliteStore, addressbooks, calendars, changes, nodes, outbox, queue, timespan, users};
use crate::{
    Batch, Calendar, CalendarObject, CalendarProps, Changes, Committed, Error, FeedEntry, Job,
    JobFilter, JobNotice, NewJob, NewMail, ObjectVersion, ObjectWrite, OutMail, QueueCounts,
    Result, Store, Usage, User, canonical_address, normalize_address,
};
use crate::{Node, NodeStatus, Pruned};
use rusqlite::{OptionalExtension, params};

impl Store for SqliteStore {
    fn create_user(&self, email: &str, password_hash: Option<&str>) -> Result<User> {
        self.write(|tx| {
            let user = users::create(tx, email, password_hash)?;
            calendars::ensure_default(tx, &user.name)?;
            Ok(user)
        })
    }

    fn delete_user(&self, user: &str) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            tx.execute("DELETE FROM objects WHERE user = ?1", [&name])?;
            tx.execute("DELETE FROM changes WHERE user = ?1", [&name])?;
            tx.execute("DELETE FROM card_changes WHERE user = ?1", [&name])?;
            tx.execute("DELETE FROM users WHERE name = ?1", [&name])?;
            Ok(())
        })
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.with(|conn| {
            let names = conn
                .prepare("SELECT name FROM users ORDER BY name")?
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            names
                .iter()
                .filter_map(|n| users::get(conn, n).transpose())
                .collect()
        })
    }

    fn user(&self, user: &str) -> Result<Option<User>> {
        self.with(|conn| users::get(conn, user))
    }

    fn add_alias(&self, user: &str, address: &str) -> Result<()> {
        let alias = normalize_address(address);
        if canonical_address(&alias).is_none() {
            return Err(Error::InvalidAddress(address.into()));
        }
        self.write(|tx| {
            let name = users::require(tx, user)?;
            users::claim_address(tx, &alias)?;
            tx.execute(
                "INSERT INTO addresses (address, user, is_primary) VALUES (?1, ?2, 0)",
                params![alias, name],
            )?;
            Ok(())
        })
    }

    fn remove_alias(&self, user: &str, address: &str) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            tx.execute(
                "DELETE FROM addresses WHERE address = ?1 AND user = ?2 AND is_primary = 0",
                params![normalize_address(address), name],
            )?;
            Ok(())
        })
    }

    fn resolve_address(&self, address: &str) -> Result<Option<String>> {
        self.with(|conn| users::resolve(conn, address))
    }

    fn password_hash(&self, user: &str) -> Result<Option<String>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT password_hash FROM users WHERE name = ?1",
                    [normalize_address(user)],
                    |r| r.get(0),
                )
                .optional()?
                .flatten())
        })
    }

    fn set_password_hash(&self, user: &str, hash: Option<&str>) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                params![name, hash],
            )?;
            Ok(())
        })
    }

    fn calendars(&self, user: &str) -> Result<Vec<Calendar>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            calendars::list(conn, &name)
        })
    }

    fn default_calendar(&self, user: &str) -> Result<Calendar> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            calendars::ensure_default(tx, &name)
        })
    }

    fn create_calendar(&self, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            calendars::create(tx, &user, id, props)
        })
    }

    fn update_calendar(&self, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            calendars::update(tx, &user, id, props)
        })
    }

    fn set_default_calendar(&self, user: &str, id: &str) -> Result<()> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            calendars::set_default(tx, &user, id)
        })
    }

    fn delete_calendar(&self, user: &str, id: &str) -> Result<u64> {
        self.write(|tx| {
            let user = users::require(tx, user)?;
            calendars::delete(tx, &user, id)
        })
    }

    fn find_object(&self, user: &str, uid: &str) -> Result<Option<CalendarObject>> {
        self.with(|conn| calendars::find(conn, &normalize_address(user), uid))
    }

    fn objects(&self, user: &str) -> Result<Vec<CalendarObject>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            calendars::objects(conn, &name)
        })
    }

    fn object_versions(&self, user: &str, calendar_id: &str) -> Result<Vec<ObjectVersion>> {
        self.with(|conn| calendars::versions(conn, &normalize_address(user), calendar_id))
    }

    fn used_bytes(&self, user: &str, of: Usage<'_>) -> Result<i64> {
        let user = normalize_address(user);
        // `octet_length` reads only the record headers (see `calendars::versions`).
        let (sql, id) = match of {
            Usage::Calendars => (
                "SELECT coalesce(sum(octet_length(ics)), 0) FROM objects WHERE user = ?1",
                None,
            ),
            Usage::Calendar(id) => (
                "SELECT coalesce(sum(octet_length(ics)), 0) FROM objects
                 WHERE user = ?1 AND calendar_id = ?2",
                Some(id),
            ),
            Usage::AddressBooks => (
                "SELECT coalesce(sum(octet_length(vcard)), 0) FROM cards WHERE user = ?1",
                None,
            ),
            Usage::AddressBook(id) => (
                "SELECT coalesce(sum(octet_length(vcard)), 0) FROM cards
                 WHERE user = ?1 AND book_id = ?2",
                Some(id),
            ),
        };
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            Ok(match id {
                Some(id) => stmt.query_row(params![user, id], |r| r.get(0))?,
                None => stmt.query_row(params![user], |r| r.get(0))?,
            })
        })
    }

    fn objects_in(
        &self,
        user: &str,
        calendar_id: &str,
        during: Option<(i64, i64)>,
    ) -> Result<Vec<CalendarObject>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            calendars::objects_in(conn, &name, calendar_id, during)
        })
    }

    fn objects_at(
        &self,
        user: &str,
        calendar_id: &str,
        hrefs: &[&str],
    ) -> Result<Vec<CalendarObject>> {
        self.with(|conn| calendars::many_at(conn, &normalize_address(user), calendar_id, hrefs))
    }

    fn object_at(
        &self,
        user: &str,
        calendar_id: &str,
        href: &str,
    ) -> Result<Option<CalendarObject>> {
        self.with(|conn| calendars::at(conn, &normalize_address(user), calendar_id, href))
    }

    fn commit(&self, batch: &Batch) -> Result<Committed> {
        let spans = spans_of(batch);
        self.write(|tx| commit_one(tx, batch, &spans))
    }

    fn commit_all(&self, batches: &[Batch]) -> Result<Vec<Result<Committed>>> {
        let spans: Vec<_> = batches.iter().map(spans_of).collect();
        self.write(|tx| {
            let mut results = Vec::with_capacity(batches.len());
            for (batch, spans) in batches.iter().zip(&spans) {
                tx.execute_batch("SAVEPOINT batch")?;
                let result = commit_one(tx, batch, spans);
                if result.is_err() {
                    tx.execute_batch("ROLLBACK TO batch")?;
                }
                tx.execute_batch("RELEASE batch")?;
                results.push(result);
            }
            Ok(results)
        })
    }

    fn prefs(&self, user: &str) -> Result<Vec<(String, String)>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            Ok(conn
                .prepare_cached("SELECT key, value FROM prefs WHERE user = ?1 ORDER BY key")?
                .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_prefs_and_script(
        &self,
        user: &str,
        prefs: &[(String, String)],
        script: &str,
    ) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            tx.execute("DELETE FROM prefs WHERE user = ?1", [&name])?;
            for (key, value) in prefs {
                tx.execute(
                    "INSERT INTO prefs (user, key, value) VALUES (?1, ?2, ?3)",
                    params![name, key, value],
                )?;
            }
            tx.execute(
                "INSERT INTO sieve (user, script) VALUES (?1, ?2)
                 ON CONFLICT (user) DO UPDATE SET script = excluded.script",
                params![name, script],
            )?;
            Ok(())
        })
    }

    fn sieve_script(&self, user: &str) -> Result<Option<String>> {
        self.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT script FROM sieve WHERE user = ?1")?
                .query_row([normalize_address(user)], |r| r.get(0))
                .optional()?)
        })
    }

    fn set_sieve_script(&self, user: &str, script: Option<&str>) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            match script {
                Some(script) => tx.execute(
                    "INSERT INTO sieve (user, script) VALUES (?1, ?2)
                     ON CONFLICT (user) DO UPDATE SET script = excluded.script",
                    params![name, script],
                )?,
                None => tx.execute("DELETE FROM sieve WHERE user = ?1", [name])?,
            };
            Ok(())
        })
    }

    fn add_contact(&self, user: &str, address: &str) -> Result<bool> {
        let address = normalize_address(address);
        if canonical_address(&address).is_none() {
            return Err(Error::InvalidAddress(address));
        }
        self.write(|tx| {
            let name = users::require(tx, user)?;
            addressbooks::add_contact(tx, &name, &address)
        })
    }

    fn remove_contact(&self, user: &str, address: &str) -> Result<bool> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            addressbooks::remove_contact(tx, &name, address)
        })
    }

    fn contacts(&self, user: &str) -> Result<Vec<String>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            addressbooks::contacts(conn, &name)
        })
    }

    fn is_contact(&self, user: &str, address: &str) -> Result<bool> {
        self.with(|conn| {
            addressbooks::is_contact(conn, &normalize_address(user), &normalize_address(address))
        })
    }

    fn enqueue_job(&self, job: &NewJob) -> Result<Option<i64>> {
        self.write(|tx| queue::enqueue(tx, job))
    }

    fn hold_job(&self, job: &NewJob) -> Result<Option<i64>> {
        self.write(|tx| queue::hold(tx, job))
    }

    fn release_job(&self, job_id: i64) -> Result<bool> {
        self.write(|tx| queue::release(tx, job_id))
    }

    fn drop_held_job(&self, job_id: i64) -> Result<bool> {
        self.write(|tx| queue::drop_held(tx, job_id))
    }

    fn claim_jobs(&self, worker: &str, lease_secs: i64, max: usize) -> Result<Vec<Job>> {
        if !self.with(|conn| queue::any_due(conn, "jobs"))? {
            return Ok(Vec::new());
        }
        // A lease a power cut undoes only lets the job be claimed again, as when its worker
        // dies; the job's outcome is committed (and flushed) with its calendar writes.
        self.write_unflushed(|tx| queue::claim(tx, worker, lease_secs, max))
    }

    fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| queue::fail(tx, "jobs", job_id, worker, error, retry_at))
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        self.with(|conn| queue::list(conn, filter))
    }

    fn inbox_jobs(&self, user: &str, limit: usize) -> Result<Vec<Job>> {
        self.with(|conn| queue::inbox(conn, &normalize_address(user), limit))
    }

    fn delete_from_inbox(&self, user: &str, job_id: i64) -> Result<bool> {
        self.write(|tx| queue::delete_from_inbox(tx, &normalize_address(user), job_id))
    }

    fn inbox_deletions(&self, user: &str) -> Result<Vec<(i64, i64)>> {
        self.with(|conn| queue::inbox_deletions(conn, &normalize_address(user)))
    }

    fn job(&self, job_id: i64) -> Result<Option<Job>> {
        self.with(|conn| queue::get(conn, job_id))
    }

    fn retry_job(&self, job_id: i64) -> Result<bool> {
        self.write(|tx| queue::retry(tx, "jobs", job_id))
    }

    fn retry_mail(&self, mail_id: i64) -> Result<bool> {
        self.write(|tx| queue::retry(tx, "outbox", mail_id))
    }

    fn actions_since(&self, user: &str, sender: &str, since: i64) -> Result<u64> {
        self.with(|conn| {
            queue::actions_since(
                conn,
                &normalize_address(user),
                &normalize_address(sender),
                since,
            )
        })
    }

    fn queue_mail(&self, mail: &NewMail) -> Result<i64> {
        self.write(|tx| outbox::queue(tx, mail))
    }

    fn claim_mail(&self, worker: &str, lease_secs: i64, max: usize) -> Result<Vec<OutMail>> {
        if !self.with(|conn| queue::any_due(conn, "outbox"))? {
            return Ok(Vec::new());
        }
        self.write(|tx| outbox::claim(tx, worker, lease_secs, max))
    }

    fn mail_sent(&self, mail_id: i64, worker: &str) -> Result<()> {
        self.write(|tx| outbox::sent(tx, mail_id, worker))
    }

    fn mail_failed(
        &self,
        mail_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| queue::fail(tx, "outbox", mail_id, worker, error, retry_at))
    }

    fn mail_waits(&self, mail_id: i64, worker: &str, why: &str, retry_at: i64) -> Result<()> {
        self.write(|tx| queue::wait(tx, "outbox", mail_id, worker, why, retry_at))
    }

    fn mails(&self, filter: &JobFilter) -> Result<Vec<OutMail>> {
        self.with(|conn| outbox::list(conn, filter))
    }

    fn queue_counts(&self) -> Result<QueueCounts> {
        self.with(|conn| {
            let count = |table: &str, state: &str| -> Result<u64> {
                let n: i64 = conn.query_row(
                    &format!("SELECT COUNT(*) FROM {table} WHERE state = ?1"),
                    [state],
                    |r| r.get(0),
                )?;
                Ok(n as u64)
            };
            Ok(QueueCounts {
                jobs_queued: count("jobs", "queued")?,
                jobs_running: count("jobs", "running")?,
                jobs_dead: count("jobs", "dead")?,
                mail_queued: count("outbox", "queued")?,
                mail_dead: count("outbox", "dead")?,
            })
        })
    }

    fn register_node(&self, node: &Node, workers: &[String]) -> Result<()> {
        self.write(|tx| nodes::register(tx, node, workers))
    }

    fn heartbeat(&self, node_id: &str) -> Result<bool> {
        self.write(|tx| nodes::heartbeat(tx, node_id))
    }

    fn unregister_node(&self, node_id: &str) -> Result<()> {
        self.write(|tx| nodes::unregister(tx, node_id))
    }

    fn nodes(&self) -> Result<Vec<NodeStatus>> {
        self.with(|conn| nodes::list(conn))
    }

    fn release_nodes(&self, node_ids: &[String]) -> Result<u64> {
        self.write(|tx| nodes::release(tx, node_ids))
    }

    fn prune(&self, retention_secs: i64) -> Result<Pruned> {
        self.write(|tx| nodes::prune(tx, retention_secs))
    }

    fn check(&self) -> Result<()> {
        self.check_file()
    }

    fn changes_since(&self, user: &str, calendar_id: &str, token: Option<i64>) -> Result<Changes> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            changes::since(conn, &name, calendar_id, token)
        })
    }

    fn feed_since(&self, seq: i64, limit: usize) -> Result<Vec<FeedEntry>> {
        self.with(|conn| changes::feed(conn, seq, limit))
    }

    fn feed_head(&self) -> Result<i64> {
        self.with(|conn| changes::head(conn))
    }

    fn job_feed_since(&self, seq: i64, limit: usize) -> Result<Vec<JobNotice>> {
        self.with(|conn| queue::feed(conn, seq, limit))
    }

    fn record_by_hand(&self, job_id: i64, record: &str) -> Result<bool> {
        self.write(|tx| queue::record_by_hand(tx, job_id, record))
    }

    fn job_feed_head(&self) -> Result<i64> {
        self.with(|conn| queue::feed_head(conn))
    }
}

/// The time-range index entry of each write's data, computed before the transaction so
/// the write lock is not held while a series is expanded.
fn spans_of(batch: &Batch) -> Vec<(i64, i64)> {
    batch
        .writes
        .iter()
        .map(|w| match w {
            ObjectWrite::Put { ics, .. } => timespan::of(ics),
            ObjectWrite::Delete { .. } => (i64::MIN, i64::MAX),
        })
        .collect()
}

/// One batch's writes, mail and job completion, inside the caller's transaction.
fn commit_one(
    tx: &rusqlite::Transaction<'_>,
    batch: &Batch,
    spans: &[(i64, i64)],
) -> Result<Committed> {
    if let Some(job) = &batch.job {
        queue::check_lease_of(tx, "jobs", job.job_id, &job.worker)?;
    }
    let mut committed = Committed::default();
    // A job of a user deleted since commits its outcome without writes.
    if !batch.writes.is_empty() {
        let user = users::require(tx, &batch.user)?;
        for (write, span) in batch.writes.iter().zip(spans) {
            committed
                .objects
                .push(calendars::write(tx, &user, write, *span)?);
        }
    }
    for mail in &batch.mails {
        committed.mail_ids.push(outbox::queue(tx, mail)?);
    }
    if let Some(job) = &batch.job {
        queue::finish(tx, job)?;
    }
    Ok(committed)
}
