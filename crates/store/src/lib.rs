//! Storage for imipd: users and their addresses, calendars and calendar objects,
//! preferences, Sieve scripts, address books (contacts), the durable job queue and the outbox.
//!
//! Everything above this crate talks to the [`Store`] trait, so a second backend
//! (PostgreSQL, for several nodes) can sit beside [`SqliteStore`] and run the same tests.

mod address;
mod addressbooks;
mod app_passwords;
mod dead_properties;
mod error;
mod href;
mod node;
mod password;
mod sessions;
mod sqlite;
mod types;

pub use address::{canonical_address, normalize_address};
pub use addressbooks::{
    AddressBook, AddressBookError, AddressBooks, CardConflict, CardFound, DEFAULT_ADDRESS_BOOK,
    StoredCard,
};
pub use app_passwords::{
    AppPassword, AppPasswords, IssuedAppPassword, MAX_APP_PASSWORDS, MAX_LABEL_CHARS,
    app_password_parts, issue_app_password, list_app_passwords, revoke_app_password,
};
pub use dead_properties::{
    DeadChange, DeadProperties, DeadProperty, DeadRefusal, MAX_DEAD_PROPERTIES,
    MAX_DEAD_VALUE_BYTES, PropertyOwner, check_dead_changes,
};
pub use error::{Error, Result};
pub use href::{card_href_for_uid, href_for_uid};
pub use node::{Node, NodeStatus, Pruned};
pub use password::{HashMemory, dummy_hash, hash_password, verify_password_in};
pub use sessions::{Session, Sessions};
pub use sqlite::SqliteStore;
pub use types::*;

/// The storage interface. Methods are blocking; async callers use `spawn_blocking`.
pub trait Store: AddressBooks + AppPasswords + DeadProperties + Sessions + Send + Sync {
    // --- users and addresses ---------------------------------------------------------
    /// Creates a user with its primary address; fails if any address is taken.
    fn create_user(&self, email: &str, password_hash: Option<&str>) -> Result<User>;
    fn delete_user(&self, user: &str) -> Result<()>;
    fn list_users(&self) -> Result<Vec<User>>;
    fn user(&self, user: &str) -> Result<Option<User>>;
    /// The user's addresses (see [`User::addresses`]); just `user` when there is no such user.
    fn addresses(&self, user: &str) -> Result<Vec<String>> {
        Ok(match self.user(user)? {
            Some(u) => u.addresses(),
            None => vec![user.to_string()],
        })
    }
    fn add_alias(&self, user: &str, address: &str) -> Result<()>;
    fn remove_alias(&self, user: &str, address: &str) -> Result<()>;
    /// Maps a recipient address to its user: case-insensitive, `bob+tag@x` → `bob@x`.
    fn resolve_address(&self, address: &str) -> Result<Option<String>>;
    fn password_hash(&self, user: &str) -> Result<Option<String>>;
    fn set_password_hash(&self, user: &str, hash: Option<&str>) -> Result<()>;

