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
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                password
            };
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
            store.delete_user(&email)?;
            println!("deleted {email}");
        }
        UserCmd::AliasAdd { email, alias } => {
            store.add_alias(&email, &alias)?;
            println!("{alias} now delivers to {email}");
        }
        UserCmd::AliasDel { email, alias } => {
            store.remove_alias(&email, &alias)?;
            println!("removed alias {alias} from {email}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
