//! How many failed sign-ins an address or a client may have, as a generic cell rate
//! (GCRA): each failure adds one interval of debt to its key, debt drains in real time, and
//! a key whose debt exceeds `burst - 1` intervals may not try again until it drains.
//!
//! Behind the [`LoginLimits`] trait so that several nodes can share one state later (a table
//! in the database, or Redis: one number per key, the time its debt is paid off); today's
//! implementation, [`MemoryLimits`], keeps it in this process. Times are Unix milliseconds,
//! not `Instant`s, so that they mean the same on every node.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// The login as given, ASCII lower-cased.
    Address(String),
    /// The client: an IPv4 address, or an IPv6 address's /64 (one subscriber's network).
    Client(IpAddr),
}

impl LimitKey {
    pub fn address(login: &str) -> LimitKey {
        LimitKey::Address(login.trim().to_ascii_lowercase())
    }

    pub fn client(ip: IpAddr) -> LimitKey {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            },
            v4 => v4,
        };
        LimitKey::Client(ip)
    }

    fn policy(&self) -> Policy {
        match self {
            // Ten guesses at once, then one a minute: a user who mistypes is not locked out,
            // a guesser gets 1,440 a day.
            LimitKey::Address(_) => Policy {
                burst: 10,
                interval_ms: 60_000,
            },
            // Several users behind one NAT may mistype at once; a guesser gets 10 a minute.
            LimitKey::Client(_) => Policy {
                burst: 50,
                interval_ms: 6_000,
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Policy {
    burst: u64,
    interval_ms: u64,
}

impl Policy {
    /// The debt a key may have and still try.
    fn allowance_ms(self) -> u64 {
        (self.burst - 1) * self.interval_ms
    }
}

/// Failed sign-ins per key.
pub trait LoginLimits: Send + Sync {
    /// How long `key` must wait before its next attempt, if it must.
    fn retry_after(&self, key: &LimitKey, now_ms: u64) -> Option<Duration>;
    /// Counts a failed attempt against `key`.
    fn failed(&self, key: &LimitKey, now_ms: u64);
    /// Forgets `key`'s failures (its owner signed in).
    fn forget(&self, key: &LimitKey);
}

/// Keys tracked at most; past this, paid-off keys and then those with the least debt go,
/// so an attacker spraying addresses cannot grow the map without bound.
const MAX_KEYS: usize = 100_000;

/// [`LoginLimits`] in this process's memory.
#[derive(Default)]
pub struct MemoryLimits {
    /// When each key's debt is paid off (Unix ms).
    paid_off: Mutex<HashMap<LimitKey, u64>>,
}

impl LoginLimits for MemoryLimits {
    fn retry_after(&self, key: &LimitKey, now_ms: u64) -> Option<Duration> {
        let paid_off = *self.lock().get(key)?;
        let debt = paid_off.saturating_sub(now_ms);
        let over = debt.checked_sub(key.policy().allowance_ms())?;
        (over > 0).then(|| Duration::from_millis(over))
    }

    fn failed(&self, key: &LimitKey, now_ms: u64) {
        let mut map = self.lock();
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            evict(&mut map, now_ms);
        }
        let paid_off = map.entry(key.clone()).or_insert(now_ms);
        *paid_off = (*paid_off).max(now_ms) + key.policy().interval_ms;
    }

    fn forget(&self, key: &LimitKey) {
        self.lock().remove(key);
    }
}

impl MemoryLimits {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LimitKey, u64>> {
        self.paid_off
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Drops paid-off keys; if that is not a tenth of the map, also the least indebted ones
/// down to nine tenths, so eviction runs once per `MAX_KEYS / 10` new keys at most.
fn evict(map: &mut HashMap<LimitKey, u64>, now_ms: u64) {
    map.retain(|_, paid_off| *paid_off > now_ms);
    let target = MAX_KEYS - MAX_KEYS / 10;
    if map.len() > target {
        let mut debts: Vec<u64> = map.values().copied().collect();
        let cut = map.len() - target;
        debts.select_nth_unstable(cut);
        let threshold = debts[cut];
        map.retain(|_, paid_off| *paid_off >= threshold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_clients_are_limited_after_their_burst() {
        let address = LimitKey::address("Bob@Example.org");
        let client = LimitKey::client("192.0.2.7".parse().unwrap());
        // (key, failures at t=0, time asked, expected wait)
        let cases: Vec<(&LimitKey, u64, u64, Option<Duration>)> = vec![
            (&address, 9, 0, None),
            (&address, 10, 0, Some(Duration::from_secs(60))),
            (&address, 10, 30_000, Some(Duration::from_secs(30))),
            (&address, 10, 60_000, None),
            (&address, 11, 60_000, Some(Duration::from_secs(60))),
            (&client, 49, 0, None),
            (&client, 50, 0, Some(Duration::from_secs(6))),
            (&client, 50, 6_000, None),
        ];
        for (key, failures, at, expected) in cases {
            let limits = MemoryLimits::default();
            for _ in 0..failures {
                limits.failed(key, 0);
            }
            assert_eq!(
                limits.retry_after(key, at),
                expected,
                "{key:?} after {failures} failures, asked at {at} ms"
            );
        }
    }

    #[test]
    fn keys_are_normalised_and_independent() {
        let limits = MemoryLimits::default();
        for _ in 0..10 {
            limits.failed(&LimitKey::address("bob@example.org"), 0);
        }
        let locked = limits.retry_after(&LimitKey::address(" BOB@example.ORG"), 0);
        assert!(locked.is_some(), "ASCII case does not make a new key");
        assert_eq!(
            limits.retry_after(&LimitKey::address("carol@example.org"), 0),
            None
        );
        limits.forget(&LimitKey::address("bob@example.org"));
        assert_eq!(
            limits.retry_after(&LimitKey::address("bob@example.org"), 0),
            None
        );
        // (address, the key it counts under)
        let cases = [
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff::1", "2001:db8:1:2::"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("192.0.2.1", "192.0.2.1"),
        ];
        for (ip, expected) in cases {
            assert_eq!(
                LimitKey::client(ip.parse().unwrap()),
                LimitKey::Client(expected.parse().unwrap()),
                "{ip}"
            );
        }
    }

    #[test]
    fn the_map_stays_bounded() {
        let limits = MemoryLimits::default();
        for i in 0..MAX_KEYS as u64 + 10 {
            limits.failed(&LimitKey::address(&format!("u{i}@example.org")), i);
        }
        let len = limits.lock().len();
        assert!(len <= MAX_KEYS, "{len} keys");
        // The newest, most indebted keys are kept.
        let newest = LimitKey::address(&format!("u{}@example.org", MAX_KEYS + 9));
        assert!(limits.lock().contains_key(&newest));
    }
}
