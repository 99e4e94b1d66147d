//! Settings of the update workers and the retry schedule shared with the outbox.

use imipd_scheduling::ApplyConfig;
use std::time::Duration;

/// How long to wait before the next attempt, by attempt number: Postfix-like, quick at
/// first (a database restart), then patient (a relay down for the night).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// Delay in seconds after the 1st, 2nd, … failed attempt; the last one repeats.
    pub delays: Vec<i64>,
    /// Attempts before a job or mail is dead-lettered.
    pub max_attempts: u32,
}

impl Backoff {
    /// When to try again after `attempts` attempts (counting the one that just failed),
    /// or `None` when there are no attempts left: the item goes to the dead-letter state.
    pub fn retry_at(&self, attempts: i64, now: i64) -> Option<i64> {
        if attempts >= i64::from(self.max_attempts) {
            return None;
        }
        let index = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
        let delay = self
            .delays
            .get(index)
            .or(self.delays.last())
            .copied()
            .unwrap_or(0);
        Some(now.saturating_add(delay.max(0)))
    }

    /// Calendar jobs: 30 s, 2 min, 10 min, 1 h, then every 2 h; dead after 8 attempts.
    pub fn jobs() -> Self {
        Backoff {
            delays: vec![30, 120, 600, 3600, 7200],
            max_attempts: 8,
        }
    }

    /// Outgoing mail: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, then every 4 h; dead after
    /// 36 attempts, about five days, like an MTA's queue lifetime.
    pub fn mail() -> Self {
        Backoff {
            delays: vec![60, 300, 900, 1800, 3600, 7200, 14400],
            max_attempts: 36,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this worker in leases and logs; unique per worker task.
    pub worker_id: String,
    /// How long a claimed job stays ours; a worker that dies releases its jobs when it ends.
    pub lease_secs: i64,
    /// Jobs claimed at once.
    pub batch: usize,
    /// How often the queue is looked at when nobody pokes the worker.
    pub poll_interval: Duration,
    pub backoff: Backoff,
    /// How a job is executed: the rate limit and the calendar limits.
    pub apply: ApplyConfig,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            worker_id: "worker-1".into(),
            lease_secs: 120,
            batch: 4,
            poll_interval: Duration::from_millis(200),
            backoff: Backoff::jobs(),
            apply: ApplyConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedule() {
        let b = Backoff {
            delays: vec![30, 120],
            max_attempts: 4,
        };
        let cases = [
            (1, Some(1030)),
            (2, Some(1120)),
            (3, Some(1120)),
            (4, None),
            (9, None),
        ];
        for (attempts, want) in cases {
            assert_eq!(b.retry_at(attempts, 1000), want, "attempts {attempts}");
        }
    }
}
