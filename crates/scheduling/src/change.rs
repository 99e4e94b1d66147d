//! What a committed write announces: the calendar object that changed, for push (SSE /
//! WebSocket) and, later, CalDAV sync.

/// One calendar object changed (added, updated or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarChanged {
    pub user: String,
    pub calendar_id: String,
    pub uid: String,
}
