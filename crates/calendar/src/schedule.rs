//! A CalDAV client's write to a scheduling object resource (RFC 6638 section 3): its
//! Schedule-Tag, whose side the user is on, and what an attendee's write may change.
//!
//! An attendee may change only what RFC 6638 section 3.2.2.1 allows: their own PARTSTAT
//! (on the master or one instance), alarms, TRANSP and the client's private `X-`
//! properties. Everything else is kept from the organizer's version rather than refused,
//! so a client that rewrites a field on its own (a SUMMARY it re-encoded, a time zone it
//! renamed) still gets its answer through. An EXDATE the attendee adds is their
//! declining that instance: the stored copy keeps the organizer's recurrence with the
//! instance DECLINED, which is what the REPLY tells the organizer.

use crate::address::{self, UserAddresses};
use crate::answer::{answer_in, set_partstat};
use crate::instance::instance;
use crate::model::{self, Comp};
use crate::object::Object;
use crate::{ItipError, Limits, PartStat, values};
use calcard::icalendar::{
    ICalendarComponentType, ICalendarEntry, ICalendarParameterName, ICalendarParameterValue,
    ICalendarProperty,
};
use sha2::{Digest, Sha256};

/// The user's side of a scheduling object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The ORGANIZER is one of the user's addresses (this one).
    Organizer(String),
    /// The user is an ATTENDEE under this address; the ORGANIZER is someone else.
    Attendee { address: String, organizer: String },
    /// The ORGANIZER is someone else and the user is not among the ATTENDEEs.
    Other { organizer: String },
    /// No ORGANIZER: not a scheduling object.
    Unscheduled,
}

/// Whose side `ics` puts the user on.
pub fn role(ics: &str, own_addresses: &[String], limits: &Limits) -> Result<Role, ItipError> {
    Ok(role_in(&Object::parse(ics, limits)?, own_addresses))
}

fn role_in(object: &Object, own_addresses: &[String]) -> Role {
    let Some(organizer) = object.organizer() else {
        return Role::Unscheduled;
    };
    let own = UserAddresses::new(own_addresses.iter().map(String::as_str));
    if own.contains(&organizer) {
        return Role::Organizer(organizer);
    }
    let attendee = object
        .comps
        .iter()
        .flat_map(values::attendees)
        .filter_map(values::address_of)
        .find(|a| own.contains(a));
    match attendee {
        Some(address) => Role::Attendee { address, organizer },
        None => Role::Other { organizer },
    }
}

/// The Schedule-Tag (RFC 6638 section 3.2.10) of a stored object: `None` unless it is a
/// scheduling object resource (it has an ORGANIZER). It is a digest of what the organizer
/// decides, so it changes only when the organizer's copy does: an attendee's answer, its
/// alarms, or a REPLY written into the organizer's copy leave it as it was, and a client
/// writing its own PARTSTAT never conflicts with itself.
pub fn schedule_tag(ics: &str, limits: &Limits) -> Option<String> {
    let object = Object::parse(ics, limits).ok()?;
    object.organizer()?;
    let mut root = Comp::new(ICalendarComponentType::VCalendar);
    let mut comps: Vec<Comp> = object.comps.iter().map(organizers_part).collect();
    comps.sort_by_key(values::recurrence_id);
    root.children = comps;
    let digest = Sha256::digest(model::serialize(&root).as_bytes());
    Some(digest[..12].iter().map(|b| format!("{b:02x}")).collect())
}

/// A component without what attendees and clients may change on their own.
pub(crate) fn organizers_part(comp: &Comp) -> Comp {
    let mut out = comp.clone();
    out.children
        .retain(|c| c.kind != ICalendarComponentType::VAlarm);
    out.entries.retain(|e| !attendee_may_change(e));
    for entry in out.entries.iter_mut() {
        if entry.name == ICalendarProperty::Attendee {
            entry.params.retain(|p| !answer_param(&p.name));
        }
    }
    out
}

/// Properties an attendee's copy may differ in, whoever wrote them.
fn attendee_may_change(entry: &ICalendarEntry) -> bool {
    matches!(
        entry.name,
        ICalendarProperty::Transp
            | ICalendarProperty::Dtstamp
            | ICalendarProperty::LastModified
            | ICalendarProperty::Other(_)
    )
}

