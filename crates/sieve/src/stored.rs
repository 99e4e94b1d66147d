//! A user's preferences and script as the store keeps them: read, and changed in one
//! transaction so the generated section never disagrees with the preferences. The command
//! line and the web page both change them through here.

use crate::compile::{CompileError, compile};
use crate::generate::{generate_section, splice, user_section};
use crate::prefs::{PrefError, Prefs};
use imipd_store::Store;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "stored preferences of {user} are invalid ({source}); reset them with `imipd prefs set`"
    )]
    StoredPrefs { user: String, source: PrefError },
    #[error("{0}")]
    Pref(#[from] PrefError),
    #[error("{user} has no calendar {id:?}; nothing changed")]
    NoCalendar { user: String, id: String },
    /// At the line of the user's own section.
    #[error("{0}; nothing changed")]
    Own(CompileError),
    #[error("your rules compile alone but not after the generated section ({0}); nothing changed")]
    Spliced(CompileError),
    #[error("the generated script does not compile ({0}); nothing changed")]
    Generated(CompileError),
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// The script of a user who never set preferences or rules.
pub fn default_script() -> String {
    splice(&generate_section(&Prefs::default()), "")
}

/// The script that runs at delivery for `user`.
pub fn effective_script(store: &dyn Store, user: &str) -> Result<String, SettingsError> {
    Ok(store.sieve_script(user)?.unwrap_or_else(default_script))
}

pub fn prefs_of(store: &dyn Store, user: &str) -> Result<Prefs, SettingsError> {
    Prefs::from_pairs(&store.prefs(user)?).map_err(|source| SettingsError::StoredPrefs {
        user: user.to_string(),
        source,
    })
}

/// Stores new preferences and the script they generate around the user's own section.
pub fn set_prefs(store: &dyn Store, user: &str, prefs: &Prefs) -> Result<(), SettingsError> {
    // The default calendar exists from its first use on; make sure it is there.
    store.default_calendar(user)?;
    if let Some(id) = &prefs.calendar
        && !store.calendars(user)?.iter().any(|c| &c.id == id)
    {
        return Err(SettingsError::NoCalendar {
            user: user.to_string(),
            id: id.clone(),
        });
    }
    let own = user_section(&effective_script(store, user)?);
    let script = splice(&generate_section(prefs), &own);
    compile(&script).map_err(SettingsError::Generated)?;
    store.set_prefs_and_script(user, &prefs.to_pairs(), &script)?;
    Ok(())
}

/// Stores the user's own section under the generated one. Errors are at the lines of
/// `own`, not of the spliced script.
pub fn set_own_section(store: &dyn Store, user: &str, own: &str) -> Result<(), SettingsError> {
    compile(own).map_err(SettingsError::Own)?;
    let prefs = prefs_of(store, user)?;
    let script = splice(&generate_section(&prefs), own);
    compile(&script).map_err(SettingsError::Spliced)?;
    store.set_prefs_and_script(user, &prefs.to_pairs(), &script)?;
    Ok(())
}
