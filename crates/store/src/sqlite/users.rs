use super::now;
use crate::{Error, Result, User, canonical_address, normalize_address};
use rusqlite::{Connection, OptionalExtension, params};

pub fn create(tx: &rusqlite::Transaction<'_>, email: &str, hash: Option<&str>) -> Result<User> {
    let name = canonical_address(email).ok_or_else(|| Error::InvalidAddress(email.into()))?;
    if normalize_address(email) != name {
        return Err(Error::InvalidAddress(format!(
            "{email} (a user's primary address cannot carry a +tag)"
        )));
    }
    claim_address(tx, &name)?;
    let created = now();
    tx.execute(
        "INSERT INTO users (name, password_hash, created) VALUES (?1, ?2, ?3)",
        params![name, hash, created],
    )?;
    tx.execute(
        "INSERT INTO addresses (address, user, is_primary) VALUES (?1, ?1, 1)",
        params![name],
    )?;
    Ok(User {
        name,
        aliases: Vec::new(),
        has_password: hash.is_some(),
        created,
    })
}

/// Fails with a message naming the owner when `address` is already someone's.
pub fn claim_address(conn: &Connection, address: &str) -> Result<()> {
    let owner: Option<String> = conn
        .query_row(
            "SELECT user FROM addresses WHERE address = ?1",
            [address],
            |r| r.get(0),
        )
        .optional()?;
    match owner {
        Some(owner) => Err(Error::AddressTaken {
            address: address.into(),
            owner,
        }),
        None => Ok(()),
    }
}

pub fn get(conn: &Connection, user: &str) -> Result<Option<User>> {
    let row = conn
        .query_row(
            "SELECT name, password_hash IS NOT NULL, created FROM users WHERE name = ?1",
            [normalize_address(user)],
            |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((name, has_password, created)) = row else {
        return Ok(None);
    };
    let aliases = conn
        .prepare_cached(
            "SELECT address FROM addresses WHERE user = ?1 AND is_primary = 0 ORDER BY address",
        )?
        .query_map([&name], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some(User {
        name,
        aliases,
        has_password,
        created,
    }))
}

/// The canonical user name, or `NoSuchUser`.
pub fn require(conn: &Connection, user: &str) -> Result<String> {
    let name = normalize_address(user);
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
        [&name],
        |r| r.get(0),
    )?;
    if exists {
        Ok(name)
    } else {
        Err(Error::NoSuchUser(user.into()))
    }
}

pub fn resolve(conn: &Connection, address: &str) -> Result<Option<String>> {
    let exact = normalize_address(address);
    let mut stmt = conn.prepare_cached("SELECT user FROM addresses WHERE address = ?1")?;
    if let Some(user) = stmt.query_row([&exact], |r| r.get(0)).optional()? {
        return Ok(Some(user));
    }
    match canonical_address(address) {
        Some(base) if base != exact => Ok(stmt.query_row([&base], |r| r.get(0)).optional()?),
        _ => Ok(None),
    }
}
