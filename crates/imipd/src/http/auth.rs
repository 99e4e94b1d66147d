//! HTTP Basic sign-in with the user's imipd password or one of their app passwords, one check for every endpoint that
//! needs a user (the push stream today; CalDAV and the web page use the same).
//!
//! A flood of wrong passwords must neither take the server down nor tell which addresses
//! exist, so in this order:
//! 1. an address or client (IP, or IPv6 /64) over its failure limit gets `429` with
//!    `Retry-After`, without a hash check ([`LoginLimits`]);
//! 2. at most [`Authenticator::hash_checks`] hashes are checked at once, on the blocking pool,
//!    each in working memory that is allocated once and reused; a request that waits more
//!    than [`HASH_QUEUE_WAIT`] for its turn gets `503`;
//! 3. an unknown address, or a user without a password, is checked against a dummy hash,
//!    so it costs what a wrong password costs; an app password is checked against its own
//!    hash only ([`StoredCredential`]), and its failures count in the same limits.
//!
//! A password that signed in within [`credential_cache::TTL`] is taken again without a hash
//! check (step 2), as long as the store still holds the hash it was checked against
//! ([`CredentialCache`]); the limits of step 1 still apply. Wrong passwords are never kept.

use super::credential_cache::{self, CredentialCache};
use super::login_limits::{LimitKey, LoginLimits};
use super::stored_credential::StoredCredential;
use super::{Body, json};
use base64::Engine;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use imipd_store::{HashMemory, Store};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::{info, warn};

/// Longest a sign-in waits for a free hash check.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);

pub struct Authenticator {
    store: Arc<dyn Store>,
    limits: Arc<dyn LoginLimits>,
    checks: Semaphore,
    hash_checks: usize,
    /// Working memory of the checks not running now; at most `hash_checks` of them.
    memory: Mutex<Vec<HashMemory>>,
    verified: CredentialCache,
}

