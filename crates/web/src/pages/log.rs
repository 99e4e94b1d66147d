//! The decision log: every message processed for the user with its outcome and reason, in
//! the words of the `X-Imipd-Cal-Outcome` header and `imipd jobs show`; filterable, each
//! entry linked to its event, with "Add to calendar" where the user can still apply it.

use super::{Nav, kept, manual_label, notice, zone_of};
use crate::failure::Failure;
use crate::session::Signed;
use crate::view::{date_of, moment, next_occurrence};
use crate::{App, blocking, now};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use imipd_calendar::OutcomeKind;
use imipd_scheduling::JobSpec;
use imipd_scheduling::log::{by_hand, final_outcome, summary};
use imipd_store::{JobFilter, Store};
use serde::Deserialize;

const MAX_ENTRIES: usize = 500;

pub struct Entry {
    pub id: i64,
    pub when: String,
    pub sender: String,
    pub uid: String,
    pub action: String,
    pub state: String,
    pub kind: String,
    pub outcome: String,
    /// The calendar at the event's day, when the event is in a calendar.
    pub link: Option<String>,
    /// When the user applied the message by hand, and the entry that records it.
    pub by_hand: Option<(String, String)>,
    pub manual: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "log.html")]
pub struct LogPage {
    nav: Nav,
    notice: Option<&'static str>,
    kinds: Vec<(&'static str, bool)>,
    q: String,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
pub struct Filter {
    outcome: Option<String>,
    q: Option<String>,
    done: Option<String>,
}

pub async fn show(
    State(app): State<App>,
    signed: Signed,
    Query(filter): Query<Filter>,
) -> Result<LogPage, Failure> {
    let kind = match filter.outcome.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(OutcomeKind::parse(k).ok_or_else(|| {
            Failure::bad_request(
                format!("{k:?} is not an outcome."),
                "Choose added, updated, no_action or error, or all outcomes.",
            )
        })?),
        None => None,
    };
    let q = filter.q.clone().unwrap_or_default();
    let user = signed.user.clone();
    let needle = q.trim().to_lowercase();
    let limits = app.config.limits.clone();
    let entries = blocking(&app, move |s| entries(s, &user, kind, &needle, &limits)).await?;
    let kinds = [
        OutcomeKind::Added,
        OutcomeKind::Updated,
        OutcomeKind::NoAction,
        OutcomeKind::Error,
    ]
    .iter()
    .map(|k| (k.as_str(), Some(*k) == kind))
    .collect();
    Ok(LogPage {
        nav: Nav::new(&signed, "log"),
        notice: notice(filter.done.as_deref()),
        kinds,
        q,
        entries,
    })
}

fn entries(
    store: &dyn Store,
    user: &str,
    kind: Option<OutcomeKind>,
    needle: &str,
    limits: &imipd_calendar::Limits,
) -> Result<Vec<Entry>, Failure> {
    let jobs = store.jobs(&JobFilter {
        state: None,
        user: Some(user.to_string()),
        limit: MAX_ENTRIES,
    })?;
    let zone = zone_of(store, user)?;
    let mut out = Vec::new();
    for job in jobs {
        let outcome = final_outcome(&job);
        if kind.is_some() && outcome.as_ref().map(|o| o.kind) != kind {
            continue;
        }
        let line = summary(&job);
        let haystack = format!("{} {} {line}", job.sender, job.uid).to_lowercase();
        if !needle.is_empty() && !haystack.contains(needle) {
            continue;
        }
        let stored = store.find_object(user, &job.uid)?;
        let link = stored
            .as_ref()
            .and_then(|o| next_occurrence(&o.ics, now(), limits))
            .map(|o| {
                let date = date_of(o.start, zone);
                format!("/web/calendar?date={date}#day-{date}")
            });
        let action = JobSpec::from_json(&job.spec).map(|s| s.action).ok();
        out.push(Entry {
            id: job.id,
            when: moment(job.created, zone),
            sender: job.sender.clone(),
            uid: job.uid.clone(),
            action: action.map_or("?", |a| a.name()).to_string(),
            state: job.state.as_str().to_string(),
            kind: outcome.map_or("pending", |o| o.kind.as_str()).to_string(),
            outcome: if line.is_empty() {
                "not processed yet".into()
            } else {
                line
            },
            by_hand: by_hand(&job)
                .map(|(at, entry)| (at.map_or_else(String::new, |t| moment(t, zone)), entry)),
            manual: kept(&job).then_some(manual_label(stored.is_some())),
            link,
        });
    }
    Ok(out)
}
