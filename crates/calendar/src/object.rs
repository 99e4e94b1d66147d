//! One calendar object: the VCALENDAR wrapper, its time zones, and the components that
//! share one UID (a master and its overrides).
//!
//! [`Object::from_root`] is the one rule for which components a calendar is about. Detection
//! ([`crate::peek`]), the worker and [`crate::apply`] all go through it, so they can never
//! pick different UIDs from one message.

use crate::model::{self, Comp};
use crate::values;
use crate::{ItipError, Limits};
use calcard::icalendar::{ICalendarComponentType, ICalendarProperty};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Object {
    /// The VCALENDAR with every child that is not one of `comps`.
    pub root: Comp,
    /// The calendar components, all with the same UID and of the same type.
    pub comps: Vec<Comp>,
    pub uid: String,
}

/// A component a calendar object is about (RFC 5545 section 3.6), as opposed to time zones
/// and extensions. Only direct children of the VCALENDAR count: a VEVENT inside an `X-`
/// component or anywhere deeper is not one.
fn is_calendar_component(comp: &Comp) -> bool {
    matches!(
        comp.kind,
        ICalendarComponentType::VEvent
            | ICalendarComponentType::VTodo
            | ICalendarComponentType::VJournal
            | ICalendarComponentType::VFreebusy
    )
}

impl Object {
    pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Self, ItipError> {
        Self::from_root(model::parse(text, limits)?)
    }

    /// Splits a VCALENDAR into its calendar components and the rest. Every calendar
    /// component must carry the same UID and be of the same type: a decoy (a VJOURNAL with
    /// another UID before the VEVENT that matters) makes the whole object refused.
    pub(crate) fn from_root(mut root: Comp) -> Result<Self, ItipError> {
        let (comps, others): (Vec<Comp>, Vec<Comp>) = std::mem::take(&mut root.children)
            .into_iter()
            .partition(is_calendar_component);
        root.children = others;
        let Some(first) = comps.first() else {
            return Err(ItipError::NoComponent);
        };
        let uid = values::uid(first).ok_or(ItipError::MissingUid)?;
        for comp in &comps {
            let this = values::uid(comp).ok_or(ItipError::MissingUid)?;
            if this != uid {
                return Err(ItipError::MixedUids(uid, this));
            }
            if comp.kind != first.kind {
                return Err(ItipError::MixedComponents(
                    first.kind.as_str().to_string(),
                    comp.kind.as_str().to_string(),
                ));
            }
        }
        Ok(Object { root, comps, uid })
    }

    /// VEVENT, VTODO, VJOURNAL or VFREEBUSY.
    pub(crate) fn kind(&self) -> &ICalendarComponentType {
        self.comps
            .first()
            .map_or(&ICalendarComponentType::VEvent, |c| &c.kind)
    }

    pub(crate) fn master(&self) -> Option<&Comp> {
        self.comps
            .iter()
            .find(|c| values::recurrence_id(c).is_none())
    }

    pub(crate) fn master_mut(&mut self) -> Option<&mut Comp> {
        self.comps
            .iter_mut()
            .find(|c| values::recurrence_id(c).is_none())
    }

    /// Position of each component by RECURRENCE-ID (`None`: the master); the first wins.
    /// Built once per message so that matching many instances stays linear.
    pub(crate) fn index(&self) -> HashMap<Option<String>, usize> {
        let mut index = HashMap::with_capacity(self.comps.len());
        for (at, comp) in self.comps.iter().enumerate() {
            index.entry(values::recurrence_id(comp)).or_insert(at);
        }
        index
    }

    pub(crate) fn by_rid(&self, rid: Option<&str>) -> Option<&Comp> {
        self.comps
            .iter()
            .find(|c| values::recurrence_id(c).as_deref() == rid)
    }

    /// The component an instance inherits from when it has no override of its own.
    pub(crate) fn counterpart(&self, rid: Option<&str>) -> Option<&Comp> {
        self.by_rid(rid).or_else(|| self.master())
    }

