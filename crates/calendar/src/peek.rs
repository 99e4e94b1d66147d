//! The cheap first look at a calendar part that detection needs: METHOD and UID.

use crate::{Limits, values};
use calcard::icalendar::{
    ICalendar, ICalendarComponentType, ICalendarMethod, ICalendarProperty, ICalendarValue,
};
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
    /// The UID of the first scheduling component (VEVENT, VTODO, VJOURNAL).
    pub uid: Option<String>,
    /// SEQUENCE of that component, if it has one.
    pub sequence: Option<i64>,
    /// DTSTAMP of that component as written (`20260101T100000Z`).
    pub dtstamp: Option<String>,
    /// RECURRENCE-ID of that component as written, when it is about one instance.
    pub recurrence_id: Option<String>,
}

/// Why a calendar part could not be used; the text goes into `X-Imipd-Cal-Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeekError {
    TooLarge { size: usize, limit: usize },
    NotUtf8,
    LineTooLong { limit: usize },
    Unparsable,
    UnknownMethod(String),
    MissingUid,
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
        }
    }
}

impl std::error::Error for PeekError {}

/// Reads METHOD and UID from a calendar part, within `limits`.
pub fn peek(data: &[u8], limits: &Limits) -> Result<Peek, PeekError> {
    if data.len() > limits.max_part_bytes {
        return Err(PeekError::TooLarge {
            size: data.len(),
            limit: limits.max_part_bytes,
        });
    }
    let text = std::str::from_utf8(data).map_err(|_| PeekError::NotUtf8)?;
    if text
        .split('\n')
        .any(|line| line.len() > limits.max_line_bytes)
    {
        return Err(PeekError::LineTooLong {
            limit: limits.max_line_bytes,
        });
    }
    let ical = ICalendar::parse(text).map_err(|_| PeekError::Unparsable)?;
    if ical.components.len() > limits.max_components {
        return Err(PeekError::Unparsable);
    }
    let root = ical
        .components
        .first()
        .filter(|c| c.component_type == ICalendarComponentType::VCalendar)
        .ok_or(PeekError::Unparsable)?;
    let method = match root.property(&ICalendarProperty::Method) {
        None => None,
        Some(entry) => match entry.values.first() {
            Some(ICalendarValue::Method(m)) => Some(Method::from_calcard(m)),
            Some(ICalendarValue::Text(t)) => {
                Some(Method::parse(t).ok_or_else(|| PeekError::UnknownMethod(t.clone()))?)
            }
            _ => return Err(PeekError::Unparsable),
        },
    };
    let first = ical.components.iter().find(|c| {
        matches!(
            c.component_type,
            ICalendarComponentType::VEvent
                | ICalendarComponentType::VTodo
                | ICalendarComponentType::VJournal
        ) && c.uid().is_some()
    });
    let uid = first.and_then(|c| c.uid()).map(str::to_string);
    if method.is_some() && uid.is_none() {
        return Err(PeekError::MissingUid);
    }
    let written = |name: ICalendarProperty| {
        first
            .and_then(|c| c.property(&name))
            .map(values::value_string)
            .filter(|v| !v.is_empty())
    };
    Ok(Peek {
        method,
        uid,
        sequence: first
            .and_then(|c| c.property(&ICalendarProperty::Sequence))
            .and_then(|e| e.values.first())
            .and_then(ICalendarValue::as_integer),
        dtstamp: written(ICalendarProperty::Dtstamp),
        recurrence_id: written(ICalendarProperty::RecurrenceId),
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
