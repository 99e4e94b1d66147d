//! CalDAV on the listener: the well-known redirects, sign-in, the request body read
//! within its cap, and the request handed to [`imipd_dav_http`] on the blocking pool.

use super::{Body, Shared};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use imipd_dav_http::Response as DavResponse;
use std::net::SocketAddr;
use tracing::warn;

pub async fn serve(req: Request<Incoming>, shared: &Shared, peer: SocketAddr) -> Response<Body> {
    if let Some(redirect) = imipd_dav_http::well_known(req.uri().path()) {
        return convert(redirect);
    }
    let max = shared.dav.max_request_bytes;
    let too_large = || {
        convert(DavResponse::text(
            413,
            format!("the request body is larger than {max} bytes (http.max_request_bytes)"),
        ))
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return too_large();
        }
        Err(e) => {
            return convert(DavResponse::text(400, format!("cannot read the body: {e}")));
        }
    };
    // The body is read before sign-in: a 401 sent while it is still unread would end the
    // connection, and clients that send their first request without credentials would
    // find the kept-alive connection closed under their retry.
    let user = match shared.auth.authenticate(&parts.headers, peer.ip()).await {
        Ok(user) => user,
        Err(denied) => return denied.response(),
    };
    let request = imipd_dav_http::Request {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body,
    };
    let store = shared.store.clone();
    let config = shared.dav.clone();
    match tokio::task::spawn_blocking(move || {
        imipd_dav_http::handle(&*store, &user, &config, &request)
    })
    .await
    {
        Ok(response) => convert(response),
        Err(e) => {
            warn!("caldav request failed: {e}");
            convert(DavResponse::text(500, "internal error".into()))
        }
    }
}

fn convert(r: DavResponse) -> Response<Body> {
    let mut out = Response::new(Full::new(Bytes::from(r.body)).boxed());
    *out.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}
