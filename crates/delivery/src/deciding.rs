//! Deliveries to one user decide and hold their calendar jobs one at a time. The sender's
//! hourly limit counts held jobs, so two deliveries deciding at once would each see room
//! for the last allowed one, and both mails would say `added`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

/// Users share one of this many locks: deliveries to different users rarely wait.
const SHARDS: usize = 16;

#[derive(Default)]
pub struct Deciding([Mutex<()>; SHARDS]);

impl Deciding {
    /// Held from the recipient's first decision until its jobs are held.
    pub fn lock(&self, user: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        user.hash(&mut hasher);
        let shard = &self.0[hasher.finish() as usize % SHARDS];
        // A panic while deciding is caught and the mail delivered: the lock stays usable.
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
