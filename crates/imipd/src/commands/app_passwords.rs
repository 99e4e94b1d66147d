//! `imipd user app-password`: the store's app password functions, printed.

use super::require_user;
use crate::cli::AppPasswordCmd;
use anyhow::Result;
use imipd_store::{Store, issue_app_password, list_app_passwords, revoke_app_password};

pub fn run(store: &dyn Store, cmd: AppPasswordCmd) -> Result<()> {
    match cmd {
        AppPasswordCmd::Add { email, label } => {
            let user = require_user(store, &email)?;
            let issued = issue_app_password(store, &user, &label)?;
            println!("{}", issued.password);
            eprintln!(
                "app password {:?} of {user}: type it into the app instead of your password; \
                 it is not shown again",
                issued.label
            );
        }
        AppPasswordCmd::List { email } => {
            let user = require_user(store, &email)?;
            let passwords = list_app_passwords(store, &user)?;
            if passwords.is_empty() {
                println!(
                    "{user} has no app passwords (add one with `imipd user app-password add {user} LABEL`)"
                );
            }
            for p in passwords {
                let used = p.last_used.map_or("never".to_string(), utc);
                println!("{}\tcreated {}\tlast used {used}", p.label, utc(p.created));
            }
        }
        AppPasswordCmd::Revoke { email, label } => {
            let user = require_user(store, &email)?;
            revoke_app_password(store, &user, &label)?;
            println!("revoked app password {:?} of {user}", label.trim());
        }
    }
    Ok(())
}

/// Unix seconds as a UTC minute, e.g. `2026-12-02 05:30 UTC`.
fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || secs.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}
