//! One module per page; [`Nav`] is what every page's frame shows.

pub mod assets;
pub mod calendar;
pub mod invitations;
pub mod live;
pub mod log;
pub mod settings;
pub mod signin;

use crate::failure::Failure;
use crate::session::Signed;
use chrono_tz::Tz;
use imipd_scheduling::log::applied_by_hand;
use imipd_scheduling::{Action, JobSpec};
use imipd_store::{Job, Store};
use serde::Deserialize;

/// The zone the user reads times in (`imipd prefs set USER time_zone=…`); UTC when unset.
pub fn zone_of(store: &dyn Store, user: &str) -> Result<Tz, Failure> {
    imipd_sieve::prefs_of(store, user)
        .map(|p| p.zone())
        .map_err(|e| Failure::internal(e.to_string()))
}

/// Whether the job's message was kept for the user to apply (no rule applied it) and they
/// have not applied it by hand since.
pub fn kept(job: &Job) -> bool {
    !applied_by_hand(job) && JobSpec::from_json(&job.spec).is_ok_and(|s| s.action == Action::Record)
}

/// The manual action's name: the event is new to the calendar or is there already.
pub fn manual_label(in_calendar: bool) -> &'static str {
    if in_calendar {
        "Update calendar"
    } else {
        "Add to calendar"
    }
}

/// The frame around a signed-in page: who, the sign-out form's token, where.
pub struct Nav {
    pub user: String,
    pub csrf: String,
    pub current: &'static str,
}

impl Nav {
    pub fn new(signed: &Signed, current: &'static str) -> Self {
        Nav {
            user: signed.user.clone(),
            csrf: signed.csrf.clone(),
            current,
        }
    }

    /// `aria-current` for the link to `page`.
    pub fn is(&self, page: &str) -> bool {
        self.current == page
    }
}

/// The query of a page a form redirected to: what was done.
#[derive(Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// A notice above a page after a form was sent (`?done=…` after the redirect).
pub fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "answered" => "Your answer is saved; the reply to the organizer is queued.",
        "applied" => "Done: see the outcome on the invitation.",
        "applied-log" => "Done: the message's entry records what was applied by hand.",
        "trusted" => "The sender is in your address book: their invitations are added from now on.",
        "prefs" => "Preferences saved; the generated Sieve section below is updated.",
        "sieve" => "Your Sieve rules are saved.",
        "contact" => "Contacts updated.",
        "app-revoked" => "The app password is revoked: the app using it is signed out now.",
        _ => return None,
    })
}
