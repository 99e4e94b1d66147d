//! Queue ids: the name a message gets at the end of DATA, returned in every recipient's
//! reply and carried by every log line about the message, as Postfix does.
//!
//! An id is 18 characters of Crockford base32 over 90 bits: 48 bits of Unix milliseconds,
//! then 42 random bits. Ids sort by time as text; two nodes (or a restarted process) collide
//! only if they draw the same 42 bits in the same millisecond. Within one process ids also
//! strictly increase: an id drawn in the same millisecond as the previous one, or after the
//! clock stepped back, is the previous one plus one.

use std::fmt;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const LEN: usize = 18;
const RANDOM_BITS: u32 = 42;
const TIME_BITS: u32 = 48;
/// Crockford's alphabet: no I, L, O or U, so an id read aloud or retyped survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A queue id, e.g. `06H37AWPKZ5D0CR4JP`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId([u8; LEN]);

static LAST: Mutex<u128> = Mutex::new(0);

impl QueueId {
    /// A new id, later than every id this process made before.
    pub fn generate() -> QueueId {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            & ((1 << TIME_BITS) - 1);
        let drawn = (millis << RANDOM_BITS) | u128::from(random_u64() & ((1 << RANDOM_BITS) - 1));
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let value = if drawn > *last { drawn } else { *last + 1 };
        *last = value;
        QueueId::from_value(value)
    }

    fn from_value(value: u128) -> QueueId {
        let mut text = [0u8; LEN];
        for (i, c) in text.iter_mut().enumerate() {
            let shift = 5 * (LEN - 1 - i);
            *c = ALPHABET[((value >> shift) & 31) as usize];
        }
        QueueId(text)
    }

    pub fn as_str(&self) -> &str {
        // Only ALPHABET bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QueueId({})", self.as_str())
    }
}

/// Eight bytes from the kernel's random source. Should it fail (it does not on Linux 3.17+),
/// the in-process counter still keeps ids unique here, and the time part keeps them apart
/// from other nodes' ids in all but the same millisecond.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom(2) writes at most `bytes.len()` bytes into the buffer it is given.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != bytes.len() as isize {
        return 0;
    }
    u64::from_ne_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_short_base32_and_increase() {
        let ids: Vec<QueueId> = (0..10_000).map(|_| QueueId::generate()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{:?} then {:?}", pair[0], pair[1]);
            assert!(pair[0].as_str() < pair[1].as_str(), "text order {pair:?}");
        }
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            assert_eq!(id.as_str().len(), LEN, "{id:?}");
            assert!(id.as_str().bytes().all(|b| ALPHABET.contains(&b)), "{id:?}");
        }
    }

    #[test]
    fn encoding() {
        // (value, text)
        let cases: &[(u128, &str)] = &[
            (0, "000000000000000000"),
            (31, "00000000000000000Z"),
            (32, "000000000000000010"),
            ((1 << 90) - 1, "ZZZZZZZZZZZZZZZZZZ"),
        ];
        for &(value, text) in cases {
            assert_eq!(QueueId::from_value(value).as_str(), text, "value {value}");
        }
    }

    #[test]
    fn the_time_comes_first() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let id = QueueId::generate();
        let decoded = id.as_str().bytes().fold(0u128, |acc, b| {
            (acc << 5) | ALPHABET.iter().position(|&a| a == b).unwrap() as u128
        });
        let millis = decoded >> RANDOM_BITS;
        assert!(
            millis >= before && millis < before + 60_000,
            "{id:?}: {millis} vs {before}"
        );
    }
}