/// ATTENDEE parameters that carry the attendee's answer or its delivery, not the invitation.
fn answer_param(name: &ICalendarParameterName) -> bool {
    matches!(
        name,
        ICalendarParameterName::Partstat
            | ICalendarParameterName::Rsvp
            | ICalendarParameterName::ScheduleStatus
            | ICalendarParameterName::Other(_)
    )
}

/// An attendee's write, as it is kept and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeWrite {
    /// The object to store: the organizer's version with the attendee's own changes.
    pub stored: String,
    /// Each changed answer: the instance (`None`: the whole event) and the new PARTSTAT.
    pub answers: Vec<(Option<String>, PartStat)>,
}

/// The attendee `me` writes `new` over `previous`: what is kept, and which answers changed.
pub fn attendee_write(
    previous: &str,
    new: &str,
    me: &str,
    limits: &Limits,
) -> Result<AttendeeWrite, ItipError> {
    let before = Object::parse(previous, limits)?;
    let after = Object::parse(new, limits)?;
    let me = address::normalize(me);
    let mut kept = before.clone();
    let mut answers = Vec::new();
    for comp in &after.comps {
        let rid = values::recurrence_id(comp);
        let base = match before.by_rid(rid.as_deref()) {
            Some(c) => c.clone(),
            // An override the client made to answer one instance; one that names no
            // instance of the organizer's event is dropped.
            None => match instance(&before, rid.as_deref(), limits.max_instances) {
                Ok(c) => c,
                Err(_) => continue,
            },
        };
        let was = partstat_of(&base, &me);
        let mut merged = base;
        take_own_changes(&mut merged, comp);
        let now = partstat_of(comp, &me);
        if let Some(now) = now
            && Some(now) != was
        {
            answer_in(&mut merged, &me, now);
            answers.push((rid.clone(), now));
        }
        match kept
            .comps
            .iter_mut()
            .find(|c| values::recurrence_id(c) == rid)
        {
            Some(slot) => *slot = merged,
            None => kept.comps.push(merged),
        }
    }
    let stored = kept.to_stored_text(limits)?;
    let mut stored = stored;
    for rid in added_exdates(&before, &after) {
        stored = set_partstat(&stored, &me, PartStat::Declined, Some(&rid), limits)?;
        answers.push((Some(rid), PartStat::Declined));
    }
    Ok(AttendeeWrite { stored, answers })
}

/// Alarms, TRANSP and the client's private properties of `client` into `kept`.
fn take_own_changes(kept: &mut Comp, client: &Comp) {
    kept.children
        .retain(|c| c.kind != ICalendarComponentType::VAlarm);
    kept.children.extend(
        client
            .children
            .iter()
            .filter(|c| c.kind == ICalendarComponentType::VAlarm)
            .cloned(),
    );
    kept.entries.retain(|e| {
        !matches!(
            e.name,
            ICalendarProperty::Transp | ICalendarProperty::Other(_)
        )
    });
    kept.entries.extend(
        client
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.name,
                    ICalendarProperty::Transp | ICalendarProperty::Other(_)
                )
            })
            .filter(|e| !crate::sanitize::is_own(e))
            .cloned(),
    );
}

fn partstat_of(comp: &Comp, me: &str) -> Option<PartStat> {
    let entry = comp.entries.get(values::attendee_index(comp, me)?)?;
    let text = values::param_text(entry, &ICalendarParameterName::Partstat);
    Some(
        text.as_deref()
            .and_then(PartStat::parse)
            .unwrap_or(PartStat::NeedsAction),
    )
}

/// Instances the client's master excludes that the organizer's does not.
fn added_exdates(before: &Object, after: &Object) -> Vec<String> {
    let keys = |object: &Object| -> Vec<String> {
        object
            .master()
            .into_iter()
            .flat_map(|m| m.properties(&ICalendarProperty::Exdate))
            .flat_map(|e| e.values.iter().filter_map(|v| values::date_value_key(e, v)))
            .collect()
    };
    let old = keys(before);
    let mut added: Vec<String> = keys(after)
        .into_iter()
        .filter(|k| !old.contains(k))
        .collect();
    added.dedup();
    added
}

