//! Responses: status, headers and body, and the shapes CalDAV answers in
//! (multistatus, precondition errors).

use imipd_dav::{Precondition, RequestError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }

    pub fn with_body(self, content_type: &str, body: Vec<u8>) -> Response {
        let mut r = self.header("Content-Type", content_type.to_string());
        r.body = body;
        r
    }

    /// A plain-text explanation.
    pub fn text(status: u16, message: String) -> Response {
        let mut message = message;
        message.push('\n');
        Response::new(status).with_body("text/plain; charset=utf-8", message.into_bytes())
    }

    /// 207 with a rendered multistatus.
    pub fn multistatus(body: String) -> Response {
        Response::new(207).with_body("application/xml; charset=utf-8", body.into_bytes())
    }

    /// A failed precondition with its XML error body (RFC 4918 section 16).
    pub fn precondition(p: &Precondition, message: &str) -> Response {
        Response::new(p.status()).with_body(
            "application/xml; charset=utf-8",
            p.render(Some(message)).into_bytes(),
        )
    }

    /// A request body refused by the protocol core.
    pub fn refused(e: &RequestError) -> Response {
        match e.precondition() {
            Some(p) => Response::precondition(&p, &e.to_string()).with_status(e.status()),
            None => Response::text(e.status(), e.to_string()),
        }
    }

    fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    pub fn not_found() -> Response {
        Response::text(404, "no such resource".into())
    }
}
