//! The cheap first look at a calendar part that detection needs: METHOD and UID.

use crate::message::Read;
use crate::model::{self, Comp};
use crate::{ItipError, Limits};
use calcard::icalendar::{ICalendarMethod, ICalendarProperty, ICalendarValue};
use std::fmt;

/// An iTIP method (RFC 5546 section 1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Publish,
    Request,
    Reply,
    Add,
    Cancel,
    Refresh,
    Counter,
    DeclineCounter,
}

impl Method {
    /// The method as written in `X-ME-Cal-Method`: lower case.
    pub fn as_lower(self) -> &'static str {
        match self {
            Method::Publish => "publish",
            Method::Request => "request",
            Method::Reply => "reply",
            Method::Add => "add",
            Method::Cancel => "cancel",
            Method::Refresh => "refresh",
            Method::Counter => "counter",
            Method::DeclineCounter => "declinecounter",
        }
    }

    /// The method as written in iCalendar's METHOD property: upper case.
    pub fn as_upper(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Reply => "REPLY",
            Method::Add => "ADD",
            Method::Cancel => "CANCEL",
            Method::Refresh => "REFRESH",
            Method::Counter => "COUNTER",
            Method::DeclineCounter => "DECLINECOUNTER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "PUBLISH" => Method::Publish,
            "REQUEST" => Method::Request,
            "REPLY" => Method::Reply,
            "ADD" => Method::Add,
            "CANCEL" => Method::Cancel,
            "REFRESH" => Method::Refresh,
            "COUNTER" => Method::Counter,
            "DECLINECOUNTER" => Method::DeclineCounter,
            _ => return None,
        })
    }

    pub(crate) fn from_calcard(m: &ICalendarMethod) -> Self {
        match m {
            ICalendarMethod::Publish => Method::Publish,
            ICalendarMethod::Request => Method::Request,
            ICalendarMethod::Reply => Method::Reply,
            ICalendarMethod::Add => Method::Add,
            ICalendarMethod::Cancel => Method::Cancel,
            ICalendarMethod::Refresh => Method::Refresh,
            ICalendarMethod::Counter => Method::Counter,
            ICalendarMethod::Declinecounter => Method::DeclineCounter,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_upper())
    }
}

/// What detection needs to know about a calendar part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    /// `None`: a calendar object but not an iTIP message.
    pub method: Option<Method>,
    /// The UID of the calendar's components (the one UID [`crate::apply`] acts on).
    pub uid: Option<String>,
    /// SEQUENCE of the first component, if it has one.
    pub sequence: Option<i64>,
    /// DTSTAMP of that component as written (`20260101T100000Z`).
    pub dtstamp: Option<String>,
    /// RECURRENCE-ID of that component as written, when it is about one instance.
    pub recurrence_id: Option<String>,
}

impl Peek {
    /// RFC 6047 section 2.4: the `method` parameter of the part's Content-Type must name the
    /// calendar's METHOD; a part where they differ is not processed. A part without the
    /// parameter is accepted (many senders omit it); the message layer reads the parameter
    /// and asks here, so the comparison and its reason are the same everywhere.
    pub fn check_content_type_method(&self, parameter: Option<&str>) -> Result<(), PeekError> {
        let Some(parameter) = parameter else {
            return Ok(());
        };
        let said = Method::parse(parameter);
        if said.is_some() && said == self.method {
            return Ok(());
        }
        Err(PeekError::MethodMismatch {
            content_type: model::truncate(parameter.trim(), 40),
            body: self.method,
        })
    }
}

/// Why a calendar part could not be used; the text goes into `X-Imipd-Cal-Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeekError {
    TooLarge {
        size: usize,
        limit: usize,
    },
    NotUtf8,
    LineTooLong {
        limit: usize,
    },
    Unparsable,
    UnknownMethod(String),
    MissingUid,
    /// The part parses but breaks a rule every stage applies (two METHODs, components with
    /// different UIDs, too many components …); the text says which.
    Refused(String),
    /// The Content-Type `method` parameter and the calendar's METHOD differ.
    MethodMismatch {
        content_type: String,
        body: Option<Method>,
    },
}

