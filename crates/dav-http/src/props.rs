//! The live properties of each resource, read from the store's values.

use crate::Dav;
use crate::resource::{self, Node};
use imipd_dav::name::Ns;
use imipd_dav::propfind::{PropertySource, ResourceKind, write_components};
use imipd_dav::{Name, PropName, Xml};
use imipd_store::Usage;

/// The prefix of sync tokens (RFC 6578 section 3.2: a URI); the number is the
/// calendar's position in the change feed.
const SYNC_TOKEN_PREFIX: &str = "urn:imipd:sync:";

pub fn sync_token(token: i64) -> String {
    format!("{SYNC_TOKEN_PREFIX}{token}")
}

/// The feed position of a token this server gave out; `None` for any other text.
pub fn parse_sync_token(token: &str) -> Option<i64> {
    token
        .trim()
        .strip_prefix(SYNC_TOKEN_PREFIX)?
        .parse()
        .ok()
        .filter(|n| *n >= 0)
}

/// The `calendar-timezone` value for a calendar's IANA zone name: a VCALENDAR holding
/// its VTIMEZONE by TZID, which clients read the name from.
pub fn timezone_calendar(tzid: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//imipd//CalDAV//EN\r\nBEGIN:VTIMEZONE\r\nTZID:{tzid}\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
    )
}

/// The zone name of a `calendar-timezone` value: the TZID of its VTIMEZONE.
pub fn timezone_name(value: &str) -> Option<String> {
    let start = value.find("BEGIN:VTIMEZONE")?;
    value[start..]
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("TZID:"))
        .map(|t| t.trim().to_string())
}

/// The CSS basic colour names (and orange), which some clients send instead of
/// `#RRGGBB`; stored as the hex value they name.
const COLOUR_NAMES: &[(&str, &str)] = &[
    ("black", "#000000"),
    ("silver", "#C0C0C0"),
    ("gray", "#808080"),
    ("grey", "#808080"),
    ("white", "#FFFFFF"),
    ("maroon", "#800000"),
    ("red", "#FF0000"),
    ("purple", "#800080"),
    ("fuchsia", "#FF00FF"),
    ("green", "#008000"),
    ("lime", "#00FF00"),
    ("olive", "#808000"),
    ("yellow", "#FFFF00"),
    ("navy", "#000080"),
    ("blue", "#0000FF"),
    ("teal", "#008080"),
    ("aqua", "#00FFFF"),
    ("orange", "#FFA500"),
];

/// A `calendar-color` value given as a colour name, rewritten to its hex form.
pub fn normalize_colour(name: &PropName, value: &mut imipd_dav::xml::tree::Element) {
    if *name != PropName::CalendarColor {
        return;
    }
    let text = value.text();
    if let Some((_, hex)) = COLOUR_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text.trim()))
    {
        value.children = vec![imipd_dav::xml::tree::Node::Text(hex.to_string())];
    }
}

/// One resource's properties.
pub struct Source<'a> {
    pub dav: &'a Dav<'a>,
    pub node: &'a Node,
    /// The `calendar-data` or `address-data` a REPORT asked for (expanded, subset);
    /// the stored text otherwise.
    pub data: Option<String>,
    /// The collection's dead properties (see [`crate::dead`]).
    dead: Vec<(Name, String)>,
}

impl<'a> Source<'a> {
    pub fn new(dav: &'a Dav<'a>, node: &'a Node) -> Source<'a> {
        Source {
            dav,
            node,
            data: None,
            dead: crate::dead::load(dav, node),
        }
    }

    fn addresses(&self) -> Vec<String> {
        self.dav
            .store
            .addresses(self.dav.user)
            .unwrap_or_else(|_| vec![self.dav.user.to_string()])
    }
}

impl PropertySource for Source<'_> {
    fn kind(&self) -> ResourceKind {
        self.node.kind()
    }

