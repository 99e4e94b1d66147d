use super::require_user;
use crate::cli::ContactsCmd;
use anyhow::Result;
use imipd_store::Store;
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: ContactsCmd) -> Result<ExitCode> {
    match cmd {
        ContactsCmd::Add { user, address } => {
            let user = require_user(store, &user)?;
            store.add_contact(&user, &address)?;
            println!("{address} is a contact of {user}");
        }
        ContactsCmd::List { user } => {
            let user = require_user(store, &user)?;
            let contacts = store.contacts(&user)?;
            if contacts.is_empty() {
                println!("{user} has no contacts");
            }
            for c in contacts {
                println!("{c}");
            }
        }
        ContactsCmd::Del { user, address } => {
            let user = require_user(store, &user)?;
            if store.remove_contact(&user, &address)? {
                println!("removed {address} from {user}'s contacts");
            } else {
                anyhow::bail!(
                    "{address} is not a contact of {user} (see `imipd contacts list {user}`)"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
