//! `imipd calendars …`: the calendars a user's invitations can go to.

use super::require_user;
use crate::cli::CalendarsCmd;
use anyhow::{Result, bail};
use imipd_store::{Calendar, CalendarProps, DEFAULT_COMPONENTS, Store};
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: CalendarsCmd) -> Result<ExitCode> {
    match cmd {
        CalendarsCmd::List { user } => {
            let user = require_user(store, &user)?;
            for c in store.calendars(&user)? {
                println!("{}", line(&c));
            }
        }
        CalendarsCmd::Add {
            user,
            id,
            name,
            description,
            color,
            timezone,
            components,
        } => {
            let user = require_user(store, &user)?;
            let props = CalendarProps {
                name,
                description,
                color,
                timezone,
                components,
            };
            let calendar = store.create_calendar(&user, &id, &props)?;
            println!(
                "{user}: calendar {:?} ({:?}) created; file invitations into it with \
                 `imipd prefs set {user} calendar={}`",
                calendar.id, calendar.name, calendar.id
            );
        }
        CalendarsCmd::Rename { user, id, name } => {
            let user = require_user(store, &user)?;
            let calendar = store.update_calendar(&user, &id, &CalendarProps::named(&name))?;
            println!(
                "{user}: calendar {:?} is now {:?}",
                calendar.id, calendar.name
            );
        }
        CalendarsCmd::Default { user, id } => {
            let user = require_user(store, &user)?;
            store.set_default_calendar(&user, &id)?;
            println!("{user}: new invitations go to calendar {id:?}");
        }
        CalendarsCmd::Del { user, id } => {
            let user = require_user(store, &user)?;
            // The preferences compile to Sieve that names the calendar: deleting it would
            // turn every invitation into an error.
            if imipd_sieve::prefs_of(store, &user)?.calendar.as_deref() == Some(id.as_str()) {
                bail!(
                    "the preferences of {user} file new invitations into calendar {id:?}; \
                     point them elsewhere first (`imipd prefs set {user} calendar=ID`, or \
                     `calendar=` for the default calendar); nothing deleted"
                );
            }
            let name = store
                .calendars(&user)?
                .into_iter()
                .find(|c| c.id == id)
                .map(|c| c.name);
            let events = store.delete_calendar(&user, &id)?;
            let count = match events {
                1 => "1 event".to_string(),
                n => format!("{n} events"),
            };
            println!(
                "{user}: deleted calendar {id:?} ({:?}) and the {count} in it",
                name.unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One calendar as `calendars list` shows it: id, name, then what is set.
fn line(c: &Calendar) -> String {
    let mut line = format!("{}  {:?}", c.id, c.name);
    if c.is_default {
        line.push_str("  (default)");
    }
    let set = [
        ("color", c.color.clone()),
        ("timezone", c.timezone.clone()),
        (
            "components",
            (c.components != DEFAULT_COMPONENTS).then(|| c.components.join(",")),
        ),
        (
            "description",
            c.description.as_ref().map(|d| format!("{d:?}")),
        ),
    ];
    for (key, value) in set {
        if let Some(value) = value {
            line.push_str(&format!("  {key}={value}"));
        }
    }
    line
}
