//! A tree view of a parsed iCalendar object, read within [`Limits`], and its serialisation.
//!
//! calcard stores components as a flat list linked by indexes; editing that list in place
//! risks dangling indexes, so edits happen on this owned tree and the flat list is rebuilt
//! only for writing.

use crate::{ItipError, Limits};
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarProperty,
};

/// Deepest nesting accepted: VCALENDAR › VEVENT › VALARM needs 3; a little slack for
/// extensions such as VLOCATION or PARTICIPANT.
const MAX_DEPTH: usize = 6;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comp {
    pub kind: ICalendarComponentType,
    pub entries: Vec<ICalendarEntry>,
    pub children: Vec<Comp>,
}

impl Comp {
    pub(crate) fn new(kind: ICalendarComponentType) -> Self {
        Comp {
            kind,
            entries: Vec::new(),
            children: Vec::new(),
        }
    }

    pub(crate) fn property(&self, name: &ICalendarProperty) -> Option<&ICalendarEntry> {
        self.entries.iter().find(|e| &e.name == name)
    }

    pub(crate) fn properties<'a>(
        &'a self,
        name: &'a ICalendarProperty,
    ) -> impl Iterator<Item = &'a ICalendarEntry> + 'a {
        self.entries.iter().filter(move |e| &e.name == name)
    }

    pub(crate) fn remove(&mut self, name: &ICalendarProperty) {
        self.entries.retain(|e| &e.name != name);
    }

    /// Replaces every `name` property with `entry`.
    pub(crate) fn set(&mut self, entry: ICalendarEntry) {
        match self.entries.iter().position(|e| e.name == entry.name) {
            Some(at) => {
                let name = entry.name.clone();
                self.entries[at] = entry;
                let mut seen = false;
                self.entries.retain(|e| {
                    if e.name != name {
                        return true;
                    }
                    let keep = !seen;
                    seen = true;
                    keep
                });
            }
            None => self.entries.push(entry),
        }
    }
}

#[cfg(feature = "parse-counts")]
pub(crate) static PARSES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Reads a VCALENDAR object, refusing anything over `limits` before or after parsing.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Comp, ItipError> {
    #[cfg(feature = "parse-counts")]
    PARSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    check_text(text, limits)?;
    let ical =
        ICalendar::parse(text).map_err(|e| ItipError::Unparsable(describe_parse_error(&e)))?;
    if ical.components.len() > limits.max_components {
        return Err(ItipError::TooManyComponents {
            limit: limits.max_components,
        });
    }
    let root = to_tree(&ical, 0, 0)?;
    if root.kind != ICalendarComponentType::VCalendar {
        return Err(ItipError::Unparsable(
            "the object is not a VCALENDAR".into(),
        ));
    }
    check_tree(&root, limits)?;
    Ok(root)
}

/// Writes `root` as text, refusing a result that [`parse`] would refuse: what is stored
/// must stay readable, or every later message for the object would fail.
pub(crate) fn serialize_within(root: &Comp, limits: &Limits) -> Result<String, ItipError> {
    check_tree(root, limits)?;
    let text = serialize(root);
    check_text(&text, limits)?;
    Ok(text)
}

/// The limits on the text itself: its size and its lines.
fn check_text(text: &str, limits: &Limits) -> Result<(), ItipError> {
    if text.len() > limits.max_part_bytes {
        return Err(ItipError::TooLarge {
            size: text.len(),
            limit: limits.max_part_bytes,
        });
    }
    check_line_lengths(text, limits.max_line_bytes)
}

/// The limits on the parsed tree: components, properties, attendees.
fn check_tree(root: &Comp, limits: &Limits) -> Result<(), ItipError> {
    let (mut components, mut properties) = (0usize, 0usize);
    count(root, &mut components, &mut properties);
    if components > limits.max_components {
        return Err(ItipError::TooManyComponents {
            limit: limits.max_components,
        });
    }
    if properties > limits.max_properties {
        return Err(ItipError::TooManyProperties {
            limit: limits.max_properties,
        });
    }
    check_attendees(root, limits.max_attendees)
}

fn count(comp: &Comp, components: &mut usize, properties: &mut usize) {
    *components += 1;
    *properties += comp.entries.len();
    for child in &comp.children {
        count(child, components, properties);
    }
}

