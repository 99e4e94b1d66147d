//! `imipd calendars …`: the calendars a user's invitations can go to.

use super::require_user;
use crate::cli::CalendarsCmd;
use anyhow::Result;
use imipd_store::Store;
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: CalendarsCmd) -> Result<ExitCode> {
    match cmd {
        CalendarsCmd::List { user } => {
            let user = require_user(store, &user)?;
            for c in store.calendars(&user)? {
                let default = if c.is_default { "  (default)" } else { "" };
                println!("{}  {:?}{default}", c.id, c.name);
            }
        }
        CalendarsCmd::Add { user, id, name } => {
            let user = require_user(store, &user)?;
            let calendar = store.create_calendar(&user, &id, name.as_deref().unwrap_or(&id))?;
            println!(
                "{user}: calendar {:?} ({:?}) created; file invitations into it with \
                 `imipd prefs set {user} calendar={}`",
                calendar.id, calendar.name, calendar.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
