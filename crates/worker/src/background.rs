//! What the background loops (update workers, outbox) share: resting between rounds,
//! store calls off the async threads, and the clock.

use imipd_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Waits for the next round: until the poll interval passes, someone pokes the loop (new
/// work was queued), or shutdown is asked for. Returns `false` when the loop should stop: shutdown was
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

/// Runs a (blocking) store call on the blocking thread pool; the error says what failed.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<dyn Store>,
    call: impl FnOnce(&dyn Store) -> imipd_store::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || call(&*store)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("store thread failed: {e}")),
    }
}
