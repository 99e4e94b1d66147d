use super::require_user;
use crate::cli::ContactsCmd;
use anyhow::{Context, Result, bail};
use imipd_contacts::{Card, new_uid, split};
use imipd_store::{AddressBookError, Error, Expect, Store, card_href_for_uid};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: ContactsCmd) -> Result<ExitCode> {
    match cmd {
        ContactsCmd::Add { user, address } => {
            let user = require_user(store, &user)?;
            if store.add_contact(&user, &address)? {
                println!("{address} is a contact of {user}");
            } else {
                println!("{address} is a contact of {user} already");
            }
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
                bail!("{address} is not a contact of {user} (see `imipd contacts list {user}`)");
            }
        }
        ContactsCmd::Import { user, file } => {
            let user = require_user(store, &user)?;
            return import(store, &user, &file);
        }
        ContactsCmd::Export { user } => {
            let user = require_user(store, &user)?;
            export(store, &user)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What importing one card did.
enum Imported {
    Added { uid_assigned: bool },
    Updated,
    Unchanged,
    Refused(String),
}

/// The one wording of an import's line for a card.
fn render(number: usize, line: usize, card: Option<&Card>, imported: &Imported) -> String {
    let what = match card {
        Some(card) if card.emails().is_empty() => format!("{} (no EMAIL)", card.formatted_name()),
        Some(card) => format!("{} <{}>", card.formatted_name(), card.emails().join(">, <")),
        None => String::new(),
    };
    let outcome = match imported {
        Imported::Added {
            uid_assigned: false,
        } => format!("added {what}"),
        Imported::Added { uid_assigned: true } => format!(
            "added {what}, with the UID {} (it had none)",
            card.map_or("", Card::uid)
        ),
        Imported::Updated => format!("updated {what} (same UID, new text)"),
        Imported::Unchanged => format!("unchanged {what}"),
        Imported::Refused(reason) => format!("refused: {reason}"),
    };
    format!("card {number} (line {line}): {outcome}")
}

fn import(store: &dyn Store, user: &str, file: &Path) -> Result<ExitCode> {
    let mut bytes = Vec::new();
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        bail!(
            "{} is not UTF-8 text; vCards are UTF-8 (convert it, e.g. with iconv -t UTF-8)",
            file.display()
        );
    };
    let pieces = split(&text);
    if pieces.is_empty() {
        bail!("no vCards in {}", file.display());
    }
    let book = store.default_address_book(user)?;
    let (mut added, mut updated, mut unchanged, mut refused) = (0, 0, 0, 0);
    for (i, piece) in pieces.iter().enumerate() {
        let (card, imported) = match Card::parse_assigning_uid(piece.text) {
            Ok((card, uid_assigned)) => {
                let imported = import_card(store, user, &book.id, &card, uid_assigned)?;
                (Some(card), imported)
            }
            Err(e) => (None, Imported::Refused(e.to_string())),
        };
        match imported {
            Imported::Added { .. } => added += 1,
            Imported::Updated => updated += 1,
            Imported::Unchanged => unchanged += 1,
            Imported::Refused(_) => refused += 1,
        }
        println!("{}", render(i + 1, piece.line, card.as_ref(), &imported));
    }
    println!(
        "{user}, address book {:?}: {added} added, {updated} updated, {unchanged} unchanged, \
         {refused} refused, of {} in {}",
        book.name,
        pieces.len(),
        file.display()
    );
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes one card: over the card with its UID if there is one, else under a new name.
fn import_card(
    store: &dyn Store,
    user: &str,
    book: &str,
    card: &Card,
    uid_assigned: bool,
) -> Result<Imported> {
    let written = match store.card_by_uid(user, book, card.uid())? {
        Some(stored) if stored.vcard == card.text() => return Ok(Imported::Unchanged),
        Some(stored) => store
            .put_card(
                user,
                book,
                &stored.href,
                card,
                Expect::Modseq(stored.modseq),
            )
            .map(|_| Imported::Updated),
        None => {
            let mut href = card_href_for_uid(card.uid());
            // The name holds a client's card with another UID: take a fresh one.
            if store.card(user, book, &href)?.is_some() {
                href = card_href_for_uid(&new_uid());
            }
            store
                .put_card(user, book, &href, card, Expect::MustNotExist)
                .map(|_| Imported::Added { uid_assigned })
        }
    };
    match written {
        Ok(imported) => Ok(imported),
        // Another writer got there between the read and the write.
        Err(Error::AddressBook(e @ AddressBookError::Conflict(_))) => {
            Ok(Imported::Refused(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

fn export(store: &dyn Store, user: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut count = 0;
    for book in store.address_books(user)? {
        for card in store.cards(user, &book.id)? {
            out.write_all(card.vcard.as_bytes())?;
            if !card.vcard.ends_with('\n') {
                out.write_all(b"\r\n")?;
            }
            count += 1;
        }
    }
    out.flush()?;
    if count == 0 {
        eprintln!("{user} has no cards");
    }
    Ok(())
}
