//! A failure as the user sees it: what happened and what to do, on a page of its own.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub what: String,
    pub todo: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "failure.html")]
struct FailurePage<'a> {
    title: &'a str,
    what: &'a str,
    todo: &'a str,
}

impl Failure {
    pub fn new(status: StatusCode, what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure {
            status,
            what: what.into(),
            todo: todo.into(),
        }
    }

    pub fn bad_request(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, what, todo)
    }

    pub fn internal(what: impl Into<String>) -> Self {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            what,
            "Try again; if it keeps failing, tell the administrator (the server log has the details).",
        )
    }

    pub fn store(e: impl std::fmt::Display) -> Self {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The calendar store could not be read or written: {e}."),
            "Try again in a moment; if it keeps failing, tell the administrator.",
        )
    }
}

impl From<imipd_store::Error> for Failure {
    fn from(e: imipd_store::Error) -> Self {
        Failure::store(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = FailurePage {
            title,
            what: &self.what,
            todo: &self.todo,
        };
        (self.status, page).into_response()
    }
}
