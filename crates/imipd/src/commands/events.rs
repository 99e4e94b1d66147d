use super::require_user;
use crate::cli::EventsCmd;
use crate::config::Config;
use anyhow::{Context, Result, bail};
use imipd_calendar::{PartStat, summarize};
use imipd_lmtp::QueueId;
use imipd_scheduling::organize::{Organize, organize};
use imipd_scheduling::rsvp::{Rsvp, rsvp};
use imipd_store::Store;
use std::process::ExitCode;

pub fn run(config: &Config, store: &dyn Store, cmd: EventsCmd) -> Result<ExitCode> {
    match cmd {
        EventsCmd::List { user } => list(config, store, &user),
        EventsCmd::Rsvp {
            user,
            uid,
            answer,
            comment,
            instance,
        } => {
            let user = require_user(store, &user)?;
            let partstat = match PartStat::parse(&answer) {
                Some(p @ (PartStat::Accepted | PartStat::Declined | PartStat::Tentative)) => p,
                _ => bail!("answer {answer:?}: use accepted, declined or tentative"),
            };
            // Mail a user's own action makes has a queue id of its own, as a message would.
            let queue_id = QueueId::generate();
            let done = rsvp(
                store,
                &Rsvp {
                    user: &user,
                    uid: &uid,
                    partstat,
                    recurrence_id: instance.as_deref(),
                    comment: comment.as_deref(),
                },
                &config.calendar_limits(),
                crate::now(),
                queue_id.as_str(),
            )?;
            println!(
                "{user}: {} {uid}; reply queued as mail {} (queue id {queue_id})",
                partstat.as_str().to_ascii_lowercase(),
                done.mail_id
            );
            Ok(ExitCode::SUCCESS)
        }
        EventsCmd::Save { user, file } => {
            let ics = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            organizer(config, store, &user, &Organize::Save { ics: &ics })
        }
        EventsCmd::Cancel {
            user,
            uid,
            instance,
        } => organizer(
            config,
            store,
            &user,
            &Organize::Cancel {
                uid: &uid,
                recurrence_id: instance.as_deref(),
            },
        ),
    }
}

fn organizer(
    config: &Config,
    store: &dyn Store,
    user: &str,
    action: &Organize,
) -> Result<ExitCode> {
    let user = require_user(store, user)?;
    let queue_id = QueueId::generate();
    let done = organize(
        store,
        &user,
        action,
        &config.calendar_limits(),
        crate::now(),
        queue_id.as_str(),
    )?;
    let what = match action {
        Organize::Save { .. } => "saved",
        Organize::Cancel { .. } => "cancelled",
    };
    match done.mail_id {
        Some(id) => println!(
            "{user}: {} {what}; mail {id} queued for {} (queue id {queue_id})",
            done.change.uid,
            done.attendees.join(", ")
        ),
        None => println!("{user}: {} {what}; no attendees to tell", done.change.uid),
    }
    Ok(ExitCode::SUCCESS)
}

fn list(config: &Config, store: &dyn Store, user: &str) -> Result<ExitCode> {
    let user = require_user(store, user)?;
    let objects = store.objects(&user)?;
    if objects.is_empty() {
        println!("{user} has no events");
    }
    for object in objects {
        let events = match summarize(&object.ics, &config.calendar_limits()) {
            Ok(events) => events,
            Err(e) => {
                println!("{}  {}  (unreadable: {e})", object.calendar_id, object.uid);
                continue;
            }
        };
        for e in events {
            let attendees: Vec<String> = e
                .attendees
                .iter()
                .map(|(address, partstat)| format!("{address}={partstat}"))
                .collect();
            println!(
                "{}  {}{}  {}  {:?}  {}  attendees: {}",
                object.calendar_id,
                e.uid,
                e.recurrence_id
                    .map(|r| format!(" (instance {r})"))
                    .unwrap_or_default(),
                if e.start.is_empty() { "-" } else { &e.start },
                e.summary,
                if e.status.is_empty() { "-" } else { &e.status },
                if attendees.is_empty() {
                    "-".to_string()
                } else {
                    attendees.join(", ")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
