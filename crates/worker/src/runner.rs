//! The worker pool's loop: claim due jobs with a lease, apply each on a blocking thread,
//! and commit the calendar writes together with the job's completion. A job that fails
//! is retried with backoff and dead-lettered after the last attempt; a worker that dies
//! mid-job loses nothing, because its lease runs out and another worker claims the job.

use crate::background::{blocking, next_round, now};
use crate::config::WorkerConfig;
use imipd_scheduling::{Applied, ApplyConfig, Executed, JobError, process_job};
use imipd_store::{Job, Store};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tracing::{Instrument, Span, info, info_span, warn};

/// How a job is turned into calendar writes: [`process_job`] in production.
pub type Processor = fn(&dyn Store, &Job, i64, &ApplyConfig) -> Result<Applied, JobError>;

/// Runs one worker until shutdown. `wake` is poked by the LMTP stage after it queues jobs.
/// What a job commits reaches push streams through the store's change feed.
pub async fn run_worker(
    store: Arc<dyn Store>,
    cfg: WorkerConfig,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    info!(worker = cfg.worker_id, "update worker started");
    loop {
        let handled = worker_round(&store, &cfg, process_job).await;
        // A full batch means more may be waiting: go again at once.
        if handled < cfg.batch && !next_round(cfg.poll_interval, &wake, &mut shutdown).await {
            break;
        }
        if *shutdown.borrow() {
            break;
        }
    }
    info!(worker = cfg.worker_id, "update worker stopped");
}

/// Claims one batch of due jobs and runs them with `process`; returns how many were claimed.
pub async fn worker_round(store: &Arc<dyn Store>, cfg: &WorkerConfig, process: Processor) -> usize {
    let (worker, lease, batch) = (cfg.worker_id.clone(), cfg.lease_secs, cfg.batch);
    let jobs = match blocking(store, move |s| s.claim_jobs(&worker, lease, batch)).await {
        Ok(jobs) => jobs,
        Err(e) => {
            warn!(worker = cfg.worker_id, "cannot claim jobs: {e}");
            return 0;
        }
    };
    let count = jobs.len();
    for job in jobs {
        // Every line about the job carries the queue id of the message it came with.
        let span = info_span!("job", queue_id = %job.queue_id);
        run_one(store, cfg, process, job).instrument(span).await;
    }
    count
}

/// Runs one claimed job on a blocking thread and logs how it went.
async fn run_one(store: &Arc<dyn Store>, cfg: &WorkerConfig, process: Processor, job: Job) {
    let (store, cfg_for_job) = (store.clone(), cfg.clone());
    let (id, user, uid) = (job.id, job.user.clone(), job.uid.clone());
    let span = Span::current();
    let ran = tokio::task::spawn_blocking(move || {
        span.in_scope(|| run_job(&*store, &job, &cfg_for_job, process))
    })
    .await;
    match ran {
        Ok(Ran::Done { executed }) => info!(
            job = id,
            user,
            uid,
            redecided = executed.redecided,
            "{}",
            executed.outcome
        ),
        Ok(Ran::Failed(summary)) => warn!(job = id, user, uid, "{summary}"),
        Ok(Ran::LeaseLost) => warn!(
            job = id,
            user,
            uid,
            "lease lost (the job took longer than {} s and another worker took it over); \
             result dropped",
            cfg.lease_secs
        ),
        Ok(Ran::NotRecorded(e)) => warn!(
            job = id,
            user, uid, "cannot record the job's result: {e}; it runs again when its lease ends"
        ),
        Err(e) => warn!(
            job = id,
            user, uid, "job thread failed: {e}; it runs again when its lease ends"
        ),
    }
}

/// How one job went, for the log line.
enum Ran {
    Done { executed: Executed },
    Failed(String),
    LeaseLost,
    NotRecorded(imipd_store::Error),
}

/// Plans before a job is given back to the queue: each conflict means the event changed
/// between the job's read and its write.
const PLANS: u32 = 3;

/// Applies one job and records the result, on a blocking thread. When the event changed
/// after the job read it, the job is planned again on the new version.
fn run_job(store: &dyn Store, job: &Job, cfg: &WorkerConfig, process: Processor) -> Ran {
    let now = now();
    let mut conflicts = Vec::new();
    while conflicts.len() < PLANS as usize {
        let error = match catch_unwind(AssertUnwindSafe(|| process(store, job, now, &cfg.apply))) {
            Ok(Ok(applied)) => match commit(store, job, cfg, &applied) {
                Err(imipd_store::Error::Conflict(conflict)) => {
                    match Applied::after_conflict(&conflict) {
                        Some(settled) => {
                            let result = commit(store, job, cfg, &settled);
                            return recorded(store, job, cfg, now, settled, result);
                        }
                        None => {
                            conflicts.push(conflict.to_string());
                            continue;
                        }
                    }
                }
                result => return recorded(store, job, cfg, now, applied, result),
            },
            Ok(Err(e)) => e.to_string(),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("panic while applying: {message}")
            }
        };
        return fail(store, job, cfg, now, &error);
    }
    let error = format!(
        "the event changed under the job {PLANS} times: {}",
        conflicts.join("; ")
    );
    fail(store, job, cfg, now, &error)
}

fn commit(
    store: &dyn Store,
    job: &Job,
    cfg: &WorkerConfig,
    applied: &Applied,
) -> imipd_store::Result<()> {
    let batch = applied.completing(&job.user, job.id, &cfg.worker_id);
    store.commit(&batch).map(|_| ())
}

/// How a commit went, for the log line.
fn recorded(
    store: &dyn Store,
    job: &Job,
    cfg: &WorkerConfig,
    now: i64,
    applied: Applied,
    result: imipd_store::Result<()>,
) -> Ran {
    match result {
        Ok(()) => Ran::Done {
            executed: applied.executed,
        },
        Err(imipd_store::Error::LeaseLost(_)) => Ran::LeaseLost,
        // The writes did not commit (a store error, a calendar deleted meanwhile): like
        // any failure, try again later.
        Err(e) => fail(store, job, cfg, now, &format!("commit failed: {e}")),
    }
}

fn fail(store: &dyn Store, job: &Job, cfg: &WorkerConfig, now: i64, error: &str) -> Ran {
    let retry_at = cfg.backoff.retry_at(job.attempts, now);
    let summary = match retry_at {
        Some(at) => format!("attempt {} failed, retry at {at}: {error}", job.attempts),
        None => format!("dead after {} attempts: {error}", job.attempts),
    };
    match store.fail_job(job.id, &cfg.worker_id, error, retry_at) {
        Ok(()) => Ran::Failed(summary),
        Err(imipd_store::Error::LeaseLost(_)) => Ran::LeaseLost,
        Err(e) => Ran::NotRecorded(e),
    }
}
