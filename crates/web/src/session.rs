//! Sessions: a random secret in an HttpOnly, SameSite=Lax cookie (Secure when the page was
//! reached over TLS), its digest in the store, so every node knows every session and a copy
//! of the database signs nobody in. Each session has its own CSRF token for its forms.

use crate::failure::Failure;
use crate::{App, PREFIX, blocking, now};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use imipd_store::Session;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "imipd_session";

/// A signed-in request.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user: String,
    pub csrf: String,
    pub digest: String,
}

impl Signed {
    /// The second CSRF check: the form carries this session's token.
    pub fn check(&self, token: &str) -> Result<(), Failure> {
        if !token.is_empty() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(Failure::new(
                StatusCode::FORBIDDEN,
                "This form was refused: it did not come from your current session.",
                "Reload the page (your session may have been renewed) and send the form again.",
            ))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes, URL-safe.
pub fn random_token() -> Result<String, Failure> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Failure::internal(format!("no random numbers for a session: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a session for `user`; the cookie that carries it.
pub async fn start(app: &App, user: String, headers: &HeaderMap) -> Result<HeaderValue, Failure> {
    let secret = random_token()?;
    let created = now();
    let session = Session {
        user,
        csrf: random_token()?,
        created,
        expires: created + app.config.session_secs,
    };
    let key = digest(&secret);
    blocking(app, move |s| Ok(s.create_session(&key, &session)?)).await?;
    cookie(&secret, app.config.session_secs, headers)
}

/// The cookie that removes the session's from the browser.
pub fn cleared(headers: &HeaderMap) -> Result<HeaderValue, Failure> {
    cookie("", 0, headers)
}

fn cookie(value: &str, max_age: i64, headers: &HeaderMap) -> Result<HeaderValue, Failure> {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={PREFIX}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .map_err(|e| Failure::internal(format!("cannot set the session cookie: {e}")))
}

/// TLS ends at a proxy in front of the listener, which says so.
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn secret_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// Not signed in: pages send the browser to the sign-in form, the live stream gets a 401.
pub struct SignInFirst {
    page: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        if self.page {
            Redirect::to(&format!("{PREFIX}/signin")).into_response()
        } else {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                "You are not signed in (or your session ended).",
                "Sign in again.",
            )
            .into_response()
        }
    }
}

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let page = parts.method == axum::http::Method::GET && !parts.uri.path().ends_with("/live");
        let Some(secret) = secret_of(&parts.headers) else {
            return Err(SignInFirst { page }.into_response());
        };
        let key = digest(&secret);
        let lookup = key.clone();
        let found = blocking(app, move |s| Ok(s.session(&lookup, now())?))
            .await
            .map_err(IntoResponse::into_response)?;
        match found {
            Some(session) => Ok(Signed {
                user: session.user,
                csrf: session.csrf,
                digest: key,
            }),
            None => Err(SignInFirst { page }.into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; imipd_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(secret_of(&h).as_deref(), Some("abc"));
        h.insert(
            header::COOKIE,
            "imipd_session=; x=imipd_session".parse().unwrap(),
        );
        assert_eq!(secret_of(&h), None);
    }

    #[test]
    fn the_cookie_is_httponly_lax_and_secure_behind_tls() {
        let plain = cookie("s", 60, &HeaderMap::new()).unwrap();
        assert_eq!(
            plain,
            "imipd_session=s; Path=/web; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(
            cookie("s", 60, &h)
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn tokens_differ_and_only_the_right_one_passes() {
        let a = random_token().unwrap();
        assert_ne!(a, random_token().unwrap());
        let signed = Signed {
            user: "bob@example.org".into(),
            csrf: a.clone(),
            digest: digest("x"),
        };
        assert!(signed.check(&a).is_ok());
        assert!(signed.check("").is_err());
        assert!(signed.check(&random_token().unwrap()).is_err());
    }
}
