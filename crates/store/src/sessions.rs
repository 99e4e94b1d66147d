//! Web sessions, kept in the database so that every node behind one address knows them.
//! The store holds only a digest of each session's secret: a copy of the database does not
//! sign anyone in.

use crate::Result;

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    /// The token every form of this session carries (CSRF).
    pub csrf: String,
    pub created: i64,
    pub expires: i64,
}

pub trait Sessions {
    /// Stores a session under the digest of its secret.
    fn create_session(&self, digest: &str, session: &Session) -> Result<()>;
    /// The session with this digest, if it has not expired at `now`.
    fn session(&self, digest: &str, now: i64) -> Result<Option<Session>>;
    /// Ends a session (sign-out); `false` when there was none.
    fn delete_session(&self, digest: &str) -> Result<bool>;
}
