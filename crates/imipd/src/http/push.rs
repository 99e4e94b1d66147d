//! `GET /events`: a Server-Sent Events stream of the signed-in user's calendar changes, so
//! an open page refreshes the moment the update stage writes. HTTP Basic authentication
//! with the user's imipd password.

use super::{Body, json};
use base64::Engine;
use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode, header};
use imipd_store::{Store, verify_password};
use imipd_worker::CalendarChanged;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// A comment line this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);

pub async fn stream(
    req: &Request<Incoming>,
    store: Arc<dyn Store>,
    events: &broadcast::Sender<CalendarChanged>,
) -> Response<Body> {
    // Subscribe before answering, so no change between the two is missed.
    let receiver = events.subscribe();
    let Some((login, password)) = basic_credentials(req) else {
        return unauthorized();
    };
    let user = tokio::task::spawn_blocking(move || check_login(&*store, &login, &password))
        .await
        .ok()
        .flatten();
    let Some(user) = user else {
        return unauthorized();
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

fn basic_credentials(req: &Request<Incoming>) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

/// The canonical user name when the password matches.
fn check_login(store: &dyn Store, login: &str, password: &str) -> Option<String> {
    let user = store.resolve_address(login).ok()??;
    let hash = store.password_hash(&user).ok()??;
    verify_password(&hash, password).then_some(user)
}

fn unauthorized() -> Response<Body> {
    let mut r = json(
        StatusCode::UNAUTHORIZED,
        "{\"error\":\"sign in with your imipd address and password (HTTP Basic)\"}\n".into(),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"imipd\", charset=\"UTF-8\""),
    );
    r
}