    /// "event" or "task", for reasons.
    pub(crate) fn noun(&self) -> &'static str {
        match self.comps.first().map(|c| &c.kind) {
            Some(ICalendarComponentType::VTodo) => "task",
            _ => "event",
        }
    }

    /// The ORGANIZER, taken from the master if it has one.
    pub(crate) fn organizer(&self) -> Option<String> {
        self.master()
            .and_then(values::organizer)
            .or_else(|| self.comps.iter().find_map(values::organizer))
    }

    /// The address in the ORGANIZER's SENT-BY (RFC 5545 section 3.2.18): who may act for
    /// the organizer. Taken from the same component as [`Object::organizer`].
    pub(crate) fn organizer_sent_by(&self) -> Option<String> {
        self.master()
            .filter(|m| values::organizer(m).is_some())
            .or_else(|| self.comps.iter().find(|c| values::organizer(c).is_some()))
            .and_then(values::organizer_sent_by)
    }

    pub(crate) fn timezones(&self) -> impl Iterator<Item = &Comp> {
        self.root
            .children
            .iter()
            .filter(|c| c.kind == ICalendarComponentType::VTimezone)
    }

    /// The object as stored: no METHOD, time zones first, the master before overrides.
    /// Refused when the result would exceed `limits`: a write that the next read would
    /// refuse must not happen, or the stored copy would be unusable from then on.
    pub(crate) fn to_stored_text(&self, limits: &Limits) -> Result<String, ItipError> {
        let mut root = self.root.clone();
        root.remove(&ICalendarProperty::Method);
        ensure_header(&mut root);
        let mut comps = self.comps.clone();
        comps.sort_by_key(|c| values::recurrence_id(c).is_some());
        root.children.extend(comps);
        model::serialize_within(&root, limits)
    }
}

/// VERSION and PRODID are required (RFC 5545 section 3.6); some senders omit them.
pub(crate) fn ensure_header(root: &mut Comp) {
    if root.property(&ICalendarProperty::Version).is_none() {
        root.entries
            .insert(0, values::text_entry(ICalendarProperty::Version, "2.0"));
    }
    if root.property(&ICalendarProperty::Prodid).is_none() {
        root.entries.insert(
            0,
            values::text_entry(ICalendarProperty::Prodid, crate::PRODID),
        );
    }
}

/// What a calendar object resource is about: its one UID and its component type
/// (`VEVENT`, `VTODO`, `VJOURNAL`, `VFREEBUSY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: String,
    pub component: String,
}

/// Reads an object a client wants stored (a CalDAV PUT) by the rules of an arriving
/// message, as it comes from outside just the same: every line a content line, every
/// component ENDed, real dates, one UID, one component type.
pub fn identify(text: &str, limits: &Limits) -> Result<Identity, ItipError> {
    let refused = |e: crate::PeekError| ItipError::Unparsable(e.to_string());
    crate::message::check_syntax(text).map_err(refused)?;
    let root = model::parse(text, limits)?;
    crate::message::check_dates(&root).map_err(refused)?;
    let object = Object::from_root(root)?;
    Ok(Identity {
        component: object.kind().as_str().to_string(),
        uid: object.uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(body: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{body}END:VCALENDAR\r\n")
    }

    const EVENT: &str = "BEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\n";

    #[test]
    fn identify_names_the_one_uid_and_refuses_mixtures() {
        let id = identify(&cal(EVENT), &Limits::default()).unwrap();
        assert_eq!((id.uid.as_str(), id.component.as_str()), ("a@x", "VEVENT"));
        let decoy = cal(&format!(
            "BEGIN:VJOURNAL\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\nEND:VJOURNAL\r\n{EVENT}"
        ));
        assert!(matches!(
            identify(&decoy, &Limits::default()),
            Err(ItipError::MixedComponents(..))
        ));
        let two = cal(&format!("{EVENT}{}", EVENT.replace("a@x", "b@x")));
        assert!(matches!(
            identify(&two, &Limits::default()),
            Err(ItipError::MixedUids(..))
        ));
        assert!(matches!(
            identify(&cal(""), &Limits::default()),
            Err(ItipError::NoComponent)
        ));
        assert!(identify("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", &Limits::default()).is_err());
    }
}
