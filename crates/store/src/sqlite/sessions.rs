use super::SqliteStore;
use crate::{Result, Session, Sessions, normalize_address};
use rusqlite::{OptionalExtension, params};

impl Sessions for SqliteStore {
    fn create_session(&self, digest: &str, session: &Session) -> Result<()> {
        self.write(|tx| {
            // Expired sessions go when new ones come: the table stays the size of its use.
            tx.execute(
                "DELETE FROM web_sessions WHERE expires <= ?1",
                [session.created],
            )?;
            tx.execute(
                "INSERT INTO web_sessions (digest, user, csrf, created, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    digest,
                    normalize_address(&session.user),
                    session.csrf,
                    session.created,
                    session.expires
                ],
            )?;
            Ok(())
        })
    }

    fn session(&self, digest: &str, now: i64) -> Result<Option<Session>> {
        self.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT user, csrf, created, expires FROM web_sessions
                     WHERE digest = ?1 AND expires > ?2",
                )?
                .query_row(params![digest, now], |r| {
                    Ok(Session {
                        user: r.get(0)?,
                        csrf: r.get(1)?,
                        created: r.get(2)?,
                        expires: r.get(3)?,
                    })
                })
                .optional()?)
        })
    }

    fn delete_session(&self, digest: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM web_sessions WHERE digest = ?1", [digest])? > 0))
    }
}
