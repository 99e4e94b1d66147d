//! The web page ([`imipd_web`]) on the listener: its sign-in checks passwords with the
//! listener's [`Authenticator`] (and its rate limits), its live updates read the listener's
//! [`Feed`], and its responses stream out as the listener's bodies.

use super::auth::{Authenticator, Denied};
use super::push::Feed;
use super::{Body, Shared};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Request;
use hyper::Response;
use hyper::body::{Frame, Incoming};
use imipd_store::Store;
use imipd_web::{App, Checked, Client, Config, PREFIX, Passwords, Refused};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_service::Service;

pub fn is_page(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

pub fn router(store: Arc<dyn Store>, auth: Arc<Authenticator>, feed: Feed) -> axum::Router {
    imipd_web::router(App {
        store,
        passwords: Arc::new(Listener(auth)),
        live: Arc::new(feed),
        config: Arc::new(Config::default()),
    })
}

struct Listener(Arc<Authenticator>);

impl Passwords for Listener {
    fn check<'a>(&'a self, login: &'a str, password: &'a str, client: SocketAddr) -> Checked<'a> {
        Box::pin(async move {
            self.0
                .sign_in(login.to_string(), password.to_string(), client.ip())
                .await
                .map_err(|denied| match denied {
                    Denied::NoCredentials | Denied::Wrong => Refused::Wrong,
                    Denied::Limited { retry_after } => Refused::Limited {
                        retry_after_secs: retry_after.as_secs_f64().ceil() as u64,
                    },
                    Denied::Busy => Refused::Busy,
                    Denied::Unavailable => Refused::Unavailable,
                })
        })
    }
}

pub async fn serve(
    mut req: Request<Incoming>,
    shared: &Shared,
    peer: SocketAddr,
) -> Response<Body> {
    req.extensions_mut().insert(Client(peer));
    let mut router = shared.web.clone();
    let response = match router.call(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // The listener's bodies are Sync, axum's are not: a task moves the frames across. A
    // body error ends the body; a client gone ends the task at its next frame.
    let (parts, mut body) = response.into_parts();
    let (tx, rx) = tokio::sync::mpsc::channel::<Frame<Bytes>>(8);
    tokio::spawn(async move {
        while let Some(Ok(frame)) = body.frame().await {
            if tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|frame| (Ok::<_, Infallible>(frame), rx))
    });
    Response::from_parts(parts, StreamBody::new(frames).boxed())
}
