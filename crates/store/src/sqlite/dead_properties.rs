//! Dead properties in SQLite, one row per collection and property.

use super::{SqliteStore, users};
use crate::{DeadChange, DeadProperties, DeadProperty, PropertyOwner, Result};
use rusqlite::{Connection, params};

/// Deletes a collection's dead properties with it, so a collection made again under the
/// same id starts without them.
pub fn forget(conn: &Connection, user: &str, owner: &PropertyOwner<'_>) -> Result<()> {
    conn.execute(
        "DELETE FROM dead_properties WHERE user = ?1 AND collection = ?2",
        params![user, owner.key()],
    )?;
    Ok(())
}

impl DeadProperties for SqliteStore {
    fn dead_properties(&self, user: &str, owner: &PropertyOwner<'_>) -> Result<Vec<DeadProperty>> {
        self.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT namespace, name, xml FROM dead_properties
                     WHERE user = ?1 AND collection = ?2 ORDER BY namespace, name",
                )?
                .query_map(params![user, owner.key()], |r| {
                    Ok(DeadProperty {
                        namespace: r.get(0)?,
                        name: r.get(1)?,
                        xml: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    fn change_dead_properties(
        &self,
        user: &str,
        owner: &PropertyOwner<'_>,
        changes: &[DeadChange],
    ) -> Result<()> {
        let collection = owner.key();
        self.write(|tx| {
            let user = users::require(tx, user)?;
            for c in changes {
                match &c.xml {
                    Some(xml) => tx.execute(
                        "INSERT INTO dead_properties (user, collection, namespace, name, xml)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (user, collection, namespace, name) DO UPDATE SET xml = ?5",
                        params![user, collection, c.namespace, c.name, xml],
                    )?,
                    None => tx.execute(
                        "DELETE FROM dead_properties
                         WHERE user = ?1 AND collection = ?2 AND namespace = ?3 AND name = ?4",
                        params![user, collection, c.namespace, c.name],
                    )?,
                };
            }
            Ok(())
        })
    }
}