    // --- calendars ---------------------------------------------------------------------
    fn calendars(&self, user: &str) -> Result<Vec<Calendar>>;
    /// The user's default calendar, created on first use.
    fn default_calendar(&self, user: &str) -> Result<Calendar>;
    fn create_calendar(&self, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar>;
    /// Changes the properties `props` sets (see [`CalendarProps`]).
    fn update_calendar(&self, user: &str, id: &str, props: &CalendarProps) -> Result<Calendar>;
    /// Makes `id` the calendar new invitations go to.
    fn set_default_calendar(&self, user: &str, id: &str) -> Result<()>;
    /// Deletes a calendar and every object in it; returns how many objects went with it.
    /// The default calendar is refused ([`Error::DefaultCalendar`]).
    fn delete_calendar(&self, user: &str, id: &str) -> Result<u64>;
    /// The scheduling copy of a UID: the object with this UID in the default calendar,
    /// else in the first calendar (by id) that has one. A UID may live in several of a
    /// user's calendars; mail and the organizer's actions work on this copy.
    fn find_object(&self, user: &str, uid: &str) -> Result<Option<CalendarObject>>;
    /// The object at `href` of one calendar.
    fn object_at(
        &self,
        user: &str,
        calendar_id: &str,
        href: &str,
    ) -> Result<Option<CalendarObject>>;
    /// The objects at `hrefs` of one calendar, read in one statement (a calendar-multiget);
    /// a name with no object is left out.
    fn objects_at(
        &self,
        user: &str,
        calendar_id: &str,
        hrefs: &[&str],
    ) -> Result<Vec<CalendarObject>>;
    fn objects(&self, user: &str) -> Result<Vec<CalendarObject>>;
    /// The name, version and size of each object of one calendar, by href, without
    /// reading the objects' data.
    fn object_versions(&self, user: &str, calendar_id: &str) -> Result<Vec<ObjectVersion>>;
    /// The bytes of data the user keeps in one collection, or in all of one kind.
    fn used_bytes(&self, user: &str, of: Usage<'_>) -> Result<i64>;
    /// The objects of one calendar, by href. With `during` (UTC seconds `start..end`, an
    /// open bound as `i64::MIN` or `i64::MAX`) only the candidates of a time-range query,
    /// read from the time-range index: every object with an instance in the range, and
    /// some without (floating times, data the index cannot read, series past the expansion
    /// budget); the caller's exact filter decides.
    fn objects_in(
        &self,
        user: &str,
        calendar_id: &str,
        during: Option<(i64, i64)>,
    ) -> Result<Vec<CalendarObject>>;
    /// The one write path: commits the batch's calendar writes, its mail and its job's
    /// completion in one transaction, or nothing. A write whose [`Expect`] no longer holds
    /// fails the batch with [`Error::Conflict`]: the caller reads again and retries, or
    /// reports. A job's completion is refused with [`Error::LeaseLost`] (before any write is
    /// looked at) when its worker no longer holds the lease.
    fn commit(&self, batch: &Batch) -> Result<Committed>;
    /// Commits several batches in one transaction, each as [`Self::commit`] would on its
    /// own: a batch that fails (its result says why) leaves no trace and the others still
    /// commit. One flush for all of them (a worker's claimed jobs). The outer error: the
    /// transaction itself failed, and nothing was committed.
    fn commit_all(&self, batches: &[Batch]) -> Result<Vec<Result<Committed>>>;

    // --- preferences, Sieve and contacts -------------------------------------------------
    fn prefs(&self, user: &str) -> Result<Vec<(String, String)>>;
    /// Replaces the preferences and the script in one transaction: the generated Sieve
    /// section must never disagree with the stored preferences.
    fn set_prefs_and_script(
        &self,
        user: &str,
        prefs: &[(String, String)],
        script: &str,
    ) -> Result<()>;
    fn sieve_script(&self, user: &str) -> Result<Option<String>>;
    fn set_sieve_script(&self, user: &str, script: Option<&str>) -> Result<()>;
    /// Makes `address` a contact: a simple card (FN, EMAIL) in the default address book,
    /// unless a card has the address already (`false`).
    fn add_contact(&self, user: &str, address: &str) -> Result<bool>;
    /// Takes `address` out of every card that has it; a card left with nothing but its
    /// name is deleted. `false` when no card had it.
    fn remove_contact(&self, user: &str, address: &str) -> Result<bool>;
    /// Every EMAIL of every card in the user's address books, normalised, once each.
    fn contacts(&self, user: &str) -> Result<Vec<String>>;
    /// Is `address` an EMAIL of one of the user's cards (ASCII case-insensitive)? One
    /// indexed lookup: the contacts gate asks this for every delivery.
    fn is_contact(&self, user: &str, address: &str) -> Result<bool>;

    // --- the job queue (update stage) --------------------------------------------------
    /// Enqueues a job durably. Returns `None` when a job with the same idempotency key
    /// exists already (a redelivered message), so the calendar changes once.
    fn enqueue_job(&self, job: &NewJob) -> Result<Option<i64>>;
    /// Writes a job durably but holds it back: no worker claims it until [`Self::release_job`].
    /// Delivery holds a recipient's jobs before its copy is stored, releases them once the
    /// copy is, and drops them when it is refused, so a calendar never changes for mail
    /// that was not delivered. Returns `None` when a job with the same idempotency key exists
    /// and is not held (a repeated delivery); a held one is returned (the retry of a delivery
    /// cut short), so that this delivery releases it.
    fn hold_job(&self, job: &NewJob) -> Result<Option<i64>>;
    /// Makes a held job due now; `false` when it is not held (released or dropped already).
    fn release_job(&self, job_id: i64) -> Result<bool>;
    /// Removes a held job whose mail was not delivered; `false` when it is not held.
    fn drop_held_job(&self, job_id: i64) -> Result<bool>;
    /// Claims up to `max` due jobs for `lease_secs`; expired leases are claimable again,
    /// so a worker killed mid-job loses nothing.
    fn claim_jobs(&self, worker: &str, lease_secs: i64, max: usize) -> Result<Vec<Job>>;
    /// Records a failure: retried at `retry_at`, or dead-lettered when `None`.
    fn fail_job(&self, job_id: i64, worker: &str, error: &str, retry_at: Option<i64>)
    -> Result<()>;
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>>;
    /// The newest `limit` done jobs of `user` not deleted from their schedule inbox.
    fn inbox_jobs(&self, user: &str, limit: usize) -> Result<Vec<Job>>;
    /// Takes a done job of `user` out of their schedule inbox; false when it is not one.
    fn delete_from_inbox(&self, user: &str, job_id: i64) -> Result<bool>;
    /// The items taken out of `user`'s schedule inbox: (job id, the position of the
    /// deletion among job ids, for sync tokens).
    fn inbox_deletions(&self, user: &str) -> Result<Vec<(i64, i64)>>;
    fn job(&self, job_id: i64) -> Result<Option<Job>>;
    /// Records on a job what the user applied by hand after it (see [`Job::by_hand`]), and
    /// tells the job feed; `false` when there is no such job.
    fn record_by_hand(&self, job_id: i64, record: &str) -> Result<bool>;
    /// Puts a dead or failed job back in the queue.
    fn retry_job(&self, job_id: i64) -> Result<bool>;
    /// How many jobs from `sender` to `user` written since `since` changed the calendar or
    /// will: applied, or held, queued or running with [`NewJob::applies`] (the sender's
    /// hourly limit, which deliveries must agree on before the worker has run them).
    fn actions_since(&self, user: &str, sender: &str, since: i64) -> Result<u64>;

    // --- the outbox (outbound mail) ------------------------------------------------------
    fn queue_mail(&self, mail: &NewMail) -> Result<i64>;
    fn claim_mail(&self, worker: &str, lease_secs: i64, max: usize) -> Result<Vec<OutMail>>;
    fn mail_sent(&self, mail_id: i64, worker: &str) -> Result<()>;
    fn mail_failed(
        &self,
        mail_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()>;
    /// Puts claimed mail back to wait until `retry_at` with `why`, its attempt not counted:
    /// nothing was tried (no relay is configured).
    fn mail_waits(&self, mail_id: i64, worker: &str, why: &str, retry_at: i64) -> Result<()>;
    fn mails(&self, filter: &JobFilter) -> Result<Vec<OutMail>>;
    /// Puts dead or deferred outgoing mail back in the queue, due now.
    fn retry_mail(&self, mail_id: i64) -> Result<bool>;

    /// Queue depths for health checks and monitoring.
    fn queue_counts(&self) -> Result<QueueCounts>;

    // --- nodes (the processes sharing the store) -------------------------------------
    /// Registers a starting node and the worker ids its leases will be held under.
    fn register_node(&self, node: &Node, workers: &[String]) -> Result<()>;
    /// Records that the node is alive, by the database's clock; `false` when it is no
    /// longer registered (released as dead by another node): it should register again.
    fn heartbeat(&self, node_id: &str) -> Result<bool>;
    /// Removes a node that stops; leases it still holds are released by the next start.
    fn unregister_node(&self, node_id: &str) -> Result<()>;
    fn nodes(&self) -> Result<Vec<NodeStatus>>;
    /// Ends every lease held by a worker of these nodes, or by a worker no node
    /// registered, so their jobs and mail are due at once, and removes the nodes. Only for
    /// nodes known to be dead: a live one would lose its results (the lease check refuses
    /// them), never apply them twice.
    fn release_nodes(&self, node_ids: &[String]) -> Result<u64>;
    /// Deletes finished jobs, sent mail and tombstones older than `retention_secs` (by the
    /// database's clock). Queued, held and dead work stays.
    fn prune(&self, retention_secs: i64) -> Result<Pruned>;

    /// Whether the database is still the one opened at start-up and writable. Deliveries
    /// and `/healthz` ask, so a deleted, swapped or read-only database is refused with 4xx
    /// instead of acknowledged into a file nobody will read again.
    fn check(&self) -> Result<()>;

    // --- the change feed ---------------------------------------------------------------
    /// What changed in a calendar since `token`, a [`Calendar::sync_token`] read earlier
    /// (`None`: every object in it now). Deleted objects are reported by their tombstones.
    /// A token older than the calendar's oldest kept change, from before it was created,
    /// or never given out is [`Error::InvalidSyncToken`]: the client syncs from scratch.
    fn changes_since(&self, user: &str, calendar_id: &str, token: Option<i64>) -> Result<Changes>;
    /// Every change after position `seq` of the feed, all users, oldest first, at most
    /// `limit`: the latest change of each object, so a reader that falls behind still
    /// ends at the current state. Push streams follow it, in any process.
    fn feed_since(&self, seq: i64, limit: usize) -> Result<Vec<FeedEntry>>;
    /// The position of the newest change (0 before the first).
    fn feed_head(&self) -> Result<i64>;
    /// The job feed after position `seq`, all users, oldest first, at most `limit`: how a
    /// page learns of a finished job (an invitation kept for the user to add), in any
    /// process.
    fn job_feed_since(&self, seq: i64, limit: usize) -> Result<Vec<JobNotice>>;
    /// The position of the newest job notice (0 before the first).
    fn job_feed_head(&self) -> Result<i64>;
}
