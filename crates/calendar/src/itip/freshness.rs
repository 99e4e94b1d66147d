//! Whether a message is newer than what is stored (RFC 5546 section 2.1.5): SEQUENCE first,
//! then DTSTAMP.

use super::version;
use crate::model::Comp;
use crate::object::Object;
use crate::values;
use std::cmp::Ordering;

pub(crate) enum Freshness {
    Newer,
    /// Same SEQUENCE and DTSTAMP as stored: a duplicate delivery.
    Same,
    Older(String),
}

/// Compares each incoming component with its stored counterpart (its override, or the
/// master for an instance not yet overridden: then only SEQUENCE counts).
pub(crate) fn check(incoming: &[Comp], stored: &Object) -> Freshness {
    let mut all_same = true;
    let index = stored.index();
    let master = stored.master();
    for comp in incoming {
        let rid = values::recurrence_id(comp);
        let (counterpart, exact) = match index.get(&rid).and_then(|at| stored.comps.get(*at)) {
            Some(c) => (c, true),
            None => match master {
                Some(m) => (m, false),
                None => {
                    all_same = false;
                    continue;
                }
            },
        };
        match compare(comp, counterpart, exact) {
            Ordering::Less => {
                return Freshness::Older(format!(
                    "message has {} but the calendar has {}",
                    version(comp),
                    version(counterpart)
                ));
            }
            Ordering::Equal if exact => {}
            _ => all_same = false,
        }
    }
    if all_same {
        Freshness::Same
    } else {
        Freshness::Newer
    }
}

/// SEQUENCE, then (when `by_stamp`) DTSTAMP; a missing DTSTAMP never wins a tie.
pub(crate) fn compare(incoming: &Comp, stored: &Comp, by_stamp: bool) -> Ordering {
    match values::sequence(incoming).cmp(&values::sequence(stored)) {
        Ordering::Equal if by_stamp => match (values::dtstamp(incoming), values::dtstamp(stored)) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        },
        Ordering::Equal => Ordering::Greater,
        other => other,
    }
}
