//! What a user's action changed, for the one who asked (the command line prints it). Push
//! and sync learn of changes from the store's change feed, whoever wrote them.

/// One calendar object changed (added, updated or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarChanged {
    pub user: String,
    pub calendar_id: String,
    pub uid: String,
}
