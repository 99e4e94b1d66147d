use super::require_user;
use crate::cli::UserCmd;
use anyhow::{Context, Result, bail};
use imipd_store::{Store, hash_password};
use std::io::BufRead;
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: UserCmd) -> Result<ExitCode> {
    match cmd {
        UserCmd::Add {
            email,
            password,
            password_stdin,
            aliases,
        } => {
            let password = given_password(password, password_stdin)?;
            if password.as_deref() == Some("") {
                bail!("the password is empty; leave out --password to create a user without one");
            }
            let hash = password.as_deref().map(hash_password).transpose()?;
            let user = store.create_user(&email, hash.as_deref())?;
            for alias in &aliases {
                if let Err(e) = store.add_alias(&user.name, alias) {
                    store.delete_user(&user.name)?;
                    return Err(e).context("user not created");
                }
            }
            let calendar = store.default_calendar(&user.name)?;
            println!(
                "created {} (calendar {:?}{})",
                user.name,
                calendar.id,
                if aliases.is_empty() {
                    String::new()
                } else {
                    format!(", aliases {}", aliases.join(", "))
                }
            );
        }
        UserCmd::Passwd {
            email,
            password,
            password_stdin,
        } => {
            let user = require_user(store, &email)?;
            let password = given_password(password, password_stdin)?.unwrap_or_default();
            if password.is_empty() {
                bail!("the password is empty; give a new one with --password or --password-stdin");
            }
            store.set_password_hash(&user, Some(&hash_password(&password)?))?;
            println!("password of {user} changed");
        }
        UserCmd::List => {
            let users = store.list_users()?;
            if users.is_empty() {
                println!("no users (add one with `imipd user add EMAIL`)");
            }
            for u in users {
                let aliases = if u.aliases.is_empty() {
                    String::new()
                } else {
                    format!("  aliases: {}", u.aliases.join(", "))
                };
                let password = if u.has_password {
                    ""
                } else {
                    "  (no password)"
                };
                println!("{}{aliases}{password}", u.name);
            }
        }
        UserCmd::Del { email } => {
            let user = require_user(store, &email)?;
            store.delete_user(&user)?;
            println!("deleted {user}");
        }
        UserCmd::AliasAdd { email, alias } => {
            let user = require_user(store, &email)?;
            store.add_alias(&user, &alias)?;
            println!("{alias} now delivers to {user}");
        }
        UserCmd::AliasDel { email, alias } => {
            let user = require_user(store, &email)?;
            let aliases = store.user(&user)?.map(|u| u.aliases).unwrap_or_default();
            let alias_name = imipd_store::normalize_address(&alias);
            if !aliases.contains(&alias_name) {
                bail!(
                    "{alias} is not an alias of {user} (its aliases: {}); nothing removed",
                    if aliases.is_empty() {
                        "none".to_string()
                    } else {
                        aliases.join(", ")
                    }
                );
            }
            store.remove_alias(&user, &alias_name)?;
            println!("removed alias {alias_name} from {user}");
        }
        UserCmd::AppPassword(cmd) => super::app_passwords::run(store, cmd)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The password from `--password`, or one line of standard input with `--password-stdin`.
fn given_password(password: Option<String>, from_stdin: bool) -> Result<Option<String>> {
    if !from_stdin {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}
