//! The calendar: a week or a month of the user's calendars, recurring events expanded,
//! cancelled ones marked; days and hours are the user's time zone's.

use super::{Nav, zone_of};
use crate::failure::Failure;
use crate::session::Signed;
use crate::view::{DAY, date_of, day_start, occurrences, time_of};
use crate::{App, blocking, now};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;

pub struct Item {
    pub uid: String,
    pub time: String,
    pub title: String,
    pub location: Option<String>,
    pub cancelled: bool,
    pub calendar: String,
}

pub struct Day {
    pub date: String,
    pub label: String,
    pub today: bool,
    pub items: Vec<Item>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    nav: Nav,
    month: bool,
    heading: String,
    zone: String,
    previous: String,
    next: String,
    days: Vec<Day>,
}

#[derive(Deserialize)]
pub struct Range {
    date: Option<String>,
    view: Option<String>,
}

pub async fn show(
    State(app): State<App>,
    signed: Signed,
    Query(range): Query<Range>,
) -> Result<CalendarPage, Failure> {
    let user = signed.user.clone();
    let zone = blocking(&app, move |s| zone_of(s, &user)).await?;
    let today = NaiveDate::parse_from_str(&date_of(now(), zone), "%Y-%m-%d")
        .map_err(|e| Failure::internal(format!("the clock reads no date: {e}")))?;
    let anchor = match range.date.as_deref().filter(|d| !d.is_empty()) {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            Failure::bad_request(
                format!("{text:?} is not a date."),
                "Write the date as YYYY-MM-DD, or use the Previous and Next links.",
            )
        })?,
        None => today,
    };
    let month = range.view.as_deref() == Some("month");
    let (first, last, previous, next, heading) = if month {
        let first = anchor.with_day(1).unwrap_or(anchor);
        let last = first + Months::new(1) - Days::new(1);
        (
            first,
            last,
            first - Months::new(1),
            first + Months::new(1),
            first.format("%B %Y").to_string(),
        )
    } else {
        let first = anchor - Days::new(u64::from(anchor.weekday().num_days_from_monday()));
        let last = first + Days::new(6);
        (
            first,
            last,
            first - Days::new(7),
            first + Days::new(7),
            format!("Week of {}", first.format("%a %Y-%m-%d")),
        )
    };
    // Wide enough for the all-day events of the range, whose dates are UTC midnights.
    let start = day_start(first, zone).min(day_start(first, chrono_tz::UTC));
    let end = day_start(last + Days::new(1), zone).max(day_start(last, chrono_tz::UTC) + DAY);
    let user = signed.user.clone();
    let limits = app.config.limits.clone();
    let mut items = blocking(&app, move |s| {
        let mut found = Vec::new();
        for object in s.objects(&user)? {
            for o in occurrences(&object.ics, start, end, &limits) {
                found.push((o.start, object.calendar_id.clone(), o));
            }
        }
        Ok(found)
    })
    .await?;
    items.sort_by_key(|(start, _, _)| *start);
    let mut days = Vec::new();
    let mut day = first;
    while day <= last {
        let date = day.format("%Y-%m-%d").to_string();
        // A day of the user's zone; for an all-day event, the date itself.
        let local = (day_start(day, zone), day_start(day + Days::new(1), zone));
        let dated = (
            day_start(day, chrono_tz::UTC),
            day_start(day, chrono_tz::UTC) + DAY,
        );
        let day_items = items
            .iter()
            .filter(|(s, _, o)| {
                let (from, to) = if o.all_day { dated } else { local };
                *s < to && o.end.max(*s + 1) > from
            })
            .map(|(_, calendar, o)| Item {
                uid: o.summary.uid.clone(),
                time: if o.all_day {
                    "all day".into()
                } else {
                    format!("{}–{}", time_of(o.start, zone), time_of(o.end, zone))
                },
                title: if o.summary.summary.is_empty() {
                    "(no title)".into()
                } else {
                    o.summary.summary.clone()
                },
                location: o.summary.location.clone(),
                cancelled: o.cancelled(),
                calendar: calendar.clone(),
            })
            .collect();
        days.push(Day {
            label: day.format("%a %d %b").to_string(),
            today: day == today,
            date,
            items: day_items,
        });
        day = day + Days::new(1);
    }
    Ok(CalendarPage {
        nav: Nav::new(&signed, "calendar"),
        month,
        heading,
        zone: zone.name().to_string(),
        previous: previous.format("%Y-%m-%d").to_string(),
        next: next.format("%Y-%m-%d").to_string(),
        days,
    })
}
