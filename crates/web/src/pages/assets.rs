//! The style sheet and the live-update script, built into the binary.

use crate::failure::Failure;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

pub async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
}

pub async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/live.js"),
    )
}

pub async fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "There is no such page.",
        "Use the links at the top of the page.",
    )
}
