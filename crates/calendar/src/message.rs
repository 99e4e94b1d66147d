//! An iTIP message read once: detection, every recipient's decision and the job key all
//! borrow this one parse of the calendar part.

use crate::model::{self, Comp};
use crate::object::Object;
use crate::peek::method_of;
use crate::{ItipError, Limits, Method, Peek, PeekError, datetime, values};
use calcard::icalendar::{ICalendarPeriod, ICalendarProperty, ICalendarValue};

/// A calendar part with a METHOD, parsed within [`Limits`] by the rules of [`crate::apply`]
/// (one METHOD, components that share one UID) and stricter ones, since it comes from
/// outside: every line a content line, every component ENDed, real dates.
/// [`crate::apply_message`] applies it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItipMessage {
    pub(crate) method: Method,
    pub(crate) object: Object,
    pub(crate) peek: Peek,
}

impl ItipMessage {
    /// Reads a calendar part. `Ok(None)`: a calendar without METHOD, not an iTIP message.
    pub fn parse(data: &[u8], limits: &Limits) -> Result<Option<Self>, PeekError> {
        match read(data, limits)? {
            Read::Itip(message) => Ok(Some(message)),
            Read::NotItip(_) => Ok(None),
        }
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// The one UID of the message's components.
    pub fn uid(&self) -> &str {
        &self.object.uid
    }

    /// What [`crate::peek`] reports for this message.
    pub fn peek(&self) -> &Peek {
        &self.peek
    }

    /// The ORGANIZER address (normalised) of the master component, else of the first one.
    pub fn organizer(&self) -> Option<String> {
        self.object
            .master()
            .or(self.object.comps.first())
            .and_then(values::organizer)
    }

    /// `name` of every component, in order, as written after the property name: parameters
    /// and value (`;TZID=Europe/Paris:20260112T110000` reads `TZID=Europe/Paris:2026…`), or
    /// "" where a component has none. The fields that make one iTIP message distinct.
    pub fn written(&self, name: &ICalendarProperty) -> Vec<String> {
        self.object
            .comps
            .iter()
            .map(|comp| written_after_name(comp, name))
            .collect()
    }
}

/// RFC 5545 section 3.1 where calcard is lenient: every (unfolded) line is a content line
/// (`name *(";" param) ":" value`), BEGIN and END pair up, and nothing follows the
/// VCALENDAR's END. calcard skips a junk line and closes components left open at the end
/// of the data; a message that does either is broken, and is refused rather than guessed at.
pub(crate) fn check_syntax(text: &str) -> Result<(), PeekError> {
    let refused = |why: String| {
        Err(PeekError::Refused(format!(
            "unparsable calendar part: {why}"
        )))
    };
    let mut open: Vec<String> = Vec::new();
    let mut done = false;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .peekable();
    while let Some(first) = lines.next() {
        let mut line = first.to_string();
        while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
            line.push_str(&next[1..]);
        }
        if line.trim().is_empty() {
            continue;
        }
        if done {
            return refused("data after END:VCALENDAR".into());
        }
        let Some((name, value)) = content_line(&line) else {
            return refused(format!(
                "line {:?} is not a content line",
                model::truncate(&line, 40)
            ));
        };
        if name.eq_ignore_ascii_case("BEGIN") {
            open.push(value.trim().to_ascii_uppercase());
        } else if name.eq_ignore_ascii_case("END") {
            let closing = value.trim().to_ascii_uppercase();
            match open.pop() {
                Some(begun) if begun == closing => done = open.is_empty(),
                Some(begun) => {
                    return refused(format!(
                        "END:{} where END:{} was expected",
                        model::truncate(&closing, 40),
                        model::truncate(&begun, 40)
                    ));
                }
                None => return refused("END without BEGIN".into()),
            }
        } else if open.is_empty() {
            return refused("a property outside BEGIN:VCALENDAR".into());
        }
    }
    match open.last() {
        Some(begun) => refused(format!("BEGIN:{} without END", model::truncate(begun, 40))),
        None => Ok(()),
    }
}

/// The name and value of a content line: an iana-token or x-name (ALPHA, DIGIT, "-"), then
/// parameters (quoted values may hold ':' and ';'), then ':' and the value.
fn content_line(line: &str) -> Option<(&str, &str)> {
    let name_end = line.find([';', ':'])?;
    let name = &line[..name_end];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let mut quoted = false;
    for (i, c) in line[name_end..].char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((name, &line[name_end + i + 1..])),
            _ => {}
        }
    }
    None
}

