//! The node's housekeeping loop: a heartbeat into the store's node registry, the leases of
//! nodes that stopped beating released, and finished work pruned once an hour.

use crate::background::blocking;
use imipd_store::{Node, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

#[derive(Debug, Clone)]
pub struct HousekeepingConfig {
    /// This process, as registered.
    pub node: Node,
    /// Its worker ids, registered again if another node took it for dead.
    pub workers: Vec<String>,
    pub heartbeat: Duration,
    /// A node silent this long (by the database's clock) is dead: its leases are released.
    pub dead_after_secs: i64,
    /// Finished jobs, sent mail and tombstones older than this are deleted.
    pub retention_secs: i64,
    pub prune_every: Duration,
}

impl HousekeepingConfig {
    pub fn new(node: Node, workers: Vec<String>, retention_secs: i64) -> Self {
        HousekeepingConfig {
            node,
            workers,
            heartbeat: Duration::from_secs(10),
            dead_after_secs: 60,
            retention_secs,
            prune_every: Duration::from_secs(3600),
        }
    }
}

/// Runs until shutdown. Prunes at once, then every `prune_every`.
pub async fn run_housekeeping(
    store: Arc<dyn Store>,
    cfg: HousekeepingConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut next_prune = Instant::now();
    loop {
        let prune = Instant::now() >= next_prune;
        if prune {
            next_prune = Instant::now() + cfg.prune_every;
        }
        housekeeping_round(&store, &cfg, prune).await;
        tokio::select! {
            _ = tokio::time::sleep(cfg.heartbeat) => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
}

/// One round: the heartbeat, dead nodes released, and (when `prune`) finished work pruned.
pub async fn housekeeping_round(store: &Arc<dyn Store>, cfg: &HousekeepingConfig, prune: bool) {
    let node = cfg.node.clone();
    let workers = cfg.workers.clone();
    let beat = blocking(store, move |s| {
        if s.heartbeat(&node.id)? {
            return Ok(false);
        }
        // Silent long enough to be taken for dead (a stalled disk, a suspended VM): its
        // leases are gone, and it goes on as a node again.
        s.register_node(&node, &workers)?;
        Ok(true)
    })
    .await;
    match beat {
        Ok(true) => warn!(
            node = cfg.node.id,
            "this node was taken for dead (no heartbeat for {} s) and registered again; jobs it \
             was running may run twice",
            cfg.dead_after_secs
        ),
        Ok(false) => {}
        Err(e) => warn!(node = cfg.node.id, "heartbeat failed: {e}"),
    }
    let (me, dead_after) = (cfg.node.id.clone(), cfg.dead_after_secs);
    let released = blocking(store, move |s| {
        let dead: Vec<String> = s
            .nodes()?
            .into_iter()
            .filter(|n| n.node.id != me && n.silent_secs > dead_after)
            .map(|n| n.node.id)
            .collect();
        if dead.is_empty() {
            return Ok((dead, 0));
        }
        let released = s.release_nodes(&dead)?;
        Ok((dead, released))
    })
    .await;
    match released {
        Ok((dead, n)) if !dead.is_empty() => info!(
            "{n} job(s) and mail of {} silent node(s) ({}) are due again",
            dead.len(),
            dead.join(", ")
        ),
        Ok(_) => {}
        Err(e) => warn!("cannot release the leases of silent nodes: {e}"),
    }
    if prune {
        let retention = cfg.retention_secs;
        match blocking(store, move |s| s.prune(retention)).await {
            Ok(p) if p.jobs + p.mails + p.tombstones > 0 => info!(
                "pruned {} finished job(s), {} sent mail(s) and {} tombstone(s) older than {} days",
                p.jobs,
                p.mails,
                p.tombstones,
                retention / 86_400
            ),
            Ok(_) => {}
            Err(e) => warn!("cannot prune finished jobs and mail: {e}"),
        }
    }
}
