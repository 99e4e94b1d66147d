//! The first CSRF check: a request that can change anything (any method but GET and HEAD)
//! must come from a page of this site, as its `Origin` (or, without one, its `Referer`)
//! shows. The second, the session's token in every form, is [`crate::session::Signed::check`].

use crate::failure::Failure;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    match from_this_site(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => Failure::new(
            StatusCode::FORBIDDEN,
            format!("This request was refused: {why}."),
            "Use the forms of this site; if you did, reload the page and try again.",
        )
        .into_response(),
    }
}

/// Whether the request's origin is this host, whatever the scheme a proxy in front used.
fn from_this_site(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("it names no Host")?;
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (source, value) = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Err("it came without Origin or Referer".into()),
    };
    let authority = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .map(|rest| rest.split('/').next().unwrap_or(""));
    match authority {
        Some(a) if a.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(format!("its {source} is another site")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), value.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_host_may_post() {
        let host = (header::HOST, "cal.example.org:8080");
        let cases = [
            (
                vec![
                    host.clone(),
                    (header::ORIGIN, "http://cal.example.org:8080"),
                ],
                true,
            ),
            (
                vec![
                    host.clone(),
                    (header::ORIGIN, "https://cal.example.org:8080"),
                ],
                true,
            ),
            (
                vec![host.clone(), (header::ORIGIN, "https://evil.example")],
                false,
            ),
            (vec![host.clone(), (header::ORIGIN, "null")], false),
            (
                vec![
                    host.clone(),
                    (header::ORIGIN, "http://cal.example.org:8080.evil.example"),
                ],
                false,
            ),
            (
                vec![
                    host.clone(),
                    (header::REFERER, "http://cal.example.org:8080/web/"),
                ],
                true,
            ),
            (
                vec![
                    host.clone(),
                    (header::REFERER, "http://evil.example/cal.example.org:8080"),
                ],
                false,
            ),
            (vec![host.clone()], false),
            (vec![(header::ORIGIN, "http://cal.example.org:8080")], false),
        ];
        for (pairs, allowed) in cases {
            assert_eq!(
                from_this_site(&headers(&pairs)).is_ok(),
                allowed,
                "{pairs:?}"
            );
        }
    }
}
