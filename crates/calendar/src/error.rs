use thiserror::Error;

/// Why a calendar object could not be read or an iTIP message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ItipError {
    #[error("calendar object too large ({size} bytes, limit {limit} bytes)")]
    TooLarge { size: usize, limit: usize },
    #[error("calendar object has a line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("unparsable calendar object: {0}")]
    Unparsable(String),
    #[error("calendar object has more than {limit} components")]
    TooManyComponents { limit: usize },
    #[error("calendar object has more than {limit} properties")]
    TooManyProperties { limit: usize },
    #[error("calendar component has more than {limit} ATTENDEE properties")]
    TooManyAttendees { limit: usize },
    #[error("calendar components nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("calendar object has no VEVENT or VTODO (nor VJOURNAL or VFREEBUSY)")]
    NoComponent,
    #[error("calendar object has a component without UID")]
    MissingUid,
    #[error("calendar object mixes UIDs {0:?} and {1:?}; one object must hold one UID")]
    MixedUids(String, String),
    #[error("calendar object mixes {0} and {1} components; one object holds one type")]
    MixedComponents(String, String),
    #[error("recurrence rule refused: {0}")]
    Recurrence(String),
    #[error("event {uid} has no ORGANIZER; cannot build a scheduling message")]
    NoOrganizer { uid: String },
    #[error("the ORGANIZER of {uid} is {address}, not one of the user's addresses")]
    NotOrganizer { address: String, uid: String },
    #[error("{address} is not an ATTENDEE of {uid}")]
    NotAttendee { address: String, uid: String },
    #[error("event {uid} has no instance with RECURRENCE-ID {recurrence_id}")]
    NoSuchInstance { uid: String, recurrence_id: String },
}
