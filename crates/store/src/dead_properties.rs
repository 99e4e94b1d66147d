//! Dead properties (RFC 4918 section 4): properties a client sets on a collection that
//! imipd gives no meaning to, such as Apple's `calendar-order`, kept as the XML the client
//! sent and returned as it was. Bounded per value and per collection, so a client cannot
//! grow a collection's PROPFIND without limit.

use crate::Result;
use serde::Serialize;

/// The largest value kept, in bytes of XML.
pub const MAX_DEAD_VALUE_BYTES: usize = 16 * 1024;
/// Dead properties one collection may have.
pub const MAX_DEAD_PROPERTIES: usize = 64;

/// The collection a dead property belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyOwner<'a> {
    CalendarHome,
    Calendar(&'a str),
    AddressBookHome,
    AddressBook(&'a str),
}

impl PropertyOwner<'_> {
    /// The collection's path in the user's home, as stored.
    pub fn key(&self) -> String {
        match self {
            PropertyOwner::CalendarHome => "calendars".into(),
            PropertyOwner::Calendar(id) => format!("calendars/{id}"),
            PropertyOwner::AddressBookHome => "addressbooks".into(),
            PropertyOwner::AddressBook(id) => format!("addressbooks/{id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadProperty {
    pub namespace: String,
    pub name: String,
    /// The property's content as self-contained XML.
    pub xml: String,
}

/// One change of a PROPPATCH: `xml: None` removes the property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadChange {
    pub namespace: String,
    pub name: String,
    pub xml: Option<String>,
}

/// Why a dead property is not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadRefusal {
    #[error("its value is {0} bytes, more than the {MAX_DEAD_VALUE_BYTES} kept")]
    TooLarge(usize),
    #[error(
        "the collection has {MAX_DEAD_PROPERTIES} properties of this kind, the most kept; remove one first"
    )]
    TooMany,
}

/// Whether `changes`, applied in order to a collection holding `existing`, stay within the
/// bounds: the refusal of each change, `None` for those that may be made.
pub fn check_dead_changes(
    existing: &[DeadProperty],
    changes: &[DeadChange],
) -> Vec<Option<DeadRefusal>> {
    let mut names: Vec<(&str, &str)> = existing
        .iter()
        .map(|p| (p.namespace.as_str(), p.name.as_str()))
        .collect();
    changes
        .iter()
        .map(|c| {
            let key = (c.namespace.as_str(), c.name.as_str());
            let known = names.contains(&key);
            match &c.xml {
                None => {
                    names.retain(|n| *n != key);
                    None
                }
                Some(xml) if xml.len() > MAX_DEAD_VALUE_BYTES => {
                    Some(DeadRefusal::TooLarge(xml.len()))
                }
                Some(_) if !known && names.len() >= MAX_DEAD_PROPERTIES => {
                    Some(DeadRefusal::TooMany)
                }
                Some(_) => {
                    if !known {
                        names.push(key);
                    }
                    None
                }
            }
        })
        .collect()
}

/// What a backend stores of dead properties. Deleting a collection deletes its own.
pub trait DeadProperties {
    /// The collection's dead properties, by namespace and name.
    fn dead_properties(&self, user: &str, owner: &PropertyOwner<'_>) -> Result<Vec<DeadProperty>>;
    /// Sets and removes properties in one transaction; callers check the bounds first
    /// ([`check_dead_changes`]).
    fn change_dead_properties(
        &self,
        user: &str,
        owner: &PropertyOwner<'_>,
        changes: &[DeadChange],
    ) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(name: &str) -> DeadProperty {
        DeadProperty {
            namespace: "urn:x".into(),
            name: name.into(),
            xml: "1".into(),
        }
    }

    fn set(name: &str, bytes: usize) -> DeadChange {
        DeadChange {
            namespace: "urn:x".into(),
            name: name.into(),
            xml: Some("x".repeat(bytes)),
        }
    }

    /// (existing, changes, refusals)
    type Case<'a> = (
        &'a [DeadProperty],
        Vec<DeadChange>,
        Vec<Option<DeadRefusal>>,
    );

    #[test]
    fn values_and_counts_are_bounded() {
        let full: Vec<DeadProperty> = (0..MAX_DEAD_PROPERTIES)
            .map(|n| prop(&format!("p{n}")))
            .collect();
        let remove_p0 = DeadChange {
            namespace: "urn:x".into(),
            name: "p0".into(),
            xml: None,
        };
        let cases: Vec<Case> = vec![
            (&[], vec![set("a", MAX_DEAD_VALUE_BYTES)], vec![None]),
            (
                &[],
                vec![set("a", MAX_DEAD_VALUE_BYTES + 1)],
                vec![Some(DeadRefusal::TooLarge(MAX_DEAD_VALUE_BYTES + 1))],
            ),
            (&full, vec![set("new", 1)], vec![Some(DeadRefusal::TooMany)]),
            (&full, vec![set("p1", 1)], vec![None]),
            (&full, vec![remove_p0, set("new", 1)], vec![None, None]),
        ];
        for (existing, changes, want) in cases {
            assert_eq!(check_dead_changes(existing, &changes), want, "{changes:?}");
        }
    }
}
