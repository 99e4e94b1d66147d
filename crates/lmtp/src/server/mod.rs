//! The tokio shell around [`crate::session`]: accepts connections, enforces the
//! connection limit, and shuts down gracefully.

mod connection;
mod input;

use crate::Backend;
use crate::Reply;
use crate::protocol::write_reply;
use crate::spool::{self, SpoolConfig};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

/// How long transactions in progress may take to finish after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The name in the greeting and the LHLO reply.
    pub hostname: String,
    /// Largest message accepted, in bytes (advertised as SIZE).
    pub max_message_size: usize,
    /// Most recipients in one transaction.
    pub max_recipients: usize,
    /// Connections served at once; more are answered 421 and closed.
    pub max_connections: usize,
    /// A client silent this long is answered 421 and disconnected.
    pub idle_timeout: Duration,
    /// Where messages larger than `spool_memory_threshold` wait for delivery.
    pub spool_dir: PathBuf,
    pub spool_memory_threshold: usize,
}

/// Serves LMTP on `listener` until `shutdown` completes, then stops accepting, lets
/// transactions in progress finish (for up to 30 seconds) and returns.
pub async fn serve<B: Backend>(
    listener: TcpListener,
    config: ServerConfig,
    backend: Arc<B>,
    shutdown: impl Future<Output = ()>,
) {
    match spool::prepare_dir(&config.spool_dir) {
        Ok(0) => {}
        Ok(removed) => info!(
            "removed {removed} stale spool files from {}",
            config.spool_dir.display()
        ),
        Err(e) => error!(
            "cannot prepare spool directory {}: {e}; messages over {} bytes will be refused \
             until it exists and is writable",
            config.spool_dir.display(),
            config.spool_memory_threshold
        ),
    }
    let shared = Arc::new(connection::Shared {
        spool: SpoolConfig {
            dir: config.spool_dir.clone(),
            memory_threshold: config.spool_memory_threshold,
            max_size: config.max_message_size,
        },
        config,
    });
    let slots = Arc::new(Semaphore::new(shared.config.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Accept errors in a row; logged when they start and when they end, not each time.
    let mut accept_errors = 0u64;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if accept_errors > 0 {
                        info!("accepting LMTP connections again after {accept_errors} failed accept(s)");
                        accept_errors = 0;
                    }
                    match slots.clone().try_acquire_owned() {
                        Ok(slot) => {
                            let connection = connection::run(
                                stream,
                                peer,
                                shared.clone(),
                                backend.clone(),
                                stopping.clone(),
                            );
                            connections.spawn(async move {
                                connection.await;
                                drop(slot);
                            });
                        }
                        Err(_) => {
                            debug!(%peer, "connection refused: limit of {} reached", shared.config.max_connections);
                            tokio::spawn(refuse(stream, shared.config.hostname.clone()));
                        }
                    }
                }
                Err(e) => {
                    // Usually out of file descriptors: wait for connections to close.
                    accept_errors += 1;
                    if accept_errors == 1 {
                        warn!(
                            "cannot accept LMTP connection: {e}; retrying every 100 ms (out of \
                             descriptors? raise the limit or lower lmtp.max_connections)"
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                log_task_end(finished);
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let busy = connections.len();
    if busy > 0 {
        info!("shutting down: waiting for {busy} connections to finish");
    }
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(finished) = connections.join_next().await {
            log_task_end(finished);
        }
    })
    .await;
    if drained.is_err() {
        warn!(
            "{} connections still busy after {}s, closing them",
            connections.len(),
            SHUTDOWN_GRACE.as_secs()
        );
        connections.shutdown().await;
    }
}

fn log_task_end(finished: Result<(), tokio::task::JoinError>) {
    if let Err(e) = finished
        && e.is_panic()
    {
        warn!("LMTP connection task panicked: {e}");
    }
}

/// Tells a client over the connection limit to come back later.
async fn refuse(mut stream: TcpStream, hostname: String) {
    let mut out = Vec::new();
    write_reply(
        &Reply::new(
            421,
            (4, 3, 2),
            format!("{hostname} too many connections, try again later"),
        ),
        &mut out,
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        stream.write_all(&out).await?;
        stream.shutdown().await
    })
    .await;
}