/// Date and date-time properties (RFC 5545 section 3.8.2 and 3.8.7, RECURRENCE-ID, EXDATE,
/// RDATE) must hold real dates: no month 13, no February 30th, no hour 25.
pub(crate) fn check_dates(comp: &Comp) -> Result<(), PeekError> {
    use ICalendarProperty as P;
    for entry in &comp.entries {
        if !matches!(
            entry.name,
            P::Dtstart
                | P::Dtend
                | P::Due
                | P::Dtstamp
                | P::RecurrenceId
                | P::Exdate
                | P::Rdate
                | P::Created
                | P::LastModified
                | P::Completed
        ) {
            continue;
        }
        for value in &entry.values {
            let real = match value {
                ICalendarValue::PartialDateTime(dt) => datetime::to_seconds(dt).is_some(),
                ICalendarValue::Period(
                    ICalendarPeriod::Range { start, .. } | ICalendarPeriod::Duration { start, .. },
                ) => datetime::to_seconds(start).is_some(),
                _ => false,
            };
            if !real {
                return Err(PeekError::Refused(format!(
                    "{} {:?} in a {} is not a real date",
                    entry.name.as_str(),
                    model::truncate(&values::value_string(entry), 40),
                    comp.kind.as_str()
                )));
            }
        }
    }
    comp.children.iter().try_for_each(check_dates)
}

/// What [`read`] found: an iTIP message, or a calendar without METHOD and what
/// [`crate::peek`] says of it (its UID, when its components agree on one).
pub(crate) enum Read {
    Itip(ItipMessage),
    NotItip(Peek),
}

/// Reads a calendar part once, by the rules of [`ItipMessage`].
pub(crate) fn read(data: &[u8], limits: &Limits) -> Result<Read, PeekError> {
    if data.len() > limits.max_part_bytes {
        return Err(PeekError::TooLarge {
            size: data.len(),
            limit: limits.max_part_bytes,
        });
    }
    let text = std::str::from_utf8(data).map_err(|_| PeekError::NotUtf8)?;
    check_syntax(text)?;
    let root = model::parse(text, limits).map_err(|e| match e {
        ItipError::Unparsable(why) => {
            PeekError::Refused(format!("unparsable calendar part: {why}"))
        }
        other => other.into(),
    })?;
    check_dates(&root)?;
    let method = method_of(&root)?;
    let object = match (Object::from_root(root), method) {
        (Ok(object), _) => object,
        // Not an invitation: no stage acts on its UID.
        (Err(_), None) => {
            return Ok(Read::NotItip(Peek {
                method: None,
                uid: None,
                sequence: None,
                dtstamp: None,
                recurrence_id: None,
            }));
        }
        (Err(ItipError::NoComponent | ItipError::MissingUid), Some(_)) => {
            return Err(PeekError::MissingUid);
        }
        (Err(e), Some(_)) => return Err(e.into()),
    };
    let first = object.comps.first();
    let written = |name: ICalendarProperty| {
        first
            .and_then(|c| c.property(&name))
            .map(values::value_string)
            .filter(|v| !v.is_empty())
    };
    let peek = Peek {
        method,
        sequence: first
            .and_then(|c| c.property(&ICalendarProperty::Sequence))
            .and_then(|e| e.values.first())
            .and_then(ICalendarValue::as_integer),
        dtstamp: written(ICalendarProperty::Dtstamp),
        recurrence_id: written(ICalendarProperty::RecurrenceId),
        uid: Some(object.uid.clone()),
    };
    Ok(match method {
        Some(method) => Read::Itip(ItipMessage {
            method,
            object,
            peek,
        }),
        None => Read::NotItip(peek),
    })
}

fn written_after_name(comp: &Comp, name: &ICalendarProperty) -> String {
    let Some(entry) = comp.property(name) else {
        return String::new();
    };
    let mut out = String::new();
    if entry.write_to(&mut out).is_err() {
        return String::new();
    }
    let unfolded = out.replace("\r\n ", "");
    let line = unfolded.trim_end_matches(['\r', '\n']);
    line.get(entry.name.as_str().len()..)
        .unwrap_or_default()
        .trim_start_matches(':')
        .to_string()
}
