//! One file per command group; each opens what it needs and prints for a human.

mod app_passwords;
mod auth;
mod calendars;
mod contacts;
mod events;
mod explain;
mod itip;
mod jobs;
mod sieve;
mod users;

pub use sieve::default_script;

use crate::cli::{Cli, Command, ItipCmd, UserCmd};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use imipd_store::{SqliteStore, Store};
use std::path::Path;
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
    let db = config.database_path();
    let result = match cli.command {
        Command::Serve => crate::serve::run(config),
        Command::User(cmd @ UserCmd::Add { .. }) => users::run(&open_store(&config)?, cmd),
        Command::User(cmd) => users::run(&open_existing(&config)?, cmd),
        Command::Calendars(cmd) => calendars::run(&open_existing(&config)?, cmd),
        Command::Jobs(cmd) => jobs::run(&open_existing(&config)?, cmd),
        Command::Mail(cmd) => jobs::run_mail(&open_existing(&config)?, cmd),
        Command::Contacts(cmd) => contacts::run(&open_existing(&config)?, cmd),
        Command::Events(cmd) => events::run(&config, &open_existing(&config)?, cmd),
        Command::Sieve(cmd) => sieve::run_sieve(&open_existing(&config)?, cmd),
        Command::Prefs(cmd) => sieve::run_prefs(&open_existing(&config)?, cmd),
        Command::Auth(cmd) => auth::run(&config, cmd),
        Command::Itip(ItipCmd::Apply(args)) => itip::apply_files(args),
        Command::Itip(ItipCmd::Explain { mail, user }) => {
            let store = std::sync::Arc::new(open_existing(&config)?);
            explain::explain(&config, store, &mail, &user)
        }
    };
    result.map_err(|e| match e.downcast_ref::<imipd_store::Error>() {
        Some(imipd_store::Error::NoSuchUser(user)) => no_such_user(user, &db),
        _ => e,
    })
}

/// Opens the database, creating the data directory and the database on first use: only
/// `serve` and `user add` do.
pub fn open_store(config: &Config) -> Result<SqliteStore> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create data directory {} (set data_dir in the config or IMIPD_DATA_DIR)",
            config.data_dir.display()
        )
    })?;
    Ok(SqliteStore::open(config.database_path())?)
}

/// Opens the database only if it exists: a command run in the wrong directory, or with
/// the wrong config, says so instead of creating an empty database there.
pub fn open_existing(config: &Config) -> Result<SqliteStore> {
    let path = config.database_path();
    if !path.is_file() {
        bail!(
            "no database at {} (run the command where `imipd user add` created it, or \
             point data_dir in the config, IMIPD_DATA_DIR or --config at it)",
            path.display()
        );
    }
    Ok(SqliteStore::open(path)?)
}

/// The one wording for a user that is not there, naming the database looked in.
fn no_such_user(user: &str, db: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "no such user {user} in {} (see `imipd user list`)",
        db.display()
    )
}

/// The canonical name of the user `user` names (an alias or a +tag works too).
pub fn require_user(store: &dyn Store, user: &str) -> Result<String> {
    match store.resolve_address(user)? {
        Some(name) => Ok(name),
        None => Err(imipd_store::Error::NoSuchUser(user.to_string()).into()),
    }
}
