//! `imipd sieve …` and `imipd prefs …`: the user's own rules and the preferences that
//! generate the section above them (see [`imipd_sieve::set_prefs`]).

use super::require_user;
use crate::cli::{PrefsCmd, SieveCmd};
use anyhow::{Context, Result, bail};
use imipd_sieve::{SettingsError, compile, effective_script, prefs_of, set_own_section, set_prefs};
use imipd_store::Store;
use std::process::ExitCode;

pub use imipd_sieve::default_script;

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
            match set_own_section(store, &user, &own) {
                Ok(()) => {}
                Err(e @ SettingsError::Own(_)) => bail!("{}: {e}", file.display()),
                Err(SettingsError::Spliced(e)) => bail!(
                    "{} compiles alone but not after the generated section ({e}); nothing changed",
                    file.display()
                ),
                Err(e) => return Err(e.into()),
            }
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
            set_prefs(store, &user, &prefs)?;
            for (key, value) in prefs.to_pairs() {
                println!("{key} = {value}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
