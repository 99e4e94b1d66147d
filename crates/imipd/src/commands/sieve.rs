//! `imipd sieve …` and `imipd prefs …`: the user's own rules and the preferences that
//! generate the section above them. Both write the whole script in one transaction.

use super::require_user;
use crate::cli::{PrefsCmd, SieveCmd};
use anyhow::{Context, Result, bail};
use imipd_sieve::{Prefs, compile, generate_section, splice, user_section};
use imipd_store::Store;
use std::process::ExitCode;

/// The script of a user who never set preferences or rules.
pub fn default_script() -> String {
    splice(&generate_section(&Prefs::default()), "")
}

/// The script that runs at delivery for `user`.
pub fn effective_script(store: &dyn Store, user: &str) -> Result<String> {
    Ok(store.sieve_script(user)?.unwrap_or_else(default_script))
}

pub(super) fn prefs_of(store: &dyn Store, user: &str) -> Result<Prefs> {
    Prefs::from_pairs(&store.prefs(user)?).with_context(|| {
        format!("stored preferences of {user} are invalid; reset them with `imipd prefs set`")
    })
}

pub fn run_sieve(store: &dyn Store, cmd: SieveCmd) -> Result<ExitCode> {
    match cmd {
        SieveCmd::Show { user } => {
            let user = require_user(store, &user)?;
            print!("{}", effective_script(store, &user)?);
        }
        SieveCmd::Check { user } => {
            let user = require_user(store, &user)?;
            let script = effective_script(store, &user)?;
            if let Err(e) = compile(&script) {
                eprintln!("{user}: the Sieve script does not compile: {e}");
                eprintln!("(see it with `imipd sieve show {user}`, fix it with `imipd sieve set`)");
                return Ok(ExitCode::from(1));
            }
            println!("{user}: the Sieve script compiles");
        }
        SieveCmd::Set { user, file } => {
            let user = require_user(store, &user)?;
            let own = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            // Errors are reported at the lines of the user's own file, not the spliced one.
            if let Err(e) = compile(&own) {
                bail!("{}: {e}; nothing changed", file.display());
            }
            let prefs = prefs_of(store, &user)?;
            let script = splice(&generate_section(&prefs), &own);
            if let Err(e) = compile(&script) {
                bail!(
                    "{} compiles alone but not after the generated section ({e}); nothing changed",
                    file.display()
                );
            }
            store.set_prefs_and_script(&user, &prefs.to_pairs(), &script)?;
            println!("{user}: Sieve rules set from {}", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_prefs(store: &dyn Store, cmd: PrefsCmd) -> Result<ExitCode> {
    match cmd {
        PrefsCmd::Show { user } => {
            let user = require_user(store, &user)?;
            for (key, value) in prefs_of(store, &user)?.to_pairs() {
                println!("{key} = {value}");
            }
        }
        PrefsCmd::Set { user, settings } => {
            let user = require_user(store, &user)?;
            let mut prefs = prefs_of(store, &user)?;
            for setting in &settings {
                let Some((key, value)) = setting.split_once('=') else {
                    bail!("{setting:?} is not KEY=VALUE (e.g. apply_updates=off)");
                };
                prefs.set(key.trim(), value.trim())?;
            }
            // The default calendar exists from its first use on; make sure it is there.
            store.default_calendar(&user)?;
            if let Some(id) = &prefs.calendar
                && !store.calendars(&user)?.iter().any(|c| &c.id == id)
            {
                bail!("{user} has no calendar {id:?}; nothing changed");
            }
            let own = user_section(&effective_script(store, &user)?);
            let script = splice(&generate_section(&prefs), &own);
            if let Err(e) = compile(&script) {
                bail!("the generated script does not compile ({e}); nothing changed");
            }
            store.set_prefs_and_script(&user, &prefs.to_pairs(), &script)?;
            for (key, value) in prefs.to_pairs() {
                println!("{key} = {value}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
