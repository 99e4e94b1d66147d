//! Property names: the live properties this server knows by name, and every other
//! (namespace, local name) pair kept as a dead property (RFC 4918 section 4).

use std::fmt;

/// An XML namespace. The known ones carry the stable prefix every response uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ns {
    /// `DAV:` (RFC 4918), prefix `d`.
    Dav,
    /// `urn:ietf:params:xml:ns:caldav` (RFC 4791), prefix `c`.
    CalDav,
    /// `urn:ietf:params:xml:ns:carddav` (RFC 6352), prefix `card`.
    CardDav,
    /// `http://calendarserver.org/ns/` (getctag and friends), prefix `cs`.
    CalendarServer,
    /// `http://apple.com/ns/ical/` (calendar-color, calendar-order), prefix `ical`.
    AppleIcal,
    /// Any other namespace URI; the empty string is "no namespace".
    Other(Box<str>),
}

impl Ns {
    pub const DAV_URI: &'static str = "DAV:";
    pub const CALDAV_URI: &'static str = "urn:ietf:params:xml:ns:caldav";
    pub const CARDDAV_URI: &'static str = "urn:ietf:params:xml:ns:carddav";
    pub const CALENDARSERVER_URI: &'static str = "http://calendarserver.org/ns/";
    pub const APPLE_ICAL_URI: &'static str = "http://apple.com/ns/ical/";

    pub fn from_uri(uri: &str) -> Ns {
        match uri {
            Self::DAV_URI => Ns::Dav,
            Self::CALDAV_URI => Ns::CalDav,
            Self::CARDDAV_URI => Ns::CardDav,
            Self::CALENDARSERVER_URI => Ns::CalendarServer,
            Self::APPLE_ICAL_URI => Ns::AppleIcal,
            other => Ns::Other(other.into()),
        }
    }

    pub fn uri(&self) -> &str {
        match self {
            Ns::Dav => Self::DAV_URI,
            Ns::CalDav => Self::CALDAV_URI,
            Ns::CardDav => Self::CARDDAV_URI,
            Ns::CalendarServer => Self::CALENDARSERVER_URI,
            Ns::AppleIcal => Self::APPLE_ICAL_URI,
            Ns::Other(uri) => uri,
        }
    }

    /// The prefix declared on every multistatus and error root; `None` for other
    /// namespaces, which are declared as a default namespace on the element itself.
    pub fn prefix(&self) -> Option<&'static str> {
        match self {
            Ns::Dav => Some("d"),
            Ns::CalDav => Some("c"),
            Ns::CardDav => Some("card"),
            Ns::CalendarServer => Some("cs"),
            Ns::AppleIcal => Some("ical"),
            Ns::Other(_) => None,
        }
    }
}

/// A namespaced element name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    pub ns: Ns,
    pub local: Box<str>,
}

impl Name {
    pub fn new(ns: Ns, local: &str) -> Name {
        Name {
            ns,
            local: local.into(),
        }
    }

    pub fn is(&self, ns: &Ns, local: &str) -> bool {
        &self.ns == ns && &*self.local == local
    }
}

impl fmt::Display for Name {
    /// Clark notation, `{DAV:}displayname`, as logs and error messages show names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns.uri(), self.local)
    }
}

/// Who may write a property with PROPPATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Computed by the server; PROPPATCH answers 403 `cannot-modify-protected-property`.
    Protected,
    /// Protected after creation, but MKCALENDAR / extended MKCOL may set it.
    AtCreation,
    /// Stored as given (live with a typed meaning, or dead).
    Writable,
}

