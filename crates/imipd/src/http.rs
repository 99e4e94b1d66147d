//! The HTTP listener: health for monitoring, the push stream that tells a signed-in
//! user's open pages when their calendars change, and CalDAV on every other path
//! ([`dav`]), and the web page under `/web` ([`web`]).
//!
//! The listener must not let HTTP clients starve the rest of the server: at most
//! `max_connections` at once (more are answered `503` and closed), a request's header must
//! arrive within [`HEADER_READ_TIMEOUT`], a connection quiet in both directions for
//! [`IDLE_TIMEOUT`] is closed, and accept errors (out of descriptors) back off up to a
//! second instead of spinning. [`connection_cap`] keeps HTTP well below the descriptor
//! limit, so LMTP can always accept.

mod auth;
mod credential_cache;
mod dav;
mod idle;
mod login_limits;
mod push;
mod stored_credential;
pub mod tls;
mod web;

use auth::Authenticator;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use imipd_store::Store;
use login_limits::MemoryLimits;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

pub type Body = BoxBody<Bytes, Infallible>;

/// A request's header section must be in within this time of the connection being ready
/// for it (slowloris).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no traffic either way for this long is closed. The push stream sends
/// a keepalive comment more often.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Shared {
    store: Arc<dyn Store>,
    feed: push::Feed,
    auth: Arc<Authenticator>,
    dav: Arc<imipd_dav_http::Config>,
    web: axum::Router,
}

/// The most HTTP connections at once, given the descriptor limit (`RLIMIT_NOFILE`) and
/// LMTP's connection cap: each LMTP connection may hold a few descriptors (its socket, a
/// spool file, a Maildir file, a downstream socket) and the process some more (database,
/// logs, listeners); HTTP gets half of what is left, between 16 and 1,024.
pub fn connection_cap(open_files: u64, lmtp_connections: usize) -> usize {
    let room = open_files.saturating_sub(lmtp_reserve(lmtp_connections)) / 2;
    usize::try_from(room).unwrap_or(usize::MAX).clamp(16, 1024)
}

/// Descriptors kept for LMTP and the rest of the process.
pub fn lmtp_reserve(lmtp_connections: usize) -> u64 {
    lmtp_connections as u64 * 3 + 128
}

pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    max_connections: usize,
    dav: imipd_dav_http::Config,
    tls: Option<TlsAcceptor>,
) {
    let auth = Authenticator::new(
        store.clone(),
        Arc::new(MemoryLimits::default()),
        Authenticator::default_hash_checks(),
    );
    info!(
        "http: at most {max_connections} connections, {} password check(s) at once",
        auth.hash_checks()
    );
    let auth = Arc::new(auth);
    let feed = push::Feed::follow(store.clone());
    let shared = Shared {
        web: web::router(store.clone(), auth.clone(), feed.clone()),
        feed,
        store,
        auth,
        dav: Arc::new(dav),
    };
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut backoff = AcceptBackoff::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                if let Some(errors) = backoff.succeeded() {
                    info!("http: accepting again after {errors} failed accept(s)");
                }
                accepted
            }
            Err(e) => {
                let delay = backoff.failed();
                if backoff.errors() == 1 {
                    warn!(
                        "http: cannot accept a connection: {e}; retrying with back-off (out of \
                         descriptors? raise LimitNOFILE)"
                    );
                }
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            debug!(%peer, "http: connection refused, {max_connections} open");
            refuse(&stream);
            continue;
        };
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let io = idle::Idle::new(stream, IDLE_TIMEOUT);
            match tls {
                None => connection(io, shared, peer).await,
                // The handshake gets the time a request's header gets (slowloris).
                Some(tls) => {
                    match tokio::time::timeout(HEADER_READ_TIMEOUT, tls.accept(io)).await {
                        Ok(Ok(io)) => connection(io, shared, peer).await,
                        Ok(Err(e)) => debug!(%peer, "http: TLS handshake failed: {e}"),
                        Err(_) => debug!(%peer, "http: TLS handshake not done in time"),
                    }
                }
            }
            drop(slot);
        });
    }
}

/// Serves the requests of one connection, plain or TLS.
async fn connection<I>(io: I, shared: Shared, peer: SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| route(req, shared.clone(), peer));
    // Header names go out as `Content-Type`, not `content-type`: some clients and
    // proxies match them byte for byte.
    if let Err(e) = http1::Builder::new()
        .title_case_headers(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service)
        .await
    {
        debug!(%peer, "http connection ended: {e}");
    }
}

/// Tells a client over the connection cap to come back, without waiting on it: the reply
/// fits any socket buffer, and the descriptor is closed at once.
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\
          Connection: close\r\n\r\n",
    );
}

/// Delays between failed accepts: 10 ms, doubling to 1 s while they keep failing.
#[derive(Debug, Default)]
struct AcceptBackoff {
    errors: u64,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn failed(&mut self) -> Duration {
        self.errors += 1;
        let doublings = u32::try_from(self.errors - 1).unwrap_or(u32::MAX).min(16);
        (Self::FIRST * 2u32.pow(doublings)).min(Self::MAX)
    }

    fn errors(&self) -> u64 {
        self.errors
    }

    /// Ends a run of failures; how many there were, if any.
    fn succeeded(&mut self) -> Option<u64> {
        let errors = std::mem::take(&mut self.errors);
        (errors > 0).then_some(errors)
    }
}

async fn route(
    req: Request<Incoming>,
    shared: Shared,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => health(shared.store).await,
        (&Method::GET, "/events") => push::stream(&req, peer, &shared.auth, &shared.feed).await,
        (_, path) if web::is_page(path) => web::serve(req, &shared, peer).await,
        _ => dav::serve(req, &shared, peer).await,
    };
    Ok(response)
}

/// 200 with queue depths when the store answers, 503 when it does not.
async fn health(store: Arc<dyn Store>) -> Response<Body> {
    let counts = move || {
        store.check()?;
        store.queue_counts()
    };
    match tokio::task::spawn_blocking(counts).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_stays_well_below_the_descriptor_limit() {
        // (RLIMIT_NOFILE, LMTP connections, HTTP connections)
        let cases = [
            (1024, 256, 64),
            (1024, 64, 352),
            (4096, 256, 1024),
            (524_288, 256, 1024),
            (100, 256, 16),
        ];
        for (open_files, lmtp, expected) in cases {
            assert_eq!(
                connection_cap(open_files, lmtp),
                expected,
                "limit {open_files}, {lmtp} LMTP connections"
            );
        }
    }

    #[test]
    fn accept_errors_back_off_to_a_second() {
        let mut backoff = AcceptBackoff::default();
        let delays: Vec<u64> = (0..10)
            .map(|_| backoff.failed().as_millis() as u64)
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(backoff.succeeded(), Some(10));
        assert_eq!(backoff.succeeded(), None);
        assert_eq!(backoff.failed(), Duration::from_millis(10));
    }
}
