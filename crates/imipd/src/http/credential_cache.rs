//! Sign-ins verified recently, so a calendar app that sends its password with every request
//! costs one Argon2 check per [`TTL`] instead of one per request.
//!
//! Neither a password nor a stored hash is kept. An entry is found by an HMAC-SHA256, under a
//! key drawn at start, of the login and password, and holds the user it signed in as and a
//! digest of the stored hash the password was checked against. The caller accepts an entry
//! only while the store still gives the login that user and that hash, so a password changed
//! or a user deleted by another process (`imipd user passwd`) ends it at the next request.
//! For an app password the hash is that app password's own, so revoking it
//! (`imipd user app-password revoke`) ends its entries the same way.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a verified password is taken without another hash check.
pub const TTL: Duration = Duration::from_secs(5 * 60);

/// Entries kept at most; past it the one that expires first makes room.
pub const CAPACITY: usize = 10_000;

type Digest = [u8; 32];

pub struct CredentialCache {
    /// `None` when the kernel gave no random key: then nothing is cached.
    key: Option<[u8; 32]>,
    capacity: usize,
    entries: Mutex<HashMap<Digest, Entry>>,
}

struct Entry {
    user: String,
    hash: Digest,
    expires_ms: u64,
}

/// A live entry for a login and password, still to be held against the store.
#[derive(Debug)]
pub struct Hit {
    slot: Digest,
    pub user: String,
    hash: Digest,
}

impl CredentialCache {
    pub fn new(capacity: usize) -> Self {
        CredentialCache {
            key: random_key(),
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for this login and password, if one is live at `now_ms`.
    pub fn get(&self, login: &str, password: &str, now_ms: u64) -> Option<Hit> {
        let slot = self.slot(login, password)?;
        let mut entries = self.lock();
        match entries.get(&slot) {
            Some(entry) if entry.expires_ms > now_ms => Some(Hit {
                slot,
                user: entry.user.clone(),
                hash: entry.hash,
            }),
            Some(_) => {
                entries.remove(&slot);
                None
            }
            None => None,
        }
    }

    /// Whether `hash`, the login's stored hash now, is the one the hit was verified against.
    pub fn still_current(&self, hit: &Hit, hash: &str) -> bool {
        self.hash_digest(hash) == Some(hit.hash)
    }

    /// Drops a hit the store no longer backs.
    pub fn remove(&self, hit: &Hit) {
        self.lock().remove(&hit.slot);
    }

    /// Records that `password` signed `login` in as `user`, checked against `hash`.
    pub fn insert(&self, login: &str, password: &str, user: &str, hash: &str, now_ms: u64) {
        let (Some(slot), Some(hash)) = (self.slot(login, password), self.hash_digest(hash)) else {
            return;
        };
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&slot) {
            entries.retain(|_, e| e.expires_ms > now_ms);
            if entries.len() >= self.capacity {
                let first = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires_ms)
                    .map(|(slot, _)| *slot);
                if let Some(first) = first {
                    entries.remove(&first);
                }
            }
        }
        entries.insert(
            slot,
            Entry {
                user: user.to_string(),
                hash,
                expires_ms: now_ms.saturating_add(TTL.as_millis() as u64),
            },
        );
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The login is length-prefixed so `a` + `b:c` and `a:b` + `c` differ.
    fn slot(&self, login: &str, password: &str) -> Option<Digest> {
        let mut mac = self.mac(b'c')?;
        mac.update(&(login.len() as u64).to_be_bytes());
        mac.update(login.as_bytes());
        mac.update(password.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    fn hash_digest(&self, hash: &str) -> Option<Digest> {
        let mut mac = self.mac(b'h')?;
        mac.update(hash.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    /// A MAC under the process key, its first byte telling what it is a digest of.
    fn mac(&self, domain: u8) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.as_ref()?).ok()?;
        mac.update(&[domain]);
        Some(mac)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Digest, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// 32 bytes from the kernel's random source (getrandom(2) does not fail for so few on Linux
/// 3.17+; should it, the cache stays off rather than run under a guessable key).
fn random_key() -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    // SAFETY: getrandom(2) writes at most `key.len()` bytes into the buffer it is given.
    let got = unsafe { libc::getrandom(key.as_mut_ptr().cast(), key.len(), 0) };
    (got == key.len() as isize).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL_MS: u64 = TTL.as_millis() as u64;

    #[test]
    fn an_entry_lives_for_its_ttl_and_only_for_its_password() {
        let cache = CredentialCache::new(CAPACITY);
        cache.insert("BOB@example.org", "right", "bob@example.org", "$h1", 1_000);
        let hit = cache.get("BOB@example.org", "right", 1_000 + TTL_MS - 1);
        assert_eq!(
            hit.as_ref().map(|h| h.user.as_str()),
            Some("bob@example.org")
        );
        let hit = hit.unwrap();
        assert!(cache.still_current(&hit, "$h1"));
        assert!(!cache.still_current(&hit, "$h2"));
        // (login, password, when) that must not find it
        let misses = [
            ("BOB@example.org", "wrong", 1_000),
            ("BOB@example.org", "right ", 1_000),
            ("bob@example.org", "right", 1_000),
            ("BOB@example.org:right", "", 1_000),
            ("BOB@example.org", "right", 1_000 + TTL_MS),
        ];
        for (login, password, now) in misses {
            assert!(
                cache.get(login, password, now).is_none(),
                "{login:?} / {password:?} at {now}"
            );
        }
        // The expired entry was dropped on the way.
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_then_the_one_expiring_first() {
        let cache = CredentialCache::new(2);
        cache.insert("a", "p", "a", "$h", 0);
        cache.insert("b", "p", "b", "$h", 10);
        cache.insert("c", "p", "c", "$h", 20);
        let live = |now| {
            ["a", "b", "c"]
                .into_iter()
                .filter(|login| cache.get(login, "p", now).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(live(20), ["b", "c"]);
        // At TTL + 15, b has expired and makes room without evicting c.
        cache.insert("d", "p", "d", "$h", TTL_MS + 15);
        assert_eq!(live(TTL_MS + 15), ["c"]);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_removed_hit_is_gone() {
        let cache = CredentialCache::new(CAPACITY);
        cache.insert("a", "p", "a", "$h", 0);
        let hit = cache.get("a", "p", 0).unwrap();
        cache.remove(&hit);
        assert!(cache.get("a", "p", 0).is_none());
    }
}
