//! How the background loops rest between rounds: until the poll interval passes, someone
//! pokes them (new work was queued), or shutdown is asked for.

use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Waits for the next round. Returns `false` when the loop should stop: shutdown was
/// signalled (`true` sent) or its sender is gone.
pub(crate) async fn next_round(
    poll: Duration,
    wake: &Notify,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(poll) => {}
        _ = wake.notified() => {}
        changed = shutdown.changed() => {
            if changed.is_err() {
                return false;
            }
        }
    }
    !*shutdown.borrow()
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
