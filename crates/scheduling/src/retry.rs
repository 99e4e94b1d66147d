//! A user's action committed against a moving calendar: planned on what is stored, and
//! planned again when the event changed between the read and the write.

use imipd_store::{Batch, Committed, Error, Store};

/// Plans before giving up: a conflict means someone else wrote the event in the moment
/// between this action's read and its write, which rarely happens twice in a row.
pub const ATTEMPTS: u32 = 3;

/// Commits what `plan` makes of the calendar as stored now; on a conflict, plans again on
/// the new version, up to [`ATTEMPTS`] times, then fails with `gave_up()`.
pub fn commit<T, E: From<Error>>(
    store: &dyn Store,
    mut plan: impl FnMut() -> Result<(Batch, T), E>,
    gave_up: impl FnOnce() -> E,
) -> Result<(Committed, T), E> {
    for _ in 0..ATTEMPTS {
        let (batch, planned) = plan()?;
        match store.commit(&batch) {
            Ok(committed) => return Ok((committed, planned)),
            Err(Error::Conflict(conflict)) => {
                tracing::debug!("{conflict}; planning again");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(gave_up())
}