    fn live(&self, name: &PropName, x: &mut Xml<'_>) -> bool {
        let user = self.dav.user;
        let cal = match self.node {
            Node::Calendar(c) | Node::Object(c, _) | Node::Version(c, _) => Some(c),
            _ => None,
        };
        let obj = match self.node {
            Node::Object(_, o) | Node::InboxItem(o) => Some(o),
            _ => None,
        };
        let book = match self.node {
            Node::Addressbook(b) => Some(b),
            _ => None,
        };
        let card = match self.node {
            Node::Card(_, c) => Some(c),
            _ => None,
        };
        match name {
            PropName::CurrentUserPrincipal => x.href(&resource::principal(user)),
            PropName::PrincipalCollectionSet => x.href(&format!("/{}/", resource::PRINCIPALS)),
            PropName::Owner => x.href(&resource::principal(user)),
            PropName::PrincipalUrl => x.href(&resource::principal(user)),
            PropName::CalendarHomeSet => x.href(&resource::calendar_home(user)),
            PropName::ScheduleInboxUrl => x.href(&resource::schedule_inbox(user)),
            PropName::ScheduleOutboxUrl => x.href(&resource::schedule_outbox(user)),
            PropName::AddressbookHomeSet => x.href(&resource::addressbook_home(user)),
            PropName::CalendarUserAddressSet => {
                for a in self.addresses() {
                    x.href_uri(&format!("mailto:{a}"));
                }
                x.href(&resource::principal(user));
            }
            PropName::EmailAddressSet => {
                for a in self.addresses() {
                    x.text_element(&Ns::CalendarServer, "email-address", &a);
                }
            }
            PropName::CalendarUserType => x.text("INDIVIDUAL"),
            PropName::DisplayName => match self.node {
                Node::Principal => x.text(user),
                Node::Calendar(c) => x.text(&c.name),
                Node::CalendarHome => x.text("Calendars"),
                Node::AddressbookHome => x.text("Address books"),
                Node::Addressbook(b) => x.text(&b.name),
                _ => return false,
            },
            PropName::CalendarDescription => match cal.and_then(|c| c.description.as_deref()) {
                Some(d) if obj.is_none() => x.text(d),
                _ => return false,
            },
            PropName::CalendarTimezone => match cal.and_then(|c| c.timezone.as_deref()) {
                Some(tz) if obj.is_none() => x.text(&timezone_calendar(tz)),
                _ => return false,
            },
            PropName::CalendarColor => match cal.and_then(|c| c.color.as_deref()) {
                Some(c) if obj.is_none() => x.text(c),
                _ => return false,
            },
            PropName::SupportedCalendarComponentSet => match cal {
                Some(c) => {
                    let comps: Vec<&str> = c.components.iter().map(String::as_str).collect();
                    write_components(x, &comps);
                }
                None => return false,
            },
            PropName::AddressbookDescription => match book {
                Some(b) if !b.description.is_empty() => x.text(&b.description),
                _ => return false,
            },
            PropName::MaxResourceSize | PropName::AddressbookMaxResourceSize => {
                x.text(&self.dav.config.max_request_bytes.to_string())
            }
            PropName::Getctag | PropName::SyncToken => match (cal, obj, book) {
                (Some(c), None, _) => x.text(&sync_token(c.sync_token)),
                (_, _, Some(b)) => x.text(&sync_token(b.sync_token)),
                _ => return false,
            },
            PropName::QuotaUsedBytes => {
                let of = match self.node {
                    Node::CalendarHome => Usage::Calendars,
                    Node::Calendar(c) => Usage::Calendar(&c.id),
                    Node::AddressbookHome => Usage::AddressBooks,
                    Node::Addressbook(b) => Usage::AddressBook(&b.id),
                    _ => return false,
                };
                match self.dav.store.used_bytes(user, of) {
                    Ok(n) => x.text(&n.to_string()),
                    Err(e) => {
                        tracing::warn!(user, "cannot add up the stored bytes: {e}");
                        return false;
                    }
                }
            }
            PropName::GetEtag => match (obj, card, self.node) {
                (Some(o), ..) => x.text(&o.etag()),
                (_, Some(c), _) => x.text(&c.etag()),
                (.., Node::Version(_, v)) => x.text(&v.etag()),
                _ => return false,
            },
            PropName::GetContentLength => match (obj, card, self.node) {
                (Some(o), ..) => x.text(&o.ics.len().to_string()),
                (_, Some(c), _) => x.text(&c.vcard.len().to_string()),
                (.., Node::Version(_, v)) => x.text(&v.size.to_string()),
                _ => return false,
            },
            PropName::AddressData => match card {
                Some(c) => x.text(self.data.as_deref().unwrap_or(&c.vcard)),
                None => return false,
            },
            PropName::ScheduleTag => {
                match obj.and_then(|o| imipd_calendar::schedule_tag(&o.ics, &Default::default())) {
                    Some(tag) => x.text(&format!("\"{tag}\"")),
                    None => return false,
                }
            }
            PropName::CalendarData => match obj {
                Some(o) => x.text(self.data.as_deref().unwrap_or(&o.ics)),
                None => return false,
            },
            // Live names imipd only keeps, such as calendar-order.
            other => match self.dead(&other.name()) {
                Some(xml) => x.raw(xml),
                None => return false,
            },
        }
        true
    }

    fn dead(&self, name: &Name) -> Option<&str> {
        self.dead
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, xml)| xml.as_str())
    }

    /// Only the truly dead ones: those kept for a live name are listed as live.
    fn each_dead(&self, f: &mut dyn FnMut(&Name, &str)) {
        for (name, xml) in &self.dead {
            if matches!(
                PropName::from_parts(name.ns.clone(), &name.local),
                PropName::Dead(_)
            ) {
                f(name, xml);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tokens_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(parse_sync_token(&sync_token(42)), Some(42));
        for bad in [
            "",
            "42",
            "urn:imipd:sync:",
            "urn:imipd:sync:-1",
            "http://x/sync/1",
        ] {
            assert_eq!(parse_sync_token(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn colour_names_become_hex_and_others_stay() {
        let el = |t: &str| imipd_dav::xml::tree::Element {
            name: Name::new(Ns::AppleIcal, "calendar-color"),
            attrs: Vec::new(),
            children: vec![imipd_dav::xml::tree::Node::Text(t.into())],
        };
        for (given, stored) in [
            ("Blue", "#0000FF"),
            ("#00FF00FF", "#00FF00FF"),
            ("mauve", "mauve"),
        ] {
            let mut v = el(given);
            normalize_colour(&PropName::CalendarColor, &mut v);
            assert_eq!(v.text(), stored, "{given}");
        }
        let mut v = el("blue");
        normalize_colour(&PropName::DisplayName, &mut v);
        assert_eq!(v.text(), "blue");
    }

    #[test]
    fn time_zone_names_come_from_the_vtimezone() {
        assert_eq!(
            timezone_name(&timezone_calendar("Europe/Berlin")).as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(timezone_name("BEGIN:VCALENDAR\r\nTZID:X\r\n"), None);
    }
}