fn describe_parse_error(entry: &calcard::Entry) -> String {
    match entry {
        calcard::Entry::InvalidLine(line) => format!("invalid line {:?}", truncate(line, 60)),
        calcard::Entry::UnexpectedComponentEnd { expected, found } => format!(
            "END:{} where END:{} was expected",
            found.as_str(),
            expected.as_str()
        ),
        calcard::Entry::UnterminatedComponent(name) => {
            format!("BEGIN:{} without END", truncate(name, 60))
        }
        calcard::Entry::TooManyComponents => "too many components".into(),
        calcard::Entry::Eof => "no BEGIN:VCALENDAR".into(),
        calcard::Entry::VCard(_) => "a vCard, not an iCalendar object".into(),
        _ => "not an iCalendar object".into(),
    }
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Both raw lines and unfolded content lines count: folding must not smuggle a huge value.
fn check_line_lengths(text: &str, limit: usize) -> Result<(), ItipError> {
    let mut logical = 0usize;
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.len() > limit {
            return Err(ItipError::LineTooLong { limit });
        }
        if raw.starts_with([' ', '\t']) {
            logical = logical.saturating_add(raw.len().saturating_sub(1));
        } else {
            logical = raw.len();
        }
        if logical > limit {
            return Err(ItipError::LineTooLong { limit });
        }
    }
    Ok(())
}

fn to_tree(ical: &ICalendar, id: u32, depth: usize) -> Result<Comp, ItipError> {
    if depth >= MAX_DEPTH {
        return Err(ItipError::TooDeep { limit: MAX_DEPTH });
    }
    let component = ical
        .components
        .get(id as usize)
        .ok_or_else(|| ItipError::Unparsable(format!("component {id} is missing")))?;
    let mut children = Vec::with_capacity(component.component_ids.len());
    for child in &component.component_ids {
        // The parser numbers children after their parent; anything else would be a cycle.
        if *child <= id {
            return Err(ItipError::Unparsable("component tree is not a tree".into()));
        }
        children.push(to_tree(ical, *child, depth + 1)?);
    }
    Ok(Comp {
        kind: component.component_type.clone(),
        entries: component.entries.clone(),
        children,
    })
}

fn check_attendees(comp: &Comp, limit: usize) -> Result<(), ItipError> {
    if comp.properties(&ICalendarProperty::Attendee).count() > limit {
        return Err(ItipError::TooManyAttendees { limit });
    }
    comp.children
        .iter()
        .try_for_each(|c| check_attendees(c, limit))
}

/// Writes the tree as iCalendar text (CRLF, folded).
pub(crate) fn serialize(root: &Comp) -> String {
    let mut ical = ICalendar {
        components: Vec::new(),
    };
    flatten(root, &mut ical.components);
    ical.to_string()
}

fn flatten(comp: &Comp, out: &mut Vec<ICalendarComponent>) -> u32 {
    let id = out.len() as u32;
    out.push(ICalendarComponent {
        component_type: comp.kind.clone(),
        entries: comp.entries.clone(),
        component_ids: Vec::new(),
    });
    let ids: Vec<u32> = comp.children.iter().map(|c| flatten(c, out)).collect();
    if let Some(me) = out.get_mut(id as usize) {
        me.component_ids = ids;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn round_trips_through_the_tree() {
        let tree = parse(EVENT, &Limits::default()).unwrap();
        assert_eq!(tree.children.len(), 1);
        assert_eq!(tree.children[0].children.len(), 1);
        assert_eq!(serialize(&tree), EVENT);
    }

    #[test]
    fn folded_lines_count_unfolded() {
        let long = format!("X-A:{}\r\n {}\r\n", "a".repeat(90), "b".repeat(90));
        assert!(check_line_lengths(&long, 100).is_err());
        assert!(check_line_lengths(&long, 200).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut text = String::from("BEGIN:VCALENDAR\r\n");
        for _ in 0..50 {
            text.push_str("BEGIN:X-DEEP\r\n");
        }
        for _ in 0..50 {
            text.push_str("END:X-DEEP\r\n");
        }
        text.push_str("END:VCALENDAR\r\n");
        assert!(matches!(
            parse(&text, &Limits::default()),
            Err(ItipError::TooDeep { .. })
        ));
    }
}
