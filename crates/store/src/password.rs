//! Password hashes: Argon2id in PHC string format.
//!
//! Checking a hash with argon2's default parameters needs 19 MiB of working memory. Allocated
//! per check on many threads, that memory stays with the allocator's per-thread arenas: a
//! flood of wrong passwords once left a server at 7 GB. [`verify_password_in`] instead works
//! in a [`HashMemory`] the caller keeps and hands to the next check, so the memory is
//! allocated once per concurrent check and bounded by how many checks run at once.

use crate::{Error, Result};
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::OnceLock;

/// The most memory a stored hash may ask for (KiB): a hash with a larger `m` is refused
/// instead of making each check allocate it.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

/// An Argon2id hash in PHC string format, with argon2's default (OWASP) parameters.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

/// Working memory for [`verify_password_in`], grown to the largest hash checked with it.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.0.len() * Block::SIZE
    }
}

/// Whether `password` matches `hash` (false for a hash that cannot be read), working in
/// `memory`, which the next check can use again.
pub fn verify_password_in(memory: &mut HashMemory, hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_MEMORY_KIB {
        return false;
    }
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.0.len() < blocks {
        memory.0.resize(blocks, Block::default());
    }
    let mut computed = [0u8; Output::MAX_LENGTH];
    let computed = &mut computed[..expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, computed, &mut memory.0[..])
        .is_ok()
        // Output's comparison takes the same time wherever the bytes differ.
        && Output::new(computed).is_ok_and(|computed| computed == expected)
}

/// A hash of a random password with the parameters of [`hash_password`]: checking a login
/// for an unknown address (or one without a password) against it costs what a wrong
/// password costs for a real user, so the answer's timing does not tell which exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        // Hashing with default parameters and a fresh salt cannot fail.
        hash_password(random.as_str()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash_password("secret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        // (hash, password, matches)
        let other_params = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(1024, 3, 2, Some(16)).unwrap(),
        )
        .hash_password(b"old", &SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap())
        .unwrap()
        .to_string();
        let huge = h.replace("m=19456", &format!("m={}", MAX_MEMORY_KIB + 1));
        let cases: &[(&str, &str, bool)] = &[
            (&h, "secret", true),
            (&h, "Secret", false),
            (&h, "", false),
            ("garbage", "secret", false),
            ("", "", false),
            (&other_params, "old", true),
            (&other_params, "new", false),
            (&huge, "secret", false),
            (dummy_hash(), "", false),
        ];
        let mut memory = HashMemory::new();
        for &(hash, password, matches) in cases {
            assert_eq!(
                verify_password_in(&mut memory, hash, password),
                matches,
                "hash {hash:?}, password {password:?}"
            );
            assert_eq!(
                verify_password_in(&mut HashMemory::new(), hash, password),
                matches,
                "fresh memory, {hash:?}"
            );
        }
        assert_eq!(
            memory.size(),
            19456 * 1024,
            "the memory grows to the largest hash checked"
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = PasswordHash::new(dummy_hash()).unwrap();
        let h = hash_password("x").unwrap();
        let user = PasswordHash::new(&h).unwrap();
        assert_eq!(real.algorithm, user.algorithm);
        assert_eq!(real.params, user.params);
    }
}
