//! Preconditions (RFC 4918 section 16, RFC 4791 section 5.3.2.1 and 7.x, RFC 6352,
//! RFC 6578, RFC 5689) and the `DAV:error` body that names the one that failed.

use crate::escape;
use crate::href;
use crate::name::Ns;
use crate::response::ROOT_NAMESPACES;

/// A DAV privilege, as `need-privileges` and `current-user-privilege-set` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    Read,
    Write,
    WriteProperties,
    WriteContent,
    Bind,
    Unbind,
    ReadAcl,
    ReadCurrentUserPrivilegeSet,
    All,
    /// RFC 4791 section 6.1.1.
    ReadFreeBusy,
    /// RFC 6638 section 6.
    ScheduleDeliver,
    ScheduleSend,
}

impl Privilege {
    pub fn name(self) -> (Ns, &'static str) {
        match self {
            Privilege::Read => (Ns::Dav, "read"),
            Privilege::Write => (Ns::Dav, "write"),
            Privilege::WriteProperties => (Ns::Dav, "write-properties"),
            Privilege::WriteContent => (Ns::Dav, "write-content"),
            Privilege::Bind => (Ns::Dav, "bind"),
            Privilege::Unbind => (Ns::Dav, "unbind"),
            Privilege::ReadAcl => (Ns::Dav, "read-acl"),
            Privilege::ReadCurrentUserPrivilegeSet => (Ns::Dav, "read-current-user-privilege-set"),
            Privilege::All => (Ns::Dav, "all"),
            Privilege::ReadFreeBusy => (Ns::CalDav, "read-free-busy"),
            Privilege::ScheduleDeliver => (Ns::CalDav, "schedule-deliver"),
            Privilege::ScheduleSend => (Ns::CalDav, "schedule-send"),
        }
    }
}

/// A failed precondition: the status it is answered with and the element that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    // RFC 4791 (CalDAV)
    ValidCalendarData,
    ValidCalendarObjectResource,
    SupportedCalendarData,
    SupportedCalendarComponent,
    /// Another resource in the collection already has this UID; carries its path.
    NoUidConflict {
        href: String,
    },
    CalendarCollectionLocationOk,
    MaxResourceSize,
    MinDateTime,
    MaxDateTime,
    MaxInstances,
    MaxAttendeesPerInstance,
    ValidFilter,
    SupportedFilter,
    SupportedCollation,
    ValidTimezone,
    // RFC 6352 (CardDAV)
    ValidAddressData,
    SupportedAddressData,
    CardNoUidConflict {
        href: String,
    },
    AddressbookCollectionLocationOk,
    CardMaxResourceSize,
    CardSupportedFilter,
    CardSupportedCollation,
    // RFC 6578 (sync)
    ValidSyncToken,
    NumberOfMatchesWithinLimits,
    // RFC 4918 / 3744 / 3253 / 5689 (DAV)
    /// The path and the privilege the user lacks there.
    NeedPrivileges(Vec<(String, Privilege)>),
    CannotModifyProtectedProperty,
    PropfindFiniteDepth,
    ResourceMustBeNull,
    SupportedReport,
    ValidResourcetype,
    // RFC 6638 (scheduling), used by the next stage.
    ValidSchedulingMessage,
    ValidOrganizer,
    OrganizerAllowed,
    AllowedOrganizerObjectChange,
    AllowedAttendeeObjectChange,
}

impl Precondition {
    /// The HTTP status the precondition is answered with.
    pub fn status(&self) -> u16 {
        use Precondition::*;
        match self {
            NoUidConflict { .. } | CardNoUidConflict { .. } | ResourceMustBeNull => 409,
            ValidSyncToken | NumberOfMatchesWithinLimits => 403,
            MaxResourceSize | CardMaxResourceSize => 413,
            _ => 403,
        }
    }

