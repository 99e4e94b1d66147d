//! App passwords in SQLite.

use super::{SqliteStore, now, users};
use crate::{AppPassword, AppPasswords, Error, Result};
use rusqlite::{ErrorCode, OptionalExtension, params};

impl AppPasswords for SqliteStore {
    fn insert_app_password(&self, user: &str, label: &str, id: &str, hash: &str) -> Result<()> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            let inserted = tx.execute(
                "INSERT INTO app_passwords (user, label, id, hash, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, label, id, hash, now()],
            );
            match inserted {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::ConstraintViolation =>
                {
                    Err(Error::AppPasswordExists {
                        user: name,
                        label: label.into(),
                    })
                }
                other => other.map(drop).map_err(Into::into),
            }
        })
    }

    fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>> {
        self.with(|conn| {
            let name = users::require(conn, user)?;
            Ok(conn
                .prepare_cached(
                    "SELECT label, created, last_used FROM app_passwords WHERE user = ?1 ORDER BY label",
                )?
                .query_map([name], |r| {
                    Ok(AppPassword {
                        label: r.get(0)?,
                        created: r.get(1)?,
                        last_used: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    fn app_password_hash(&self, user: &str, id: &str) -> Result<Option<String>> {
        self.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT hash FROM app_passwords WHERE user = ?1 AND id = ?2")?
                .query_row(params![user, id], |r| r.get(0))
                .optional()?)
        })
    }

    fn app_password_used(&self, user: &str, id: &str, at: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE app_passwords SET last_used = ?3 WHERE user = ?1 AND id = ?2",
                params![user, id, at],
            )?;
            Ok(())
        })
    }

    fn delete_app_password(&self, user: &str, label: &str) -> Result<bool> {
        self.write(|tx| {
            let name = users::require(tx, user)?;
            Ok(tx.execute(
                "DELETE FROM app_passwords WHERE user = ?1 AND label = ?2",
                params![name, label],
            )? > 0)
        })
    }
}
