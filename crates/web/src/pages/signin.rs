//! Sign-in with the user's password through the listener's check (and its rate limits),
//! and sign-out, which ends the session in the store.

use crate::failure::Failure;
use crate::session::{self, Signed};
use crate::{App, Client, PREFIX, Refused, blocking};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub struct SignInPage {
    login: String,
    error: Option<String>,
}

pub async fn form() -> SignInPage {
    SignInPage {
        login: String::new(),
        error: None,
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    login: String,
    password: String,
}

pub async fn submit(
    State(app): State<App>,
    Extension(Client(client)): Extension<Client>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let login = form.login.trim().to_string();
    let refused = |status, error: String| {
        (
            status,
            SignInPage {
                login: login.clone(),
                error: Some(error),
            },
        )
            .into_response()
    };
    if login.is_empty() || form.password.is_empty() {
        return refused(
            StatusCode::BAD_REQUEST,
            "Enter your address and your password.".into(),
        );
    }
    let user = match app.passwords.check(&login, &form.password, client).await {
        Ok(user) => user,
        Err(Refused::Wrong) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "The address or the password is wrong. Check both and try again.".into(),
            );
        }
        Err(Refused::Limited { retry_after_secs }) => {
            return refused(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins. Wait {retry_after_secs} seconds, then try again."
                ),
            );
        }
        Err(Refused::Busy) => {
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is checking many sign-ins at once. Try again in a moment.".into(),
            );
        }
        Err(Refused::Unavailable) => {
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-ins cannot be checked now. Try again later or tell the administrator.".into(),
            );
        }
    };
    match session::start(&app, user, &headers).await {
        Ok(cookie) => (
            [(header::SET_COOKIE, cookie)],
            Redirect::to(&format!("{PREFIX}/")),
        )
            .into_response(),
        Err(failure) => failure.into_response(),
    }
}

#[derive(Deserialize)]
pub struct Token {
    csrf: String,
}

pub async fn sign_out(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    let key = signed.digest.clone();
    blocking(&app, move |s| Ok(s.delete_session(&key)?)).await?;
    Ok((
        [(header::SET_COOKIE, session::cleared(&headers)?)],
        Redirect::to(&format!("{PREFIX}/signin")),
    )
        .into_response())
}
