use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot open database {path}: {source} (check that the data directory exists and is writable)"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("no such user {0:?} (list users with `imipd user list`)")]
    NoSuchUser(String),
    #[error("address {address:?} already belongs to user {owner:?}")]
    AddressTaken { address: String, owner: String },
    #[error("invalid address {0:?}: expected local@domain")]
    InvalidAddress(String),
    #[error(transparent)]
    AddressBook(#[from] crate::AddressBookError),
    #[error("no such calendar {0:?}")]
    NoSuchCalendar(String),
    #[error("calendar {0:?} exists already")]
    CalendarExists(String),
    #[error("invalid calendar {0}")]
    InvalidCalendar(String),
    #[error(
        "calendar {id:?} is the default calendar of {user}, where new invitations go, and \
         cannot be deleted; make another calendar the default first (`imipd calendars default \
         {user} ID`)"
    )]
    DefaultCalendar { user: String, id: String },
    /// A write whose precondition no longer holds; nothing in its batch was committed.
    #[error("{0}")]
    Conflict(Box<crate::Conflict>),
    /// A sync token from before the calendar's oldest kept change, or one never given out.
    #[error(
        "sync token {token} is unknown or too old for calendar {calendar_id:?}: sync it again \
         from the start"
    )]
    InvalidSyncToken { calendar_id: String, token: i64 },
    #[error("job {0} is no longer leased by this worker (another worker took it over)")]
    LeaseLost(i64),
    #[error(
        "database {path} {what} since imipd opened it; nothing is accepted until imipd is \
         restarted on the right file (restore it from a backup, or fix data_dir)"
    )]
    Replaced { path: PathBuf, what: &'static str },
    #[error(
        "database {path} is not writable by this process: {source} (it and its directory \
         must belong to the user imipd runs as)"
    )]
    NotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("password hashing failed: {0}")]
    Password(String),
    #[error("app password refused: {0}")]
    InvalidAppPassword(String),
    #[error(
        "{user} has an app password labelled {label:?} already; choose another label or \
         revoke it first (`imipd user app-password revoke {user} {label:?}`)"
    )]
    AppPasswordExists { user: String, label: String },
    #[error("{user} has no app password labelled {label:?} (its app passwords: {labels})")]
    NoSuchAppPassword {
        user: String,
        label: String,
        labels: String,
    },
}
