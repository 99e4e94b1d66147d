//! `GET /web/live`: the signed-in user's calendar changes and finished jobs as Server-Sent
//! Events, read from the listener's copies of the store's change feed and job feed; the
//! page's script fetches itself again on each one.

use crate::session::Signed;
use crate::{App, Listening};
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
    let listening = app.live.subscribe();
    let changes = stream::unfold((listening, signed.user), |(mut l, user)| async move {
        loop {
            let Listening { changes, jobs } = &mut l;
            // Whose change, and where in its feed.
            let got = tokio::select! {
                c = changes.recv() => c.map(|e| (e.user.clone(), e.seq.to_string())),
                j = jobs.recv() => j.map(|n| (n.user.clone(), format!("job {}", n.job_id))),
            };
            let data = match got {
                Ok((who, at)) if who == user => at,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => "0".to_string(),
                Err(RecvError::Closed) => return None,
            };
            let event = Event::default().event("change").data(data);
            return Some((Ok(event), (l, user)));
        }
    });
    Sse::new(changes).keep_alive(KeepAlive::new().interval(Duration::from_secs(25)))
}
