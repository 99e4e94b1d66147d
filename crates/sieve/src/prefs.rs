//! Calendar preferences, set with `imipd prefs set KEY=VALUE`.

/// Which new invitations are added to the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddInvitations {
    /// From senders in the user's contacts.
    #[default]
    Contacts,
    Everyone,
    Never,
}

impl AddInvitations {
    fn as_str(self) -> &'static str {
        match self {
            AddInvitations::Contacts => "contacts",
            AddInvitations::Everyone => "everyone",
            AddInvitations::Never => "never",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    pub add_invitations: AddInvitations,
    /// Apply updates and cancellations to events already in the calendar.
    pub apply_updates: bool,
    /// Folder for calendar mail; `None` leaves it in INBOX.
    pub file_into: Option<String>,
    /// Calendar new events go to; `None` is the default calendar.
    pub calendar: Option<String>,
    /// Remove cancelled events instead of marking them cancelled.
    pub delete_cancelled: bool,
    /// The IANA zone the web page shows times in; `None` is UTC.
    pub time_zone: Option<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            add_invitations: AddInvitations::Contacts,
            apply_updates: true,
            file_into: None,
            calendar: None,
            delete_cancelled: false,
            time_zone: None,
        }
    }
}

/// A preference that cannot be set: names the key, the value and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefError {
    #[error(
        "unknown preference {key:?}; the keys are add_invitations, apply_updates, \
         file_into, calendar, delete_cancelled, time_zone"
    )]
    UnknownKey { key: String },
    #[error("preference {key} cannot be {value:?}; allowed: {allowed}")]
    BadValue {
        key: String,
        value: String,
        allowed: String,
    },
}

/// Folder and calendar names end up inside Sieve strings: keep them to one printable line.
const MAX_NAME_CHARS: usize = 200;

fn on_off(key: &str, value: &str) -> Result<bool, PrefError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(PrefError::BadValue {
            key: key.into(),
            value: value.into(),
            allowed: "on, off".into(),
        }),
    }
}

fn name(key: &str, value: &str, what: &str) -> Result<Option<String>, PrefError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().any(char::is_control)
        || value.contains('\\')
        || value.contains("${")
        || value.chars().count() > MAX_NAME_CHARS
    {
        return Err(PrefError::BadValue {
            key: key.into(),
            value: value.into(),
            allowed: format!(
                "a {what} of at most {MAX_NAME_CHARS} characters on one line, without \\ or \"${{\", \
                 or empty for none"
            ),
        });
    }
    Ok(Some(value.to_string()))
}

/// An IANA zone name as chrono-tz knows it, kept in its canonical spelling.
fn zone(key: &str, value: &str) -> Result<Option<String>, PrefError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<chrono_tz::Tz>() {
        Ok(tz) => Ok(Some(tz.name().to_string())),
        Err(_) => Err(PrefError::BadValue {
            key: key.into(),
            value: value.into(),
            allowed: "an IANA time zone name such as Europe/Berlin, or empty for UTC".into(),
        }),
    }
}

impl Prefs {
    /// The zone times are shown in: the preference, else UTC.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }

    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PrefError> {
        match key.trim() {
            "add_invitations" => {
                self.add_invitations = match value.trim().to_ascii_lowercase().as_str() {
                    "contacts" => AddInvitations::Contacts,
                    "everyone" => AddInvitations::Everyone,
                    "never" => AddInvitations::Never,
                    _ => {
                        return Err(PrefError::BadValue {
                            key: key.into(),
                            value: value.into(),
                            allowed: "contacts, everyone, never".into(),
                        });
                    }
                }
            }
            "apply_updates" => self.apply_updates = on_off(key, value)?,
            "delete_cancelled" => self.delete_cancelled = on_off(key, value)?,
            "file_into" => self.file_into = name(key, value, "folder name")?,
            "calendar" => self.calendar = name(key, value, "calendar id")?,
            "time_zone" => self.time_zone = zone(key, value)?,
            _ => {
                return Err(PrefError::UnknownKey { key: key.into() });
            }
        }
        Ok(())
    }

    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
        vec![
            (
                "add_invitations".into(),
                self.add_invitations.as_str().into(),
            ),
            ("apply_updates".into(), on_off(self.apply_updates)),
            (
                "file_into".into(),
                self.file_into.clone().unwrap_or_default(),
            ),
            ("calendar".into(), self.calendar.clone().unwrap_or_default()),
            ("delete_cancelled".into(), on_off(self.delete_cancelled)),
            (
                "time_zone".into(),
                self.time_zone.clone().unwrap_or_default(),
            ),
        ]
    }

    /// Preferences from stored pairs; keys not stored keep their defaults.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, PrefError> {
        let mut prefs = Prefs::default();
        for (key, value) in pairs {
            prefs.set(key, value)?;
        }
        Ok(prefs)
    }
}
