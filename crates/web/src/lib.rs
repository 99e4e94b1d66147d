//! The web page: a signed-in user's invitations with one-click answers, their calendar, the
//! decision log ("why wasn't this added?") and their settings, served as HTML rendered on
//! the server (askama, escaped), with a few lines of JavaScript for live updates only.
//!
//! Every action calls what the command line calls: [`imipd_scheduling::rsvp`] for answers,
//! [`imipd_scheduling::manual`] (the update stage's decide and apply) for "Add to
//! calendar", [`imipd_sieve::set_prefs`] for preferences. The listener mounts
//! [`router`] under [`PREFIX`]; sign-in, sessions and the CSRF checks are here.

mod failure;
mod guard;
mod pages;
mod session;
mod view;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use imipd_calendar::Limits;
use imipd_store::{FeedEntry, JobNotice, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::broadcast;

pub use failure::Failure;

/// Where the pages live; every other path stays the listener's (CalDAV, `/events`).
pub const PREFIX: &str = "/web";

/// Why a password was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Wrong address or password (not told apart).
    Wrong,
    /// Too many failures for the address or the client.
    Limited { retry_after_secs: u64 },
    /// Every password check is busy.
    Busy,
    /// The store could not be read.
    Unavailable,
}

pub type Checked<'a> = Pin<Box<dyn Future<Output = Result<String, Refused>> + Send + 'a>>;

/// The listener's password check, with its rate limits: the canonical user name.
pub trait Passwords: Send + Sync {
    fn check<'a>(&'a self, login: &'a str, password: &'a str, client: SocketAddr) -> Checked<'a>;
}

/// The store's change feed and job feed as the listener follows them.
pub trait Live: Send + Sync {
    fn subscribe(&self) -> Listening;
}

/// What an open page hears: calendar changes, and jobs finished or applied by hand (a
/// stranger's invitation kept for the user has no calendar change to tell of it).
pub struct Listening {
    pub changes: broadcast::Receiver<Arc<FeedEntry>>,
    pub jobs: broadcast::Receiver<Arc<JobNotice>>,
}

/// The address the request came from; the listener puts it in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Client(pub SocketAddr);

#[derive(Debug, Clone)]
pub struct Config {
    /// How long a session lasts from sign-in.
    pub session_secs: i64,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_secs: 12 * 3600,
            limits: Limits::default(),
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub passwords: Arc<dyn Passwords>,
    pub live: Arc<dyn Live>,
    pub config: Arc<Config>,
}

/// The pages, under [`PREFIX`].
pub fn router(app: App) -> Router {
    let at = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(
            &at(""),
            get(|| async { Redirect::permanent(&format!("{PREFIX}/")) }),
        )
        .route(&at("/"), get(pages::invitations::show))
        .route(
            &at("/signin"),
            get(pages::signin::form).post(pages::signin::submit),
        )
        .route(&at("/signout"), post(pages::signin::sign_out))
        .route(&at("/rsvp"), post(pages::invitations::answer))
        .route(&at("/apply"), post(pages::invitations::apply))
        .route(&at("/trust"), post(pages::settings::trust_sender))
        .route(&at("/calendar"), get(pages::calendar::show))
        .route(&at("/log"), get(pages::log::show))
        .route(&at("/settings"), get(pages::settings::show))
        .route(&at("/settings/prefs"), post(pages::settings::save_prefs))
        .route(&at("/settings/sieve"), post(pages::settings::save_sieve))
        .route(
            &at("/settings/contacts/add"),
            post(pages::settings::add_contact),
        )
        .route(
            &at("/settings/contacts/remove"),
            post(pages::settings::remove_contact),
        )
        .route(
            &at("/settings/apps/add"),
            post(pages::settings::add_app_password),
        )
        .route(
            &at("/settings/apps/revoke"),
            post(pages::settings::revoke_app_password_form),
        )
        .route(&at("/live"), get(pages::live::stream))
        .route(&at("/static/app.css"), get(pages::assets::css))
        .route(&at("/static/live.js"), get(pages::assets::js))
        .fallback(pages::assets::not_found)
        .layer(axum::middleware::from_fn(guard::same_origin))
        .with_state(app)
}

/// Runs a store call on the blocking pool; a failure becomes the page that says so.
pub(crate) async fn blocking<T: Send + 'static>(
    app: &App,
    call: impl FnOnce(&dyn Store) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || call(&*store))
        .await
        .unwrap_or_else(|e| Err(Failure::internal(format!("the request failed: {e}"))))
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
