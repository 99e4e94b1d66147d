//! The worker pool's loop: claim due jobs with a lease, plan each on a blocking thread,
//! and commit each plan's calendar writes together with its job's completion, the round's
//! jobs in one transaction. A job that fails
//! is retried with backoff and dead-lettered after the last attempt; a worker that dies
//! mid-job loses nothing, because its lease runs out and another worker claims the job.

use crate::background::{blocking, next_round, now};
use crate::config::WorkerConfig;
use imipd_scheduling::{Applied, ApplyConfig, Executed, JobError, process_job};
use imipd_store::{Job, Store};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tracing::{Span, info, info_span, warn};

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
    // Every line about a job carries the queue id of the message it came with.
    let spans: Vec<Span> = jobs
        .iter()
        .map(|job| info_span!("job", queue_id = %job.queue_id))
        .collect();
    let (store, cfg_for_jobs, in_spans) = (store.clone(), cfg.clone(), spans.clone());
    let ran = tokio::task::spawn_blocking(move || {
        let ran = run_jobs(&*store, &jobs, &in_spans, &cfg_for_jobs, process);
        jobs.into_iter().zip(ran).collect::<Vec<_>>()
    })
    .await;
    match ran {
        Ok(ran) => {
            for ((job, ran), span) in ran.into_iter().zip(spans) {
                span.in_scope(|| log(cfg, &job, ran));
            }
        }
        Err(e) => warn!(
            worker = cfg.worker_id,
            "job thread failed: {e}; its jobs run again when their leases end"
        ),
    }
    count
}

/// Runs a round's jobs: those that can be planned side by side are committed in one
/// transaction (one flush for all), the others one after another.
fn run_jobs(
    store: &dyn Store,
    jobs: &[Job],
    spans: &[Span],
    cfg: &WorkerConfig,
    process: Processor,
) -> Vec<Ran> {
    let (together, alone): (Vec<usize>, Vec<usize>) =
        (0..jobs.len()).partition(|&i| !shares_a_limit(jobs, i, cfg));
    let mut ran = run_together(store, jobs, spans, &together, cfg, process);
    for i in alone {
        ran.push((
            i,
            spans[i].in_scope(|| run_job(store, &jobs[i], cfg, process)),
        ));
    }
    ran.sort_by_key(|(i, _)| *i);
    ran.into_iter().map(|(_, r)| r).collect()
}

/// With a per-sender limit, jobs of one user from one sender run one after another, so
/// that each counts the actions of those before it.
fn shares_a_limit(jobs: &[Job], i: usize, cfg: &WorkerConfig) -> bool {
    cfg.apply.max_per_sender_per_hour > 0
        && jobs.iter().enumerate().any(|(j, other)| {
            j != i && other.user == jobs[i].user && other.sender == jobs[i].sender
        })
}

/// Plans the jobs at `picked`, then commits the plans in one transaction, each on its
/// own (a savepoint each): a job whose event changed meanwhile is settled or run again
/// alone.
fn run_together(
    store: &dyn Store,
    jobs: &[Job],
    spans: &[Span],
    picked: &[usize],
    cfg: &WorkerConfig,
    process: Processor,
) -> Vec<(usize, Ran)> {
    let now = now();
    let plans: Vec<Result<Applied, String>> = picked
        .iter()
        .map(|&i| spans[i].in_scope(|| plan(store, &jobs[i], now, cfg, process)))
        .collect();
    let batches: Vec<_> = picked
        .iter()
        .zip(&plans)
        .filter_map(|(&i, plan)| {
            let applied = plan.as_ref().ok()?;
            Some(applied.completing(&jobs[i].user, jobs[i].id, &cfg.worker_id))
        })
        .collect();
    let mut committed = match store.commit_all(&batches) {
        Ok(results) => results.into_iter().map(Ok).collect::<Vec<_>>(),
        Err(e) => {
            let why = e.to_string();
            batches.iter().map(|_| Err(why.clone())).collect()
        }
    }
    .into_iter();
    picked
        .iter()
        .zip(plans)
        .map(|(&i, plan)| {
            let job = &jobs[i];
            let ran = spans[i].in_scope(|| match plan {
                Err(error) => fail(store, job, cfg, now, &error),
                Ok(applied) => match committed.next() {
                    Some(Ok(Err(imipd_store::Error::Conflict(conflict)))) => {
                        settle(store, job, cfg, now, &conflict)
                            .unwrap_or_else(|| run_job(store, job, cfg, process))
                    }
                    Some(Ok(result)) => recorded(store, job, cfg, now, applied, result.map(|_| ())),
                    Some(Err(why)) => fail(store, job, cfg, now, &format!("commit failed: {why}")),
                    None => fail(store, job, cfg, now, "commit gave no result"),
                },
            });
            (i, ran)
        })
        .collect()
}

/// The calendar writes and mail of one job, or why it has none.
fn plan(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &WorkerConfig,
    process: Processor,
) -> Result<Applied, String> {
    match catch_unwind(AssertUnwindSafe(|| process(store, job, now, &cfg.apply))) {
        Ok(Ok(applied)) => Ok(applied),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("panic while applying: {message}"))
        }
    }
}

/// The log line of how one job went.
fn log(cfg: &WorkerConfig, job: &Job, ran: Ran) {
    let (id, user, uid) = (job.id, job.user.as_str(), job.uid.as_str());
    match ran {
        Ran::Done { executed } => info!(
            job = id,
            user,
            uid,
            redecided = executed.redecided,
            "{}",
            executed.outcome
        ),
        Ran::Failed(summary) => warn!(job = id, user, uid, "{summary}"),
        Ran::LeaseLost => warn!(
            job = id,
            user,
            uid,
            "lease lost (the job took longer than {} s and another worker took it over); \
             result dropped",
            cfg.lease_secs
        ),
        Ran::NotRecorded(e) => warn!(
            job = id,
            user, uid, "cannot record the job's result: {e}; it runs again when its lease ends"
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

/// Applies one job alone and records the result. When the event changed after the job
/// read it, the job is planned again on the new version.
fn run_job(store: &dyn Store, job: &Job, cfg: &WorkerConfig, process: Processor) -> Ran {
    let now = now();
    let mut conflicts = Vec::new();
    while conflicts.len() < PLANS as usize {
        let applied = match plan(store, job, now, cfg, process) {
            Ok(applied) => applied,
            Err(error) => return fail(store, job, cfg, now, &error),
        };
        match commit(store, job, cfg, &applied) {
            Err(imipd_store::Error::Conflict(conflict)) => {
                match settle(store, job, cfg, now, &conflict) {
                    Some(ran) => return ran,
                    None => conflicts.push(conflict.to_string()),
                }
            }
            result => return recorded(store, job, cfg, now, applied, result),
        }
    }
    let error = format!(
        "the event changed under the job {PLANS} times: {}",
        conflicts.join("; ")
    );
    fail(store, job, cfg, now, &error)
}

/// A conflict the job's plan can settle without planning again (see
/// [`Applied::after_conflict`]), committed; `None` when it must be planned again.
fn settle(
    store: &dyn Store,
    job: &Job,
    cfg: &WorkerConfig,
    now: i64,
    conflict: &imipd_store::Conflict,
) -> Option<Ran> {
    let settled = Applied::after_conflict(conflict)?;
    let result = commit(store, job, cfg, &settled);
    Some(recorded(store, job, cfg, now, settled, result))
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
