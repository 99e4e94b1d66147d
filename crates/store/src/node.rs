//! Nodes: the imipd processes sharing one store. Each start is a new node with a random
//! id; its workers hold leases under ids made from it, so no two processes, on one host or
//! several, can take each other's leases for their own.

use password_hash::rand_core::{OsRng, RngCore};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Random per process start: 32 hex digits.
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// The process as its own machine can recognise it (on Linux: the boot, the pid
    /// namespace, the pid and the start time), so that a restart there knows at once
    /// whether this node still runs, even if its pid was used again; `None` where the
    /// system does not say.
    pub process: Option<String>,
}

impl Node {
    /// This process as a new node on `host`.
    pub fn this_process(host: &str, process: Option<String>) -> Node {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        Node {
            id: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            host: host.to_string(),
            pid: std::process::id(),
            process,
        }
    }

    /// The lease id of this node's worker `role` (`worker-1`, `outbox`).
    pub fn worker(&self, role: &str) -> String {
        format!("{}:{role}", self.id)
    }
}

/// A registered node as the store last heard of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    pub node: Node,
    /// When it registered (Unix seconds, the database's clock).
    pub started: i64,
    /// Seconds since its last heartbeat, by the database's clock.
    pub silent_secs: i64,
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub jobs: u64,
    pub mails: u64,
    pub tombstones: u64,
}