impl fmt::Display for PeekError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeekError::TooLarge { size, limit } => write!(
                f,
                "calendar part too large ({size} bytes, limit {limit} bytes)"
            ),
            PeekError::NotUtf8 => f.write_str("calendar part is not valid UTF-8"),
            PeekError::LineTooLong { limit } => {
                write!(f, "calendar part has a line longer than {limit} bytes")
            }
            PeekError::Unparsable => f.write_str("unparsable calendar part"),
            PeekError::UnknownMethod(m) => write!(f, "unknown calendar METHOD {m:?}"),
            PeekError::MissingUid => f.write_str("calendar part has a METHOD but no UID"),
            PeekError::Refused(why) => f.write_str(why),
            PeekError::MethodMismatch { content_type, body } => write!(
                f,
                "Content-Type says method={content_type:?} but the calendar says METHOD:{}; RFC 6047 requires them to match, not processed",
                body.map_or("(none)", Method::as_upper)
            ),
        }
    }
}

impl std::error::Error for PeekError {}

impl From<ItipError> for PeekError {
    fn from(e: ItipError) -> Self {
        match e {
            ItipError::TooLarge { size, limit } => PeekError::TooLarge { size, limit },
            ItipError::LineTooLong { limit } => PeekError::LineTooLong { limit },
            ItipError::Unparsable(_) => PeekError::Unparsable,
            other => PeekError::Refused(other.to_string()),
        }
    }
}

/// The METHOD of a VCALENDAR: at most one, and one that RFC 5546 defines. Shared by
/// [`peek`] and [`crate::apply`].
pub(crate) fn method_of(root: &Comp) -> Result<Option<Method>, PeekError> {
    let written: Vec<&ICalendarValue> = root
        .properties(&ICalendarProperty::Method)
        .flat_map(|e| e.values.iter())
        .collect();
    let read = |value: &ICalendarValue| match value {
        ICalendarValue::Method(m) => Ok(Method::from_calcard(m)),
        other => {
            let text = other.as_text().unwrap_or("");
            Method::parse(text).ok_or_else(|| PeekError::UnknownMethod(model::truncate(text, 40)))
        }
    };
    match written.as_slice() {
        [] if root.property(&ICalendarProperty::Method).is_some() => {
            Err(PeekError::UnknownMethod(String::new()))
        }
        [] => Ok(None),
        [one] => read(one).map(Some),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|v| read(v).map_or_else(|_| "?".to_string(), |m| m.as_upper().to_string()))
                .collect();
            Err(PeekError::Refused(format!(
                "calendar has {} METHOD values ({}); RFC 5546 allows exactly one, not processed",
                several.len(),
                names.join(", ")
            )))
        }
    }
}

/// Reads METHOD and UID from a calendar part, within `limits`, by the same rules as
/// [`crate::apply`]: one METHOD, and the one UID of the calendar's components.
pub fn peek(data: &[u8], limits: &Limits) -> Result<Peek, PeekError> {
    Ok(match crate::message::read(data, limits)? {
        Read::Itip(message) => message.peek,
        Read::NotItip(peek) => peek,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Peek, PeekError> {
        peek(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn reads_method_and_uid() {
        let got = p("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:abc@x\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").unwrap();
        assert_eq!(got.method, Some(Method::Request));
        assert_eq!(got.uid.as_deref(), Some("abc@x"));
        assert_eq!(got.sequence, None);
    }

    #[test]
    fn reads_version_and_instance() {
        let got = p("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:u\r\nSEQUENCE:4\r\nDTSTAMP:20260102T030405Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20260110T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").unwrap();
        assert_eq!(got.sequence, Some(4));
        assert_eq!(got.dtstamp.as_deref(), Some("20260102T030405Z"));
        assert_eq!(got.recurrence_id.as_deref(), Some("20260110T090000"));
    }

    #[test]
    fn no_method_is_not_itip() {
        let got = p("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:abc@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").unwrap();
        assert_eq!(got.method, None);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(p("hello world").is_err());
        assert!(p("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n").is_err());
    }

    #[test]
    fn oversized_part_is_refused_before_parsing() {
        let limits = Limits {
            max_part_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            peek(b"BEGIN:VCALENDAR\r\n", &limits),
            Err(PeekError::TooLarge { .. })
        ));
    }
}
