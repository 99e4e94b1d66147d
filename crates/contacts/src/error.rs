use thiserror::Error;

/// Why a text is not a vCard an address book accepts. Each says what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    #[error("vCard too large ({size} bytes, limit {limit} bytes)")]
    TooLarge { size: usize, limit: usize },
    #[error("not a vCard: {0}")]
    NotAVCard(String),
    #[error("vCard has a line that is not a property: {0:?}")]
    InvalidLine(String),
    #[error("vCard is not ended (no END:VCARD line)")]
    Unterminated,
    #[error("a BEGIN line inside the vCard (nested vCards are not accepted)")]
    Nested,
    #[error("more than one vCard; an address book entry holds exactly one")]
    SeveralCards,
    #[error("text after END:VCARD: {0:?}")]
    TrailingText(String),
    #[error("vCard has no VERSION property (use VERSION:3.0 or VERSION:4.0)")]
    NoVersion,
    #[error("vCard version {0} is not accepted (use VERSION:3.0 or VERSION:4.0)")]
    UnsupportedVersion(String),
    #[error("vCard has no UID property (every address book entry needs one)")]
    NoUid,
    #[error("vCard has no FN property (every vCard needs a formatted name)")]
    NoFormattedName,
    #[error("a contact needs an email address")]
    NoEmail,
    #[error("vCard has {count} EMAIL properties (limit {limit})")]
    TooManyEmails { count: usize, limit: usize },
}
