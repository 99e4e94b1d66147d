//! One file per command group; each opens what it needs and prints for a human.

mod contacts;
mod events;
mod explain;
mod itip;
mod jobs;
mod sieve;
mod users;

pub use sieve::default_script;

use crate::cli::{Cli, Command, ItipCmd};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use imipd_store::{SqliteStore, Store};
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
    match cli.command {
        Command::Serve => crate::serve::run(config),
        Command::User(cmd) => users::run(&open_store(&config)?, cmd),
        Command::Jobs(cmd) => jobs::run(&open_store(&config)?, cmd),
        Command::Mail(cmd) => jobs::run_mail(&open_store(&config)?, cmd),
        Command::Contacts(cmd) => contacts::run(&open_store(&config)?, cmd),
        Command::Events(cmd) => events::run(&config, &open_store(&config)?, cmd),
        Command::Sieve(cmd) => sieve::run_sieve(&open_store(&config)?, cmd),
        Command::Prefs(cmd) => sieve::run_prefs(&open_store(&config)?, cmd),
        Command::Itip(ItipCmd::Apply(args)) => itip::apply_files(args),
        Command::Itip(ItipCmd::Explain { mail, user }) => {
            let store = std::sync::Arc::new(open_store(&config)?);
            explain::explain(&config, store, &mail, &user)
        }
    }
}

/// Opens the database, creating the data directory on first use.
pub fn open_store(config: &Config) -> Result<SqliteStore> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create data directory {} (set data_dir in the config or IMIPD_DATA_DIR)",
            config.data_dir.display()
        )
    })?;
    Ok(SqliteStore::open(config.database_path())?)
}

/// The canonical name of the user `user` names (an alias or a +tag works too).
pub fn require_user(store: &dyn Store, user: &str) -> Result<String> {
    match store.resolve_address(user)? {
        Some(name) => Ok(name),
        None => bail!("no user {user} (see `imipd user list`)"),
    }
}
