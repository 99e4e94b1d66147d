//! `GET /events`: a Server-Sent Events stream of the signed-in user's calendar changes, so
//! an open page refreshes the moment the update stage writes. Signed in with HTTP Basic
//! (see [`super::auth`]).

use super::Body;
use super::auth::Authenticator;
use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, header};
use imipd_worker::CalendarChanged;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// A comment line this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);

pub async fn stream(
    req: &Request<Incoming>,
    peer: SocketAddr,
    auth: &Authenticator,
    events: &broadcast::Sender<CalendarChanged>,
) -> Response<Body> {
    // Subscribe before answering, so no change between the two is missed.
    let receiver = events.subscribe();
    let user = match auth.authenticate(req.headers(), peer.ip()).await {
        Ok(user) => user,
        Err(denied) => return denied.response(),
    };
    let first = Frame::data(Bytes::from(format!(
        ": changes to the calendars of {user}\n\n"
    )));
    let changes = stream::unfold((receiver, user), |(mut rx, user)| async move {
        loop {
            let next = tokio::time::timeout(KEEPALIVE, rx.recv()).await;
            let text = match next {
                Err(_) => ": keepalive\n\n".to_string(),
                Ok(Ok(change)) if change.user == user => format!(
                    "event: calendar\ndata: {}\n\n",
                    serde_json::json!({"calendar": change.calendar_id, "uid": change.uid})
                ),
                Ok(Ok(_)) => continue,
                // Too slow to keep up: tell the page to reload everything.
                Ok(Err(RecvError::Lagged(_))) => "event: resync\ndata: {}\n\n".to_string(),
                Ok(Err(RecvError::Closed)) => return None,
            };
            return Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from(text))),
                (rx, user),
            ));
        }
    });
    let body = stream::iter([Ok(first)]);
    let mut response =
        Response::new(StreamBody::new(futures_util::StreamExt::chain(body, changes)).boxed());
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    response
}
