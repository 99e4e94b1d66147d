//! `GET /web/live`: the signed-in user's calendar changes as Server-Sent Events, read from
//! the listener's copy of the store's change feed; the page's script fetches itself again
//! on each one.

use crate::App;
use crate::session::Signed;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub async fn stream(
    State(app): State<App>,
    signed: Signed,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.live.subscribe();
    let changes = stream::unfold((receiver, signed.user), |(mut rx, user)| async move {
        loop {
            match rx.recv().await {
                Ok(entry) if entry.user == user => {
                    let event = Event::default().event("change").data(entry.seq.to_string());
                    return Some((Ok(event), (rx, user)));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().event("change").data("0")), (rx, user)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(changes).keep_alive(KeepAlive::new().interval(Duration::from_secs(25)))
}
