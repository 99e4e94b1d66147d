//! Invitations: the user's pending and recent invitations as cards, answered with the CLI's
//! [`rsvp`], applied by hand with the update stage's decide and apply
//! ([`apply_by_hand`]).

use super::{Done, Nav, kept, manual_label, notice, zone_of};
use crate::failure::Failure;
use crate::session::Signed;
use crate::view::{Occurrence, in_zone, next_occurrence, occurrences, span_text};
use crate::{App, PREFIX, blocking, now};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use imipd_calendar::{OutcomeKind, PartStat};
use imipd_scheduling::JobSpec;
use imipd_scheduling::log::{applied_by_hand, final_outcome};
use imipd_scheduling::manual::apply_by_hand;
use imipd_scheduling::rsvp::{Rsvp, rsvp};
use imipd_store::{Job, JobFilter, Store, normalize_address};
use serde::Deserialize;
use std::collections::HashSet;

/// Jobs read for the cards: the recent ones are what the page is about.
const RECENT_JOBS: usize = 200;

pub struct Attendee {
    pub address: String,
    pub answer: String,
}

pub struct Card {
    pub job_id: i64,
    pub uid: String,
    pub title: String,
    pub when: String,
    pub organizer_time: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub organizer: Option<String>,
    pub sender: String,
    pub attendees: Vec<Attendee>,
    pub conflicts: Vec<String>,
    pub stranger: bool,
    pub unauthenticated: bool,
    pub cancelled: bool,
    /// The user's own answer, when they are an attendee.
    pub answer: Option<String>,
    /// The shown instance's RECURRENCE-ID when the event recurs: it can be answered alone.
    pub instance: Option<String>,
    pub in_calendar: bool,
    /// "Add to calendar" / "Update calendar", when the message was not applied.
    pub manual: Option<&'static str>,
    pub outcome: String,
    pub date: String,
}

impl Card {
    pub fn can_answer(&self) -> bool {
        self.in_calendar && self.answer.is_some() && !self.cancelled
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "invitations.html")]
pub struct InvitationsPage {
    nav: Nav,
    notice: Option<&'static str>,
    pending: Vec<Card>,
    recent: Vec<Card>,
}