/// Why a request is not signed in; [`Denied::response`] is what the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No usable `Authorization: Basic` header.
    NoCredentials,
    /// Wrong address or password (the two are not told apart).
    Wrong,
    /// Too many failures for the address or the client.
    Limited { retry_after: Duration },
    /// Every hash check was busy for [`HASH_QUEUE_WAIT`].
    Busy,
    /// The store could not be read.
    Unavailable,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, limits: Arc<dyn LoginLimits>, hash_checks: usize) -> Self {
        let hash_checks = hash_checks.max(1);
        Authenticator {
            store,
            limits,
            checks: Semaphore::new(hash_checks),
            hash_checks,
            memory: Mutex::new(Vec::new()),
            verified: CredentialCache::new(credential_cache::CAPACITY),
        }
    }

    /// Hash checks at once: half the CPUs, so mail delivery keeps the rest.
    pub fn default_hash_checks() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    pub fn hash_checks(&self) -> usize {
        self.hash_checks
    }

    /// The canonical user name the request's credentials sign in as.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        client: IpAddr,
    ) -> Result<String, Denied> {
        let (login, password) = basic_credentials(headers).ok_or(Denied::NoCredentials)?;
        self.sign_in(login, password, client).await
    }

    /// The canonical user name `login` and `password` sign in as (the web page's form).
    pub async fn sign_in(
        &self,
        login: String,
        password: String,
        client: IpAddr,
    ) -> Result<String, Denied> {
        let keys = [LimitKey::address(&login), LimitKey::client(client)];
        let now = now_ms();
        if let Some(retry_after) = keys
            .iter()
            .filter_map(|key| self.limits.retry_after(key, now))
            .max()
        {
            return Err(Denied::Limited { retry_after });
        }
        if let Some(user) = self.cached(&login, &password, now).await? {
            self.limits.forget(&keys[0]);
            return Ok(user);
        }
        let permit = tokio::time::timeout(HASH_QUEUE_WAIT, self.checks.acquire())
            .await
            .map_err(|_| Denied::Busy)?
            .map_err(|_| Denied::Busy)?;
        let mut memory = self.take_memory();
        let store = self.store.clone();
        let (checked_login, checked_password) = (login.clone(), password.clone());
        let checked = tokio::task::spawn_blocking(move || {
            let result = check(&*store, &mut memory, &checked_login, &checked_password);
            (result, memory)
        })
        .await;
        drop(permit);
        let (result, memory) = checked.map_err(|e| {
            warn!("password check failed: {e}");
            Denied::Unavailable
        })?;
        self.put_memory(memory);
        match result {
            Ok(Some((user, hash))) => {
                self.limits.forget(&keys[0]);
                self.verified
                    .insert(&login, &password, &user, &hash, now_ms());
                Ok(user)
            }
            Ok(None) => {
                let now = now_ms();
                for key in &keys {
                    self.limits.failed(key, now);
                }
                info!(%client, login = %printable(&keys[0]), "sign-in failed: wrong address or password");
                Err(Denied::Wrong)
            }
            Err(e) => {
                warn!("cannot check a sign-in: {e}");
                Err(Denied::Unavailable)
            }
        }
    }

    /// The user of a cached sign-in the store still backs: the login still names that user
    /// and the user's hash is still the one the password was checked against. One cheap
    /// read, so a change made by another process counts at once.
    async fn cached(
        &self,
        login: &str,
        password: &str,
        now: u64,
    ) -> Result<Option<String>, Denied> {
        let Some(hit) = self.verified.get(login, password, now) else {
            return Ok(None);
        };
        let store = self.store.clone();
        let (read_login, read_password) = (login.to_string(), password.to_string());
        let stored = tokio::task::spawn_blocking(move || {
            StoredCredential::lookup(&*store, &read_login, &read_password)
        })
        .await
        .map_err(|e| {
            warn!("password check failed: {e}");
            Denied::Unavailable
        })?
        .map_err(|e| {
            warn!("cannot check a sign-in: {e}");
            Denied::Unavailable
        })?;
        match stored.user {
            Some(user) if user == hit.user && self.verified.still_current(&hit, &stored.hash) => {
                Ok(Some(user))
            }
            _ => {
                self.verified.remove(&hit);
                Ok(None)
            }
        }
    }

    fn take_memory(&self) -> HashMemory {
        self.lock_memory().pop().unwrap_or_default()
    }

    fn put_memory(&self, memory: HashMemory) {
        let mut pool = self.lock_memory();
        if pool.len() < self.hash_checks {
            pool.push(memory);
        }
    }

    fn lock_memory(&self) -> std::sync::MutexGuard<'_, Vec<HashMemory>> {
        self.memory
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The user and the hash checked when the password matches; every path costs one hash check.
/// A sign-in with an app password is recorded as its last use.
fn check(
    store: &dyn Store,
    memory: &mut HashMemory,
    login: &str,
    password: &str,
) -> imipd_store::Result<Option<(String, String)>> {
    let stored = StoredCredential::lookup(store, login, password)?;
    let Some(user) = stored.verify(memory) else {
        return Ok(None);
    };
    if let Some(id) = &stored.app_password
        && let Err(e) = store.app_password_used(user, id, (now_ms() / 1000) as i64)
    {
        warn!(user, "cannot record the use of an app password: {e}");
    }
    Ok(Some((user.to_string(), stored.hash.clone())))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

/// The login for a log line: an attacker's choice, so control characters and length are cut.
fn printable(key: &LimitKey) -> String {
    match key {
        LimitKey::Address(login) => login
            .chars()
            .take(100)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect(),
        LimitKey::Client(ip) => ip.to_string(),
    }
}

impl Denied {
    pub fn response(&self) -> Response<Body> {
        match self {
            Denied::NoCredentials | Denied::Wrong => {
                let mut r = json(
                    StatusCode::UNAUTHORIZED,
                    "{\"error\":\"sign in with your imipd address and password or an app password (HTTP Basic)\"}\n"
                        .into(),
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"imipd\", charset=\"UTF-8\""),
                );
                r
            }
            Denied::Limited { retry_after } => {
                let secs = retry_after.as_secs_f64().ceil() as u64;
                with_retry_after(
                    json(
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "{{\"error\":\"too many failed sign-ins, try again in {secs} s\"}}\n"
                        ),
                    ),
                    secs,
                )
            }
            Denied::Busy => with_retry_after(
                json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "{\"error\":\"too many sign-ins at once, try again\"}\n".into(),
                ),
                1,
            ),
            Denied::Unavailable => json(
                StatusCode::SERVICE_UNAVAILABLE,
                "{\"error\":\"cannot check sign-ins now, try again later\"}\n".into(),
            ),
        }
    }
}