macro_rules! live_properties {
    ($( $(#[$doc:meta])* $var:ident => $ns:ident, $local:literal, $access:ident; )*) => {
        /// A property name: a known live property, or a dead one kept by name.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PropName {
            $( $(#[$doc])* $var, )*
            /// Any property this server has no meaning for: stored and returned as XML.
            Dead(Name),
        }

        impl PropName {
            pub fn from_parts(ns: Ns, local: &str) -> PropName {
                match (&ns, local) {
                    $( (Ns::$ns, $local) => PropName::$var, )*
                    _ => PropName::Dead(Name::new(ns, local)),
                }
            }

            pub fn ns(&self) -> &Ns {
                match self {
                    $( PropName::$var => &Ns::$ns, )*
                    PropName::Dead(name) => &name.ns,
                }
            }

            pub fn local(&self) -> &str {
                match self {
                    $( PropName::$var => $local, )*
                    PropName::Dead(name) => &name.local,
                }
            }

            pub fn access(&self) -> Access {
                match self {
                    $( PropName::$var => Access::$access, )*
                    PropName::Dead(_) => Access::Writable,
                }
            }
        }
    };
}

live_properties! {
    ResourceType => Dav, "resourcetype", AtCreation;
    DisplayName => Dav, "displayname", Writable;
    GetEtag => Dav, "getetag", Protected;
    GetContentType => Dav, "getcontenttype", Protected;
    GetContentLength => Dav, "getcontentlength", Protected;
    GetLastModified => Dav, "getlastmodified", Protected;
    CreationDate => Dav, "creationdate", Protected;
    SyncToken => Dav, "sync-token", Protected;
    CurrentUserPrincipal => Dav, "current-user-principal", Protected;
    PrincipalUrl => Dav, "principal-URL", Protected;
    PrincipalCollectionSet => Dav, "principal-collection-set", Protected;
    CurrentUserPrivilegeSet => Dav, "current-user-privilege-set", Protected;
    SupportedReportSet => Dav, "supported-report-set", Protected;
    Owner => Dav, "owner", Protected;
    QuotaAvailableBytes => Dav, "quota-available-bytes", Protected;
    QuotaUsedBytes => Dav, "quota-used-bytes", Protected;
    ResourceId => Dav, "resource-id", Protected;
    CalendarHomeSet => CalDav, "calendar-home-set", Protected;
    CalendarUserAddressSet => CalDav, "calendar-user-address-set", Protected;
    CalendarUserType => CalDav, "calendar-user-type", Protected;
    CalendarDescription => CalDav, "calendar-description", Writable;
    CalendarTimezone => CalDav, "calendar-timezone", Writable;
    SupportedCalendarComponentSet => CalDav, "supported-calendar-component-set", AtCreation;
    SupportedCalendarData => CalDav, "supported-calendar-data", Protected;
    SupportedCollationSet => CalDav, "supported-collation-set", Protected;
    MaxResourceSize => CalDav, "max-resource-size", Protected;
    MinDateTime => CalDav, "min-date-time", Protected;
    MaxDateTime => CalDav, "max-date-time", Protected;
    MaxInstances => CalDav, "max-instances", Protected;
    MaxAttendeesPerInstance => CalDav, "max-attendees-per-instance", Protected;
    CalendarData => CalDav, "calendar-data", Protected;
    ScheduleInboxUrl => CalDav, "schedule-inbox-URL", Protected;
    ScheduleOutboxUrl => CalDav, "schedule-outbox-URL", Protected;
    ScheduleTag => CalDav, "schedule-tag", Protected;
    ScheduleCalendarTransp => CalDav, "schedule-calendar-transp", Writable;
    ScheduleDefaultCalendarUrl => CalDav, "schedule-default-calendar-URL", Writable;
    AddressbookHomeSet => CardDav, "addressbook-home-set", Protected;
    AddressbookDescription => CardDav, "addressbook-description", Writable;
    SupportedAddressData => CardDav, "supported-address-data", Protected;
    AddressData => CardDav, "address-data", Protected;
    AddressbookMaxResourceSize => CardDav, "max-resource-size", Protected;
    PrincipalAddress => CardDav, "principal-address", Protected;
    Getctag => CalendarServer, "getctag", Protected;
    EmailAddressSet => CalendarServer, "email-address-set", Protected;
    CalendarColor => AppleIcal, "calendar-color", Writable;
    CalendarOrder => AppleIcal, "calendar-order", Writable;
}

impl PropName {
    pub fn name(&self) -> Name {
        Name::new(self.ns().clone(), self.local())
    }
}

impl fmt::Display for PropName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns().uri(), self.local())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_their_parts() {
        let cases = [
            (Ns::Dav, "displayname", PropName::DisplayName),
            (Ns::CalendarServer, "getctag", PropName::Getctag),
            (Ns::AppleIcal, "calendar-color", PropName::CalendarColor),
            (
                Ns::CardDav,
                "max-resource-size",
                PropName::AddressbookMaxResourceSize,
            ),
            (Ns::CalDav, "max-resource-size", PropName::MaxResourceSize),
            (
                Ns::from_uri("http://example.com/ns/"),
                "x",
                PropName::Dead(Name::new(Ns::Other("http://example.com/ns/".into()), "x")),
            ),
            // Names are case-sensitive: "DisplayName" is some other, dead property.
            (
                Ns::Dav,
                "DisplayName",
                PropName::Dead(Name::new(Ns::Dav, "DisplayName")),
            ),
        ];
        for (ns, local, want) in cases {
            let got = PropName::from_parts(ns.clone(), local);
            assert_eq!(got, want, "from_parts({ns:?}, {local:?})");
            assert_eq!((got.ns(), got.local()), (&ns, local), "parts of {got}");
        }
    }
}
