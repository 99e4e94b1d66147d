//! The HTTP listener: health for monitoring, and the push stream that tells a signed-in
//! user's open pages when their calendars change. CalDAV and the web page plug in here.

mod push;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use imipd_store::Store;
use imipd_worker::CalendarChanged;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tracing::debug;

pub type Body = BoxBody<Bytes, Infallible>;

#[derive(Clone)]
struct Shared {
    store: Arc<dyn Store>,
    events: broadcast::Sender<CalendarChanged>,
}

pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    events: broadcast::Sender<CalendarChanged>,
) {
    let shared = Shared { store, events };
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| route(req, shared.clone()));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!(%peer, "http connection ended: {e}");
            }
        });
    }
}

async fn route(req: Request<Incoming>, shared: Shared) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => health(shared.store).await,
        (&Method::GET, "/events") => push::stream(&req, shared.store, &shared.events).await,
        _ => json(StatusCode::NOT_FOUND, "{\"error\":\"not found\"}\n".into()),
    };
    Ok(response)
}

/// 200 with queue depths when the store answers, 503 when it does not.
async fn health(store: Arc<dyn Store>) -> Response<Body> {
    match tokio::task::spawn_blocking(move || store.queue_counts()).await {
        Ok(Ok(c)) => json(
            StatusCode::OK,
            format!(
                "{{\"status\":\"ok\",\"jobs_queued\":{},\"jobs_running\":{},\"jobs_dead\":{},\"mail_queued\":{},\"mail_dead\":{},\"log_lines_lost\":{}}}\n",
                c.jobs_queued,
                c.jobs_running,
                c.jobs_dead,
                c.mail_queued,
                c.mail_dead,
                crate::logging::lines_lost()
            ),
        ),
        Ok(Err(e)) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{{\"status\":\"store unavailable\",\"error\":{}}}\n",
                serde_json::Value::String(e.to_string())
            ),
        ),
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "{\"status\":\"error\"}\n".into(),
        ),
    }
}

pub fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}