/// `ics` with SCHEDULE-STATUS (RFC 6638 section 7.3) set to `status` on the ATTENDEEs
/// named in `attendees`: what became of the message sent to each (`1.1`: queued).
pub fn with_schedule_status(
    ics: &str,
    attendees: &[String],
    status: &str,
    limits: &Limits,
) -> Result<String, ItipError> {
    let mut object = Object::parse(ics, limits)?;
    let wanted: Vec<String> = attendees.iter().map(|a| address::normalize(a)).collect();
    for comp in object.comps.iter_mut() {
        for entry in comp.entries.iter_mut() {
            let named = entry.name == ICalendarProperty::Attendee
                && values::address_of(entry).is_some_and(|a| wanted.contains(&a));
            if named {
                values::set_param(
                    entry,
                    ICalendarParameterName::ScheduleStatus,
                    vec![ICalendarParameterValue::Text(status.to_string())],
                );
            }
        }
    }
    object.to_stored_text(limits)
}

/// `ics` with the SCHEDULE-STATUS of each ATTENDEE as `server` (the stored version) has it
/// for the same attendee of the same component, and none where it has none: the status is
/// the server's record of its messages, which a client's copy only repeats, perhaps stale.
pub fn schedule_status_from(ics: &str, server: &str, limits: &Limits) -> Result<String, ItipError> {
    let mut object = Object::parse(ics, limits)?;
    let server = Object::parse(server, limits)?;
    for comp in object.comps.iter_mut() {
        let theirs = server.by_rid(values::recurrence_id(comp).as_deref());
        for entry in comp.entries.iter_mut() {
            if entry.name != ICalendarProperty::Attendee {
                continue;
            }
            let status = values::address_of(entry).and_then(|a| {
                let comp = theirs?;
                let at = values::attendee_index(comp, &address::normalize(&a))?;
                let theirs = comp.entries.get(at)?;
                theirs
                    .params
                    .iter()
                    .find(|p| p.name == ICalendarParameterName::ScheduleStatus)
                    .cloned()
            });
            values::remove_param(entry, &ICalendarParameterName::ScheduleStatus);
            if let Some(status) = status {
                entry.params.push(status);
            }
        }
    }
    object.to_stored_text(limits)
}