pub async fn show(
    State(app): State<App>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<InvitationsPage, Failure> {
    let user = signed.user.clone();
    let limits = app.config.limits.clone();
    let cards = blocking(&app, move |s| cards(s, &user, now(), &limits)).await?;
    let (pending, recent) = cards.into_iter().partition(|c| {
        c.manual.is_some() || c.answer.as_deref() == Some(PartStat::NeedsAction.as_str())
    });
    Ok(InvitationsPage {
        nav: Nav::new(&signed, "invitations"),
        notice: notice(done.done.as_deref()),
        pending,
        recent,
    })
}

/// One card per event the user was invited to, from its newest message.
fn cards(
    store: &dyn Store,
    user: &str,
    now: i64,
    limits: &imipd_calendar::Limits,
) -> Result<Vec<Card>, Failure> {
    let jobs = store.jobs(&JobFilter {
        state: None,
        user: Some(user.to_string()),
        limit: RECENT_JOBS,
    })?;
    let own: HashSet<String> = store
        .user(user)?
        .map(|u| u.addresses())
        .unwrap_or_default()
        .iter()
        .map(|a| normalize_address(a))
        .collect();
    let objects = store.objects(user)?;
    let zone = zone_of(store, user)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for job in jobs {
        if !seen.insert(job.uid.clone()) {
            continue;
        }
        let stored = objects.iter().find(|o| o.uid == job.uid);
        let ics = match stored {
            Some(o) => o.ics.clone(),
            None => String::from_utf8_lossy(&job.message).into_owned(),
        };
        let Some(shown) = next_occurrence(&ics, now, limits) else {
            continue;
        };
        let answer = shown
            .summary
            .attendees
            .iter()
            .find(|(a, _)| own.contains(&normalize_address(a)))
            .map(|(_, p)| p.clone());
        if answer.is_none() {
            // Not an invitation to the user (they organize it, or a REPLY to them).
            continue;
        }
        let conflicts = objects
            .iter()
            .filter(|o| o.uid != job.uid)
            .flat_map(|o| occurrences(&o.ics, shown.start, shown.end.max(shown.start + 1), limits))
            .filter(|o| !o.cancelled())
            .map(|o| {
                format!(
                    "{} ({})",
                    o.summary.summary,
                    span_text(o.start, o.end, o.all_day, zone)
                )
            })
            .collect();
        let stranger = match &shown.summary.organizer {
            Some(organizer) => !store.is_contact(user, organizer)?,
            None => true,
        };
        out.push(card(
            &job,
            shown,
            answer,
            stored.is_some(),
            conflicts,
            stranger,
            zone,
        ));
    }
    Ok(out)
}

fn card(
    job: &Job,
    shown: Occurrence,
    answer: Option<String>,
    in_calendar: bool,
    conflicts: Vec<String>,
    stranger: bool,
    zone: chrono_tz::Tz,
) -> Card {
    let spec = JobSpec::from_json(&job.spec).ok();
    let outcome = final_outcome(job);
    let not_applied = kept(job)
        || (!applied_by_hand(job)
            && outcome.as_ref().is_some_and(|o| {
                matches!(o.kind, OutcomeKind::NoAction | OutcomeKind::Error) && !in_calendar
            }));
    let s = shown.summary;
    Card {
        job_id: job.id,
        uid: job.uid.clone(),
        title: if s.summary.is_empty() {
            "(no title)".into()
        } else {
            s.summary.clone()
        },
        when: span_text(shown.start, shown.end, shown.all_day, zone),
        organizer_time: in_zone(shown.start, s.start_zone.as_deref(), zone),
        location: s.location.clone(),
        description: s.description.clone(),
        organizer: s.organizer.clone(),
        sender: job.sender.clone(),
        attendees: s
            .attendees
            .iter()
            .map(|(address, answer)| Attendee {
                address: address.clone(),
                answer: answer.to_ascii_lowercase(),
            })
            .collect(),
        conflicts,
        stranger,
        unauthenticated: spec.as_ref().is_some_and(|s| !s.authenticated),
        cancelled: s.status.eq_ignore_ascii_case("CANCELLED"),
        answer,
        instance: shown.recurrence_id.clone(),
        in_calendar,
        manual: not_applied.then_some(manual_label(in_calendar)),
        outcome: outcome
            .map(|o| o.to_string())
            .unwrap_or_else(|| "not processed yet".into()),
        date: crate::view::date_of(shown.start, zone),
    }
}

#[derive(Deserialize)]
pub struct Answer {
    csrf: String,
    uid: String,
    answer: String,
    #[serde(default)]
    comment: String,
    /// A RECURRENCE-ID: the answer is for that instance only.
    #[serde(default)]
    instance: String,
}

pub async fn answer(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<Answer>,
) -> Result<Redirect, Failure> {
    signed.check(&form.csrf)?;
    let partstat = match PartStat::parse(&form.answer) {
        Some(p @ (PartStat::Accepted | PartStat::Declined | PartStat::Tentative)) => p,
        _ => {
            return Err(Failure::bad_request(
                format!("{:?} is not an answer.", form.answer),
                "Use the Accept, Maybe or Decline button.",
            ));
        }
    };
    let user = signed.user.clone();
    let limits = app.config.limits.clone();
    blocking(&app, move |s| {
        let comment = form.comment.trim();
        // The user's own action has a queue id of its own, as a message would.
        let queue_id = imipd_lmtp::QueueId::generate();
        rsvp(
            s,
            &Rsvp {
                user: &user,
                uid: &form.uid,
                partstat,
                recurrence_id: Some(form.instance.trim()).filter(|i| !i.is_empty()),
                comment: (!comment.is_empty()).then_some(comment),
            },
            &limits,
            now(),
            queue_id.as_str(),
        )
        .map_err(|e| {
            Failure::new(
                StatusCode::CONFLICT,
                format!("Your answer was not sent: {e}."),
                "Reload the invitations; if the event is still there, answer again.",
            )
        })
    })
    .await?;
    Ok(Redirect::to(&format!("{PREFIX}/?done=answered")))
}

#[derive(Deserialize)]
pub struct Apply {
    csrf: String,
    job: i64,
    #[serde(default)]
    back: String,
}

pub async fn apply(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<Apply>,
) -> Result<Redirect, Failure> {
    signed.check(&form.csrf)?;
    let user = signed.user.clone();
    let limits = app.config.limits.clone();
    let job_id = form.job;
    let outcome = blocking(&app, move |s| {
        let job = s
            .job(job_id)?
            .filter(|j| normalize_address(&j.user) == normalize_address(&user))
            .ok_or_else(|| {
                Failure::new(
                    StatusCode::NOT_FOUND,
                    format!("There is no message {job_id} of yours."),
                    "Reload the page: it may have been removed since.",
                )
            })?;
        let calendar = imipd_sieve::prefs_of(s, &user)
            .map_err(|e| Failure::internal(e.to_string()))?
            .calendar;
        apply_by_hand(s, &job, calendar, now(), &limits).map_err(|e| {
            Failure::new(
                StatusCode::CONFLICT,
                format!("The invitation could not be applied: {e}."),
                "Reload the page and try again; the decision log shows the message.",
            )
        })
    })
    .await?;
    if matches!(outcome.kind, OutcomeKind::Added | OutcomeKind::Updated) {
        let to = if form.back == "log" {
            "log?done=applied-log"
        } else {
            "?done=applied"
        };
        return Ok(Redirect::to(&format!("{PREFIX}/{to}")));
    }
    Err(Failure::new(
        StatusCode::CONFLICT,
        format!("Nothing was changed: {outcome}."),
        "The reason says why; an older or cancelled invitation cannot be added.",
    ))
}
