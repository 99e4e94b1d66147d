//! CalDAV and CardDAV for imipd over HTTP: one request, already authenticated, mapped to the
//! protocol core ([`imipd_dav`]) and to store calls, and back to a response. The
//! listener (the `imipd` crate) routes and signs in; nothing here touches a socket.
//!
//! The namespace, for a user `bob@example.org`:
//! - `/principals/bob@example.org/`: the principal;
//! - `/calendars/bob@example.org/`: the calendar home, one collection per calendar
//!   (`/calendars/bob@example.org/default/`), each object by its href in the calendar;
//! - `/addressbooks/bob@example.org/`: the address book home, one collection per
//!   address book (`/addressbooks/bob@example.org/default/`), each vCard by its href.
//!
//! `@` and `%40` name the same resource: every path is decoded once
//! ([`imipd_dav::DavPath`]).

mod card;
mod card_report;
mod collection;
mod dead;
mod object;
mod outbox;
mod propfind;
mod props;
mod reply;
mod report;
mod resource;

use imipd_dav::DavPath;
use imipd_dav::discovery::WellKnown;
use imipd_store::Store;
pub use reply::Response;
use resource::Resolved;

/// A request as the listener hands it over: the body read in full (within
/// [`Config::max_request_bytes`]).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The request target's path, still percent-encoded.
    pub path: String,
    /// Header names in any case; a header sent several times appears several times.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Settings of the CalDAV server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The largest request body read; larger ones are answered 413. It is also the
    /// largest calendar object stored (`max-resource-size`).
    pub max_request_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_request_bytes: 1024 * 1024,
        }
    }
}

/// The redirect of `/.well-known/caldav` and `/.well-known/carddav` (RFC 6764
/// section 5) to the root, where `current-user-principal` leads on. Answered before
/// sign-in, as clients ask it first.
pub fn well_known(raw_path: &str) -> Option<Response> {
    let path = DavPath::parse(raw_path).ok()?;
    WellKnown::from_path(&path)?;
    Some(Response::new(301).header("Location", "/".to_string()))
}

/// The server as seen by one signed-in user.
pub(crate) struct Dav<'a> {
    pub store: &'a dyn Store,
    pub user: &'a str,
    pub config: &'a Config,
}

/// Answers one request of the signed-in `user`. Blocking (store calls): run it on
/// the blocking pool.
pub fn handle(store: &dyn Store, user: &str, config: &Config, req: &Request) -> Response {
    let dav = Dav {
        store,
        user,
        config,
    };
    let path = match DavPath::parse(&req.path) {
        Ok(p) => p,
        Err(e) => return Response::text(400, format!("bad request path: {e}")),
    };
    match answer(&dav, &path, req) {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(user, method = %req.method, path = %req.path, "dav: {e}");
            store_failed(&path, &e)
        }
    }
}

/// The 500 for a store that failed, naming what the path is in: the address books or the
/// calendars.
fn store_failed(path: &DavPath, e: &imipd_store::Error) -> Response {
    let what = match path.segments().next() {
        Some(resource::ADDRESSBOOKS) => "address book",
        _ => "calendar",
    };
    Response::text(500, format!("the {what} store failed: {e}"))
}

fn answer(dav: &Dav<'_>, path: &DavPath, req: &Request) -> imipd_store::Result<Response> {
    let resolved = resource::resolve(dav, path)?;
    Ok(match req.method.as_str() {
        "OPTIONS" => collection::options(&resolved),
        "PROPFIND" => propfind::propfind(dav, &resolved, req)?,
        "PROPPATCH" => propfind::proppatch(dav, &resolved, req)?,
        "MKCALENDAR" => collection::make(dav, &resolved, req, true)?,
        "MKCOL" => collection::make(dav, &resolved, req, false)?,
        "GET" => object::get(&resolved, true),
        "HEAD" => object::get(&resolved, false),
        "PUT" => object::put(dav, &resolved, req)?,
        "DELETE" => match &resolved {
            Resolved::Found(resource::Node::Calendar(cal)) => collection::delete(dav, cal)?,
            Resolved::Found(resource::Node::Addressbook(b)) => collection::delete_book(dav, b)?,
            _ => object::delete(dav, &resolved, req)?,
        },
        "REPORT" => report::report(dav, &resolved, req)?,
        "POST" if matches!(resolved, Resolved::Found(resource::Node::ScheduleOutbox)) => {
            outbox::post(dav, req)?
        }
        _ => Response::text(405, format!("{} is not supported here", req.method))
            .header("Allow", collection::allow(&resolved).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_store_is_named_after_the_resource() {
        let e = imipd_store::Error::Password("disk gone".into());
        // (path, the start of the answer)
        let cases = [
            (
                "/addressbooks/bob@example.org/default/kim.vcf",
                "the address book store failed",
            ),
            (
                "/addressbooks/bob@example.org/",
                "the address book store failed",
            ),
            (
                "/calendars/bob@example.org/default/e.ics",
                "the calendar store failed",
            ),
            ("/principals/bob@example.org/", "the calendar store failed"),
        ];
        for (path, says) in cases {
            let r = store_failed(&DavPath::parse(path).unwrap(), &e);
            let body = String::from_utf8(r.body).unwrap();
            assert_eq!(r.status, 500, "{path}");
            assert!(body.starts_with(says), "{path}: {body}");
        }
    }
}