    pub fn name(&self) -> (Ns, &'static str) {
        use Precondition::*;
        match self {
            ValidCalendarData => (Ns::CalDav, "valid-calendar-data"),
            ValidCalendarObjectResource => (Ns::CalDav, "valid-calendar-object-resource"),
            SupportedCalendarData => (Ns::CalDav, "supported-calendar-data"),
            SupportedCalendarComponent => (Ns::CalDav, "supported-calendar-component"),
            NoUidConflict { .. } => (Ns::CalDav, "no-uid-conflict"),
            CalendarCollectionLocationOk => (Ns::CalDav, "calendar-collection-location-ok"),
            MaxResourceSize => (Ns::CalDav, "max-resource-size"),
            MinDateTime => (Ns::CalDav, "min-date-time"),
            MaxDateTime => (Ns::CalDav, "max-date-time"),
            MaxInstances => (Ns::CalDav, "max-instances"),
            MaxAttendeesPerInstance => (Ns::CalDav, "max-attendees-per-instance"),
            ValidFilter => (Ns::CalDav, "valid-filter"),
            SupportedFilter => (Ns::CalDav, "supported-filter"),
            SupportedCollation => (Ns::CalDav, "supported-collation"),
            ValidTimezone => (Ns::CalDav, "valid-timezone"),
            ValidAddressData => (Ns::CardDav, "valid-address-data"),
            SupportedAddressData => (Ns::CardDav, "supported-address-data"),
            CardNoUidConflict { .. } => (Ns::CardDav, "no-uid-conflict"),
            AddressbookCollectionLocationOk => (Ns::CardDav, "addressbook-collection-location-ok"),
            CardMaxResourceSize => (Ns::CardDav, "max-resource-size"),
            CardSupportedFilter => (Ns::CardDav, "supported-filter"),
            CardSupportedCollation => (Ns::CardDav, "supported-collation"),
            ValidSyncToken => (Ns::Dav, "valid-sync-token"),
            NumberOfMatchesWithinLimits => (Ns::Dav, "number-of-matches-within-limits"),
            NeedPrivileges(_) => (Ns::Dav, "need-privileges"),
            CannotModifyProtectedProperty => (Ns::Dav, "cannot-modify-protected-property"),
            PropfindFiniteDepth => (Ns::Dav, "propfind-finite-depth"),
            ResourceMustBeNull => (Ns::Dav, "resource-must-be-null"),
            SupportedReport => (Ns::Dav, "supported-report"),
            ValidResourcetype => (Ns::Dav, "valid-resourcetype"),
            ValidSchedulingMessage => (Ns::CalDav, "valid-scheduling-message"),
            ValidOrganizer => (Ns::CalDav, "valid-organizer"),
            OrganizerAllowed => (Ns::CalDav, "organizer-allowed"),
            AllowedOrganizerObjectChange => {
                (Ns::CalDav, "allowed-organizer-scheduling-object-change")
            }
            AllowedAttendeeObjectChange => {
                (Ns::CalDav, "allowed-attendee-scheduling-object-change")
            }
        }
    }

    /// Appends the precondition element (`<c:no-uid-conflict><d:href>…</d:href></c:no-uid-conflict>`).
    pub fn write_element(&self, out: &mut String) {
        let (ns, local) = self.name();
        let prefix = ns.prefix().unwrap_or("d");
        let open = |out: &mut String| {
            out.push('<');
            out.push_str(prefix);
            out.push(':');
            out.push_str(local);
        };
        match self {
            Precondition::NoUidConflict { href: path }
            | Precondition::CardNoUidConflict { href: path } => {
                open(out);
                out.push_str("><d:href>");
                href::encode_into(path, out);
                out.push_str("</d:href>");
            }
            Precondition::NeedPrivileges(items) => {
                open(out);
                out.push('>');
                for (path, privilege) in items {
                    out.push_str("<d:resource><d:href>");
                    href::encode_into(path, out);
                    out.push_str("</d:href><d:privilege>");
                    let (pns, plocal) = privilege.name();
                    out.push('<');
                    out.push_str(pns.prefix().unwrap_or("d"));
                    out.push(':');
                    out.push_str(plocal);
                    out.push_str("/></d:privilege></d:resource>");
                }
            }
            _ => {
                open(out);
                out.push_str("/>");
                return;
            }
        }
        out.push_str("</");
        out.push_str(prefix);
        out.push(':');
        out.push_str(local);
        out.push('>');
    }

    /// The whole `DAV:error` body (RFC 4918 section 16), with an optional
    /// human-readable sentence that names the thing and the fix.
    pub fn render(&self, message: Option<&str>) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error");
        out.push_str(ROOT_NAMESPACES);
        out.push('>');
        self.write_element(&mut out);
        if let Some(m) = message {
            // Sabre's convention, which clients show to the user.
            out.push_str("<s:message xmlns:s=\"http://sabredav.org/ns\">");
            escape::text_into(m, &mut out);
            out.push_str("</s:message>");
        }
        out.push_str("</d:error>\n");
        out
    }
}
