//! Dead properties of collections: what a PROPPATCH sets that imipd gives no meaning to
//! (any unknown name, and Apple's `calendar-order` and `schedule-calendar-transp`, which are
//! only kept), stored per collection and read back for PROPFIND.

use crate::Dav;
use crate::resource::Node;
use imipd_dav::name::Ns;
use imipd_dav::propfind::PatchOutcome;
use imipd_dav::request::PatchOp;
use imipd_dav::{Name, PropName};
use imipd_store::{DeadChange, PropertyOwner, check_dead_changes};

/// The collection whose dead properties `node` has; objects and the principal have none.
pub fn owner(node: &Node) -> Option<PropertyOwner<'_>> {
    match node {
        Node::CalendarHome => Some(PropertyOwner::CalendarHome),
        Node::Calendar(c) => Some(PropertyOwner::Calendar(&c.id)),
        Node::AddressbookHome => Some(PropertyOwner::AddressBookHome),
        Node::Addressbook(b) => Some(PropertyOwner::AddressBook(&b.id)),
        _ => None,
    }
}

/// Whether a writable property is kept as its XML rather than in the collection's row.
pub fn kept_as_xml(name: &PropName) -> bool {
    matches!(
        name,
        PropName::Dead(_) | PropName::CalendarOrder | PropName::ScheduleCalendarTransp
    )
}

/// The stored dead properties of `node`, by name; nothing for a node without any or when
/// the store cannot be read (logged: the live properties still answer).
pub fn load(dav: &Dav<'_>, node: &Node) -> Vec<(Name, String)> {
    let Some(owner) = owner(node) else {
        return Vec::new();
    };
    match dav.store.dead_properties(dav.user, &owner) {
        Ok(props) => props
            .into_iter()
            .map(|p| (Name::new(Ns::from_uri(&p.namespace), &p.name), p.xml))
            .collect(),
        Err(e) => {
            tracing::warn!(user = dav.user, "cannot read dead properties: {e}");
            Vec::new()
        }
    }
}

/// The changes of a PROPPATCH (or MKCALENDAR / extended MKCOL) kept as XML, for the ops
/// that passed so far (200 or 424), the bounds checked: a change over them answers 507,
/// with the reason as the response's description.
pub fn changes(
    dav: &Dav<'_>,
    owner: &PropertyOwner<'_>,
    ops: &[PatchOp],
    outcome: &mut PatchOutcome,
) -> imipd_store::Result<Vec<DeadChange>> {
    let mut picked = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let status = outcome.statuses[i].1;
        if !kept_as_xml(op.name()) || status != 200 && status != 424 {
            continue;
        }
        let name = op.name();
        picked.push((
            i,
            DeadChange {
                namespace: name.ns().uri().to_string(),
                name: name.local().to_string(),
                xml: match op {
                    PatchOp::Set(_, value) => Some(value.inner_xml()),
                    PatchOp::Remove(_) => None,
                },
            },
        ));
    }
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let existing = dav.store.dead_properties(dav.user, owner)?;
    let changes: Vec<DeadChange> = picked.iter().map(|(_, c)| c.clone()).collect();
    for ((i, change), refusal) in picked.iter().zip(check_dead_changes(&existing, &changes)) {
        if let Some(refusal) = refusal {
            outcome.statuses[*i].1 = 507;
            let reason = format!(
                "{{{}}}{} not kept: {refusal}",
                change.namespace, change.name
            );
            outcome.description = Some(reason);
        }
    }
    Ok(changes)
}
