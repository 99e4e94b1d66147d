//! A CalDAV client's write: the one place where a client's PUT or DELETE becomes a
//! calendar change. The caller has checked the object and turned the request's
//! conditional headers into the write's [`imipd_store::Expect`]; the store enforces it
//! atomically, so two clients (or a client and the mail path) never overwrite a version
//! they have not seen.

use imipd_store::{Batch, ObjectWrite, Store, Written};

/// Commits one client write; [`imipd_store::Error::Conflict`] when its expectation no
/// longer holds (the client gets 412, or 409 for a UID already in use).
pub fn client_write(
    store: &dyn Store,
    user: &str,
    write: ObjectWrite,
) -> imipd_store::Result<Written> {
    let batch = Batch {
        user: user.to_string(),
        writes: vec![write],
        ..Batch::default()
    };
    let mut committed = store.commit(&batch)?;
    Ok(committed.objects.remove(0))
}
