//! This process among the nodes sharing the database: which earlier nodes are known to be
//! gone, so their leases need not run out first.

use imipd_store::{Node, Store};
use tracing::{info, warn};

/// Jobs and mail that nodes no longer running held (an imipd killed, a machine lost) are
/// due again at once instead of when their leases run out: nodes of this machine whose
/// process is gone, and nodes anywhere silent for `dead_after_secs`.
pub fn release_dead(store: &dyn Store, me: &Node, machine: Option<&Machine>, dead_after_secs: i64) {
    let nodes = match store.nodes() {
        Ok(nodes) => nodes,
        Err(e) => {
            warn!("cannot read the database's node list: {e}");
            return;
        }
    };
    let dead: Vec<String> = nodes
        .into_iter()
        .filter(|n| n.node.id != me.id)
        .filter(|n| {
            let gone_here = match (machine, &n.node.process) {
                (Some(m), Some(process)) => {
                    m.holds(process) && m.process(n.node.pid).as_ref() != Some(process)
                }
                _ => false,
            };
            gone_here || n.silent_secs > dead_after_secs
        })
        .map(|n| n.node.id)
        .collect();
    // Called with none, it still releases leases of workers no node registered.
    match store.release_nodes(&dead) {
        Ok(0) => {}
        Ok(n) => info!(
            "{n} job(s) and mail of {} node(s) no longer running are due again",
            dead.len()
        ),
        Err(e) => warn!("cannot release the leases of nodes no longer running: {e}"),
    }
}

/// This machine's view of its processes, from /proc (Linux): a process is its boot, its
/// pid namespace, its pid and its start time, which no other process shares.
pub struct Machine {
    boot: String,
    namespace: String,
}

impl Machine {
    pub fn here() -> Option<Machine> {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
        Some(Machine {
            boot: boot.trim().to_string(),
            namespace: namespace.to_string_lossy().into_owned(),
        })
    }

    /// Process `pid` as this machine knows it now; `None` when there is no such process.
    pub fn process(&self, pid: u32) -> Option<String> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) may hold spaces and parentheses: field 22, the start
        // time, is the 20th after the last ')'.
        let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
        Some(format!("{}{pid}/{start}", self.prefix()))
    }

    /// Whether `process` was recorded on this machine, in this pid namespace.
    fn holds(&self, process: &str) -> bool {
        process.starts_with(&self.prefix())
    }

    fn prefix(&self) -> String {
        format!("{}/{}/", self.boot, self.namespace)
    }
}
