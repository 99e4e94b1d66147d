//! Calendar change notifications: after a change is committed, the worker announces it,
//! so connected web pages learn it at once (SSE / WebSocket) and CalDAV knows its sync
//! token (the store's change counter) moved.

pub use imipd_scheduling::CalendarChanged;
use tokio::sync::broadcast;

/// A channel for change events. Listeners that fall behind lose the oldest events (and
/// see `RecvError::Lagged`): they should then reload, as after a reconnect.
pub fn channel() -> broadcast::Sender<CalendarChanged> {
    broadcast::channel(1024).0
}
