//! What an incoming message may not bring into the user's calendar.

use crate::model::Comp;
use calcard::icalendar::{ICalendarComponentType, ICalendarProperty, ICalendarValue};

/// Our own bookkeeping properties start with this; a sender must not forge them.
pub(crate) const OWN_PREFIX: &str = "X-IMIPD-";

/// Drops alarms (the sender must not make the user's device ring), attachments pointing
/// at local or network files, and forged bookkeeping properties.
pub(crate) fn incoming(comp: &mut Comp) {
    comp.children
        .retain(|c| c.kind != ICalendarComponentType::VAlarm);
    comp.entries.retain(|e| {
        if e.name == ICalendarProperty::Attach {
            return !e.values.iter().any(is_local_uri);
        }
        !is_own(e)
    });
}

pub(crate) fn is_own(entry: &calcard::icalendar::ICalendarEntry) -> bool {
    match &entry.name {
        ICalendarProperty::Other(name) => name
            .get(..OWN_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(OWN_PREFIX)),
        _ => false,
    }
}

fn is_local_uri(value: &ICalendarValue) -> bool {
    let Some(text) = value.as_text() else {
        return false;
    };
    let text = text.trim_start();
    if text.starts_with("\\\\") || text.starts_with("//") {
        return true;
    }
    let scheme = text.split_once(':').map_or("", |(s, _)| s);
    ["file", "smb", "cifs", "nfs"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::object::Object;
    use crate::values;

    #[test]
    fn strips_alarms_local_attachments_and_forged_bookkeeping() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nATTACH:file:///etc/passwd\r\nATTACH:\\\\\\\\server\\\\share\\\\x.exe\r\nATTACH;FMTTYPE=text/plain:SMB://host/x\r\nATTACH:https://example.org/agenda.pdf\r\nX-IMIPD-COUNTER:forged\r\nX-OTHER:kept\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let mut obj = Object::parse(text, &Limits::default()).unwrap();
        let comp = &mut obj.comps[0];
        incoming(comp);
        assert!(comp.children.is_empty());
        let attach: Vec<_> = comp.properties(&ICalendarProperty::Attach).collect();
        assert_eq!(attach.len(), 1, "{attach:?}");
        assert!(values::value_string(attach[0]).contains("https://example.org"));
        assert!(!comp.entries.iter().any(is_own));
        assert!(comp.entries.iter().any(|e| values::is_named(e, "X-OTHER")));
    }
}
