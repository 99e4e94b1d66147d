//! What clients read before their first PROPFIND: the `/.well-known/` redirects
//! (RFC 6764 section 5), the `DAV` header of OPTIONS (RFC 4918 section 10.1,
//! RFC 4791 section 5.1, RFC 6352 section 6.1) and `Allow`.

use crate::href::DavPath;
use crate::propfind::ResourceKind;

/// A `/.well-known/` service name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    CalDav,
    CardDav,
}

impl WellKnown {
    /// The service a request path names, if it is one of the two well-known URIs
    /// (with or without a trailing `/`). The HTTP layer answers it with a redirect
    /// (RFC 6764 section 5: 301, 302 or 307) to the context path, where
    /// `current-user-principal` leads on.
    pub fn from_path(path: &DavPath) -> Option<WellKnown> {
        match path.key() {
            "/.well-known/caldav" => Some(WellKnown::CalDav),
            "/.well-known/carddav" => Some(WellKnown::CardDav),
            _ => None,
        }
    }
}

/// The `DAV` response header. `calendar-auto-schedule` is named only once the server
/// schedules (RFC 6638): advertising it earlier makes Thunderbird stop sending its
/// own invitations.
pub fn dav_header(scheduling: bool) -> &'static str {
    if scheduling {
        "1, 3, extended-mkcol, calendar-access, addressbook, calendar-auto-schedule"
    } else {
        "1, 3, extended-mkcol, calendar-access, addressbook"
    }
}

/// The `Allow` header for a resource of this kind.
pub fn allow_header(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::CalendarObject | ResourceKind::AddressObject => {
            "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT"
        }
        ResourceKind::Calendar | ResourceKind::Addressbook => {
            "OPTIONS, DELETE, PROPFIND, PROPPATCH, REPORT"
        }
        ResourceKind::CalendarHome => "OPTIONS, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL",
        ResourceKind::AddressbookHome => "OPTIONS, PROPFIND, PROPPATCH, REPORT, MKCOL",
        ResourceKind::ScheduleOutbox => "OPTIONS, PROPFIND, REPORT, POST",
        ResourceKind::Principal | ResourceKind::Collection | ResourceKind::ScheduleInbox => {
            "OPTIONS, PROPFIND, REPORT"
        }
    }
}

/// The body of a `principal-search-property-set` report (RFC 3744 section 9.5): the
/// properties `principal-property-search` matches on here.
pub fn principal_search_property_set() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:principal-search-property-set",
    );
    out.push_str(crate::response::ROOT_NAMESPACES);
    out.push('>');
    for (prop, description) in [
        ("<d:displayname/>", "Display name"),
        ("<c:calendar-user-address-set/>", "Calendar user address"),
        ("<cs:email-address-set/>", "Email address"),
    ] {
        out.push_str("<d:principal-search-property><d:prop>");
        out.push_str(prop);
        out.push_str("</d:prop><d:description xml:lang=\"en\">");
        out.push_str(description);
        out.push_str("</d:description></d:principal-search-property>");
    }
    out.push_str("</d:principal-search-property-set>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_paths() {
        let cases = [
            ("/.well-known/caldav", Some(WellKnown::CalDav)),
            ("/.well-known/caldav/", Some(WellKnown::CalDav)),
            ("/.well-known/carddav", Some(WellKnown::CardDav)),
            ("/.well-known/%63aldav", Some(WellKnown::CalDav)),
            ("/.well-known/webdav", None),
            ("/caldav", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                WellKnown::from_path(&DavPath::parse(raw).unwrap()),
                want,
                "{raw}"
            );
        }
        assert!(!dav_header(false).contains("auto-schedule"));
        let set = principal_search_property_set();
        assert!(crate::xml::parse_tree(set.as_bytes()).is_ok(), "{set}");
        assert!(dav_header(true).ends_with("calendar-auto-schedule"));
    }
}
