//! What an organizer's save tells the attendees: the whole event, or only the instances it
//! touched (RFC 5546 sections 3.2.2 and 3.2.5, RFC 6638 section 3.2.1). An override added
//! or changed goes out alone as a REQUEST for its RECURRENCE-ID; an instance called off
//! (an EXDATE added, or its override marked CANCELLED) as a CANCEL for it. A change to the
//! master, or an override dropped so the instance falls back to the master, is the whole
//! event again.

use imipd_calendar::ComponentTag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// The whole event, to every attendee.
    Whole,
    /// Only these instances changed.
    Instances(Vec<InstanceNews>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceNews {
    pub recurrence_id: String,
    pub cancelled: bool,
    /// The attendees of the instance (before, for one called off).
    pub attendees: Vec<String>,
}

/// The news of `new` over `previous`, each given component by component.
pub fn news(previous: &[ComponentTag], new: &[ComponentTag]) -> News {
    let master =
        |tags: &'_ [ComponentTag]| tags.iter().find(|t| t.recurrence_id.is_none()).cloned();
    let (Some(old_master), Some(new_master)) = (master(previous), master(new)) else {
        return News::Whole;
    };
    if old_master.tag != new_master.tag {
        return News::Whole;
    }
    let find = |tags: &'_ [ComponentTag], rid: &str| {
        tags.iter()
            .find(|t| t.recurrence_id.as_deref() == Some(rid))
            .cloned()
    };
    let overrides = |tags: &'_ [ComponentTag]| {
        tags.iter()
            .filter_map(|t| t.recurrence_id.clone().map(|rid| (rid, t.clone())))
            .collect::<Vec<_>>()
    };
    let mut items = Vec::new();
    for (rid, _) in overrides(previous) {
        if find(new, &rid).is_none() && !new_master.exdates.contains(&rid) {
            return News::Whole;
        }
    }
    for rid in new_master
        .exdates
        .iter()
        .filter(|d| !old_master.exdates.contains(d))
    {
        let before = find(previous, rid).unwrap_or_else(|| old_master.clone());
        items.push(InstanceNews {
            recurrence_id: rid.clone(),
            cancelled: true,
            attendees: before.attendees,
        });
    }
    for (rid, now) in overrides(new) {
        let before = find(previous, &rid);
        let same = before
            .as_ref()
            .is_some_and(|b| b.tag == now.tag || (b.cancelled && now.cancelled));
        if same || items.iter().any(|i| i.recurrence_id == rid) {
            continue;
        }
        let attendees = match (&before, now.cancelled) {
            (Some(b), true) => b.attendees.clone(),
            _ => now.attendees.clone(),
        };
        items.push(InstanceNews {
            recurrence_id: rid,
            cancelled: now.cancelled,
            attendees,
        });
    }
    if items.is_empty() {
        News::Whole
    } else {
        News::Instances(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(rid: Option<&str>, tag: &str, exdates: &[&str], cancelled: bool) -> ComponentTag {
        ComponentTag {
            recurrence_id: rid.map(str::to_string),
            tag: tag.to_string(),
            exdates: exdates.iter().map(|d| d.to_string()).collect(),
            cancelled,
            attendees: vec![format!("mailto:{tag}@example.org")],
        }
    }

    const DAY2: &str = "20300111T100000Z";

    #[test]
    fn a_changed_master_is_the_whole_event() {
        let before = [tag(None, "m", &[], false)];
        let after = [
            tag(None, "m2", &[], false),
            tag(Some(DAY2), "o", &[], false),
        ];
        assert_eq!(news(&before, &after), News::Whole);
        assert_eq!(news(&[], &after), News::Whole);
    }

    #[test]
    fn an_added_or_changed_override_is_a_request_for_it_alone() {
        let before = [tag(None, "m", &[], false)];
        let added = [tag(None, "m", &[], false), tag(Some(DAY2), "o", &[], false)];
        let want = |attendee: &str| {
            News::Instances(vec![InstanceNews {
                recurrence_id: DAY2.into(),
                cancelled: false,
                attendees: vec![format!("mailto:{attendee}@example.org")],
            }])
        };
        assert_eq!(news(&before, &added), want("o"));
        let changed = [
            tag(None, "m", &[], false),
            tag(Some(DAY2), "o2", &[], false),
        ];
        assert_eq!(news(&added, &changed), want("o2"));
        // The same override again: nothing of its own to tell.
        assert_eq!(news(&added, &added), News::Whole);
    }

    #[test]
    fn an_instance_called_off_is_a_cancel_for_it_to_whom_it_had() {
        let before = [tag(None, "m", &[], false), tag(Some(DAY2), "o", &[], false)];
        let excluded = [tag(None, "m", &[DAY2], false)];
        let cancel = News::Instances(vec![InstanceNews {
            recurrence_id: DAY2.into(),
            cancelled: true,
            attendees: vec!["mailto:o@example.org".into()],
        }]);
        assert_eq!(news(&before, &excluded), cancel);
        let marked = [tag(None, "m", &[], false), tag(Some(DAY2), "x", &[], true)];
        assert_eq!(news(&before, &marked), cancel);
        assert_eq!(news(&marked, &marked), News::Whole);
    }

    #[test]
    fn an_override_dropped_falls_back_to_the_master_for_everyone() {
        let before = [tag(None, "m", &[], false), tag(Some(DAY2), "o", &[], false)];
        let after = [tag(None, "m", &[], false)];
        assert_eq!(news(&before, &after), News::Whole);
    }
}