fn with_retry_after(mut response: Response<Body>, secs: u64) -> Response<Body> {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::http::login_limits::MemoryLimits;
    use imipd_store::{SqliteStore, hash_password};

    fn basic(login: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        headers
    }

    /// A store with bob@example.org (password `right`) and nopass@example.org.
    pub fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("imipd.db")).unwrap();
        store
            .create_user("bob@example.org", Some(&hash_password("right").unwrap()))
            .unwrap();
        store.create_user("nopass@example.org", None).unwrap();
        (dir, Arc::new(store))
    }

    #[tokio::test]
    async fn sign_ins() {
        let (_dir, store) = store();
        let auth = Authenticator::new(store, Arc::new(MemoryLimits::default()), 1);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        // (headers, expected)
        let cases: Vec<(HeaderMap, Result<&str, Denied>)> = vec![
            (basic("bob@example.org", "right"), Ok("bob@example.org")),
            (basic("bob@example.org", "wrong"), Err(Denied::Wrong)),
            (basic("nopass@example.org", ""), Err(Denied::Wrong)),
            (basic("nobody@example.org", "right"), Err(Denied::Wrong)),
            (HeaderMap::new(), Err(Denied::NoCredentials)),
        ];
        for (headers, expected) in cases {
            let got = auth.authenticate(&headers, client).await;
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                expected,
                "{headers:?}"
            );
        }
    }

    /// The real limits, with time standing still: the count below must not depend on how
    /// long sixty hash checks take on a busy machine (debt drains while they run).
    #[derive(Default)]
    struct StillTime(MemoryLimits);

    const STILL: u64 = 1_800_000_000_000;

    impl LoginLimits for StillTime {
        fn retry_after(&self, key: &LimitKey, _now_ms: u64) -> Option<Duration> {
            self.0.retry_after(key, STILL)
        }
        fn failed(&self, key: &LimitKey, _now_ms: u64) {
            self.0.failed(key, STILL)
        }
        fn forget(&self, key: &LimitKey) {
            self.0.forget(key)
        }
    }

    #[tokio::test]
    async fn failures_lock_the_address_and_then_the_client_without_hashing() {
        let (_dir, store) = store();
        let auth = Authenticator::new(store, Arc::new(StillTime::default()), 1);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10 {
            let got = auth
                .authenticate(&basic("bob@example.org", "wrong"), client)
                .await;
            assert_eq!(got, Err(Denied::Wrong));
        }
        // Even the right password waits now: the guesser cannot tell it was right.
        let got = auth
            .authenticate(&basic("bob@example.org", "right"), client)
            .await;
        assert!(matches!(got, Err(Denied::Limited { .. })), "{got:?}");
        // Other addresses from the same client still get their tries, until the client's
        // own limit.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let mut answers = Vec::new();
        for i in 0..45 {
            let login = format!("guess{i}@example.org");
            answers.push(auth.authenticate(&basic(&login, "x"), other).await);
        }
        let limited = answers
            .iter()
            .filter(|a| matches!(a, Err(Denied::Limited { .. })))
            .count();
        assert_eq!(limited, 0, "{answers:?}");
        for i in 45..60 {
            let login = format!("guess{i}@example.org");
            answers.push(auth.authenticate(&basic(&login, "x"), other).await);
        }
        let first_limited = answers
            .iter()
            .position(|a| matches!(a, Err(Denied::Limited { .. })));
        assert_eq!(first_limited, Some(50), "{answers:?}");
        // Memory for one check at a time, kept for the next.
        assert_eq!(auth.lock_memory().len(), 1);
    }

    #[tokio::test]
    async fn a_verified_password_signs_in_again_without_a_hash_check() {
        let (_dir, store) = store();
        let auth = Authenticator::new(store, Arc::new(MemoryLimits::default()), 1);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let bob = basic("bob@example.org", "right");
        assert_eq!(
            auth.authenticate(&bob, client).await.as_deref(),
            Ok("bob@example.org")
        );
        // With the only hash check taken, a sign-in that needed one could not finish.
        let _every_check = auth.checks.acquire().await.unwrap();
        for _ in 0..3 {
            assert_eq!(
                auth.authenticate(&bob, client).await.as_deref(),
                Ok("bob@example.org")
            );
        }
        assert_eq!(auth.verified.len(), 1);
    }

    #[tokio::test]
    async fn wrong_passwords_are_not_kept() {
        let (_dir, store) = store();
        let auth = Authenticator::new(store, Arc::new(MemoryLimits::default()), 1);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        // (login, password, expected), in order
        let cases = [
            ("bob@example.org", "wrong", Err(Denied::Wrong)),
            ("bob@example.org", "wrong", Err(Denied::Wrong)),
            ("nopass@example.org", "", Err(Denied::Wrong)),
            ("nobody@example.org", "right", Err(Denied::Wrong)),
            ("bob@example.org", "right", Ok("bob@example.org")),
            // A cached right password does not vouch for another one.
            ("bob@example.org", "wrong", Err(Denied::Wrong)),
            ("bob@example.org", "right ", Err(Denied::Wrong)),
        ];
        for (login, password, expected) in cases {
            let got = auth.authenticate(&basic(login, password), client).await;
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                expected,
                "{login} / {password:?}"
            );
        }
        assert_eq!(auth.verified.len(), 1);
    }

    #[tokio::test]
    async fn a_changed_password_or_a_deleted_user_ends_the_cached_sign_in() {
        let (_dir, store) = store();
        let auth = Authenticator::new(store.clone(), Arc::new(MemoryLimits::default()), 1);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let sign_in = |password: &'static str| {
            let auth = &auth;
            async move {
                auth.authenticate(&basic("bob@example.org", password), client)
                    .await
            }
        };
        assert_eq!(sign_in("right").await.as_deref(), Ok("bob@example.org"));
        store
            .set_password_hash("bob@example.org", Some(&hash_password("new").unwrap()))
            .unwrap();
        assert_eq!(sign_in("right").await.as_deref(), Err(&Denied::Wrong));
        assert_eq!(auth.verified.len(), 0);
        assert_eq!(sign_in("new").await.as_deref(), Ok("bob@example.org"));
        // Set again to the same password: a new salt, a new hash, so checked again.
        store
            .set_password_hash("bob@example.org", Some(&hash_password("new").unwrap()))
            .unwrap();
        let cached = auth.cached("bob@example.org", "new", now_ms()).await;
        assert_eq!(cached, Ok(None));
        assert_eq!(sign_in("new").await.as_deref(), Ok("bob@example.org"));
        store.delete_user("bob@example.org").unwrap();
        assert_eq!(sign_in("new").await.as_deref(), Err(&Denied::Wrong));
        assert_eq!(auth.verified.len(), 0);
    }
}