/// Whether the attendee `me` was asked to answer `ics` and has: a DELETE then declines
/// (RFC 6638 section 3.2.5), unless the answer was never given or never wanted.
pub fn owes_decline(ics: &str, me: &str, limits: &Limits) -> Result<bool, ItipError> {
    let object = Object::parse(ics, limits)?;
    let me = address::normalize(me);
    let Some(comp) = object.master().or(object.comps.first()) else {
        return Ok(false);
    };
    let Some(entry) = values::attendee_index(comp, &me).and_then(|at| comp.entries.get(at)) else {
        return Ok(false);
    };
    let rsvp_false = values::param_text(entry, &ICalendarParameterName::Rsvp)
        .is_some_and(|v| v.eq_ignore_ascii_case("FALSE"))
        || matches!(
            values::param(entry, &ICalendarParameterName::Rsvp),
            Some(ICalendarParameterValue::Bool(false))
        );
    let answered = !matches!(
        partstat_of(comp, &me),
        None | Some(PartStat::NeedsAction) | Some(PartStat::Declined)
    );
    Ok(answered && !rsvp_false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_status_is_the_servers_whatever_the_client_sends() {
        let server =
            with_schedule_status(INVITE, &["carol@example.org".into()], "1.2", &limits()).unwrap();
        let client = INVITE.replace(
            "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob",
            "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;SCHEDULE-STATUS=2.0:mailto:bob",
        );
        let kept = schedule_status_from(&client, &server, &limits()).unwrap();
        let kept = kept.replace("\r\n ", "");
        assert!(kept.contains("SCHEDULE-STATUS=1.2:mailto:carol"), "{kept}");
        assert!(!kept.contains("SCHEDULE-STATUS=2.0"), "{kept}");
    }

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//EN\r\n\
        BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:0\r\n\
        DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n\
        SUMMARY:Plan\r\nORGANIZER:mailto:alice@example.org\r\n\
        ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org\r\n\
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn tag_ignores_answers_and_alarms_but_not_the_organizers_fields() {
        let tag = schedule_tag(INVITE, &limits()).unwrap();
        let answered = INVITE.replace("NEEDS-ACTION;RSVP=TRUE", "ACCEPTED");
        let alarm = INVITE.replace(
            "END:VEVENT",
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT",
        );
        assert_eq!(schedule_tag(&answered, &limits()).as_ref(), Some(&tag));
        assert_eq!(schedule_tag(&alarm, &limits()).as_ref(), Some(&tag));
        let moved = INVITE.replace("20300105T100000Z", "20300105T120000Z");
        assert_ne!(schedule_tag(&moved, &limits()), Some(tag));
        let plain = INVITE.replace("ORGANIZER:mailto:alice@example.org\r\n", "");
        assert_eq!(schedule_tag(&plain, &limits()), None);
    }

    #[test]
    fn roles() {
        let bob = vec!["bob@example.org".to_string()];
        assert_eq!(
            role(INVITE, &bob, &limits()).unwrap(),
            Role::Attendee {
                address: "bob@example.org".into(),
                organizer: "alice@example.org".into()
            }
        );
        let alice = vec!["Alice@example.org".to_string()];
        assert!(matches!(
            role(INVITE, &alice, &limits()).unwrap(),
            Role::Organizer(_)
        ));
        let dave = vec!["dave@example.org".to_string()];
        assert!(matches!(
            role(INVITE, &dave, &limits()).unwrap(),
            Role::Other { .. }
        ));
    }

    #[test]
    fn attendee_keeps_organizers_fields_and_answers_once() {
        let client = INVITE
            .replace("NEEDS-ACTION;RSVP=TRUE", "ACCEPTED")
            .replace("SUMMARY:Plan", "SUMMARY:Mine")
            .replace(
                "PARTSTAT=ACCEPTED:mailto:carol",
                "PARTSTAT=DECLINED:mailto:carol",
            );
        let w = attendee_write(INVITE, &client, "bob@example.org", &limits()).unwrap();
        assert_eq!(w.answers, vec![(None, PartStat::Accepted)]);
        assert!(w.stored.contains("SUMMARY:Plan"), "{}", w.stored);
        assert!(
            w.stored.contains("PARTSTAT=ACCEPTED:mailto:carol"),
            "{}",
            w.stored
        );
        let again = attendee_write(&w.stored, &client, "bob@example.org", &limits()).unwrap();
        assert!(again.answers.is_empty());
    }

    #[test]
    fn exdate_declines_that_instance() {
        let client = INVITE.replace("RRULE:", "EXDATE:20300106T100000Z\r\nRRULE:");
        let w = attendee_write(INVITE, &client, "bob@example.org", &limits()).unwrap();
        assert_eq!(
            w.answers,
            vec![(Some("20300106T100000Z".into()), PartStat::Declined)]
        );
        assert!(w.stored.contains("RECURRENCE-ID"), "{}", w.stored);
        assert!(!w.stored.contains("EXDATE"), "{}", w.stored);
    }

    #[test]
    fn schedule_status_marks_only_the_named_attendees() {
        let marked =
            with_schedule_status(INVITE, &["carol@example.org".into()], "1.1", &limits()).unwrap();
        let unfolded = marked.replace("\r\n ", "");
        assert!(
            unfolded.contains("SCHEDULE-STATUS=1.1:mailto:carol@example.org"),
            "{marked}"
        );
        assert_eq!(unfolded.matches("SCHEDULE-STATUS").count(), 1, "{marked}");
        assert_eq!(
            schedule_tag(&marked, &limits()),
            schedule_tag(INVITE, &limits())
        );
    }

    #[test]
    fn decline_owed_only_for_an_answer_wanted_and_given() {
        let me = "bob@example.org";
        assert!(!owes_decline(INVITE, me, &limits()).unwrap());
        let accepted = INVITE.replace("NEEDS-ACTION;RSVP=TRUE", "ACCEPTED");
        assert!(owes_decline(&accepted, me, &limits()).unwrap());
        let unwanted = INVITE.replace("NEEDS-ACTION;RSVP=TRUE", "ACCEPTED;RSVP=FALSE");
        assert!(!owes_decline(&unwanted, me, &limits()).unwrap());
    }
}
