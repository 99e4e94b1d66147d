//! `imipd itip explain MAIL --user USER`: the answer to "why didn't this invitation
//! apply?". Runs detection, the authentication and spam facts, the user's Sieve script and
//! the calendar core on one mail, against the user's stored calendars, writing nothing.

use crate::config::Config;
use anyhow::{Context, Result};
use imipd_calendar::{Change, Outcome};
use imipd_delivery::detect;
use imipd_delivery::filter::unprocessed_reason;
use imipd_delivery::maildir::Maildir;
use imipd_delivery::{Pipeline, Sink};
use imipd_lmtp::Recipient;
use imipd_sieve::CalendarJob;
use imipd_store::Store;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::Notify;

pub fn explain(
    config: &Config,
    store: Arc<dyn Store>,
    mail: &Path,
    user: &str,
) -> Result<ExitCode> {
    let message = std::fs::read(mail).with_context(|| format!("cannot read {}", mail.display()))?;
    let canonical = super::require_user(&*store, user)?;
    let pipeline = Pipeline::new(
        config.delivery(),
        store,
        Sink::Maildir(Maildir::new(config.maildir_root())),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let message = imipd_message::normalize(&message);
    let view = detect::scan(&message, "", &pipeline.detect, &config.trusted_authserv_ids);
    let mut sieve = imipd_message::SieveView::new(&view);
    let rcpt = Recipient {
        address: user.to_string(),
        user: canonical,
    };
    let seen = pipeline.recipient_view(&view, &rcpt);

    eprintln!("detection:");
    let calendar = &view.calendar;
    match (
        &calendar.invitation,
        &calendar.error,
        calendar.had_calendar_part,
    ) {
        (Some(inv), _, _) => eprintln!("  METHOD:{} UID {}", inv.method, inv.uid),
        (None, Some(e), _) => eprintln!("  calendar part not usable: {e}"),
        (None, None, true) => eprintln!("  calendar part without METHOD: not an invitation"),
        (None, None, false) => eprintln!("  no calendar part"),
    }
    for line in seen.headers.lines() {
        eprintln!("  {line}");
    }
    let info = &view.facts;
    eprintln!("facts:");
    eprintln!("  from: {}", info.from.as_deref().unwrap_or("(none)"));
    match &info.unauthenticated {
        None => eprintln!(
            "  authenticated: yes (DMARC pass for the From domain from trusted authserv-id {:?})",
            config.trusted_authserv_ids
        ),
        Some(why) => eprintln!("  authenticated: no ({why})"),
    }
    eprintln!("  spam: {}", if info.spam { "yes" } else { "no" });

    let evaluated = pipeline
        .evaluate(&view, &mut sieve, &seen, &rcpt)
        .map_err(anyhow::Error::msg)?;
    let result = &evaluated.result;
    eprintln!("sieve:");
    for e in &result.errors {
        eprintln!("  error: {e}");
    }
    if result.deliveries.is_empty() {
        eprintln!("  discard");
    }
    for d in &result.deliveries {
        eprintln!(
            "  deliver to {}{}",
            d.folder.as_deref().unwrap_or("INBOX"),
            if d.flags.is_empty() {
                String::new()
            } else {
                format!(" with flags {}", d.flags.join(" "))
            }
        );
    }
    for to in &result.redirects {
        eprintln!("  redirect to {to}");
    }
    if let Some(e) = &result.unavailable {
        eprintln!("  error: {e}");
    }
    if result.calendar_jobs.is_empty() {
        eprintln!("  no calendar action");
        let unprocessed = (view.calendar.invitation.is_some() && result.outcome.is_none())
            .then(|| Outcome::no_action(unprocessed_reason(info)));
        if let Some(o) = result.outcome.as_ref().or(unprocessed.as_ref()) {
            eprintln!("outcome: {o}");
        }
    }
    let decisions = evaluated.decisions(&pipeline, &view, &seen, &rcpt);
    for (job, (_, decided)) in result.calendar_jobs.iter().zip(decisions) {
        eprintln!("  calendar action: {}", describe(job));
        eprintln!("outcome: {}", decided.outcome);
        match decided.change {
            Change::Put(ics) => print!("{ics}"),
            Change::Delete => eprintln!("result: the stored event would be deleted"),
            Change::None => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(job: &CalendarJob) -> String {
    match job {
        CalendarJob::Process(r) => {
            let mut s = String::from("processcalendar");
            if r.allow_public {
                s.push_str(" :allowpublic");
            }
            if r.updates_only {
                s.push_str(" :updatesonly");
            }
            if let Some(id) = &r.calendar_id {
                s.push_str(&format!(" :calendarid {id:?}"));
            }
            if r.delete_cancelled {
                s.push_str(" :deletecancelled");
            }
            s
        }
        CalendarJob::AddCal { calendar_id } => match calendar_id {
            Some(id) => format!("notify addcal (calendar {id:?})"),
            None => "notify addcal".into(),
        },
        CalendarJob::UpdateCal => "notify updatecal".into(),
    }
}
