//! The resource model and the propstat sets of PROPFIND, REPORT and PROPPATCH
//! answers: given what a resource is ([`ResourceKind`]) and what it has
//! ([`PropertySource`]), build the `DAV:response`; the HTTP layer supplies values.

use crate::error::Privilege;
use crate::headers::Prefer;
use crate::name::{Access, Name, Ns, PropName};
use crate::request::{Mkcol, PatchOp, PropRequest, PropSelection, PropertyUpdate, ReportKind};
use crate::response::{Multistatus, Xml};

/// What a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `/` and other plain collections above the homes.
    Collection,
    Principal,
    CalendarHome,
    Calendar,
    AddressbookHome,
    Addressbook,
    /// RFC 6638 scheduling inbox and outbox (answered once scheduling lands).
    ScheduleInbox,
    ScheduleOutbox,
    CalendarObject,
    AddressObject,
}

use PropName as P;
use ResourceKind as K;

const COMMON: &[PropName] = &[
    P::ResourceType,
    P::DisplayName,
    P::CurrentUserPrincipal,
    P::CurrentUserPrivilegeSet,
    P::Owner,
    P::SupportedReportSet,
    P::PrincipalCollectionSet,
];
const PRINCIPAL: &[PropName] = &[
    P::PrincipalUrl,
    P::CalendarHomeSet,
    P::AddressbookHomeSet,
    P::CalendarUserAddressSet,
    P::CalendarUserType,
    P::EmailAddressSet,
    P::ScheduleInboxUrl,
    P::ScheduleOutboxUrl,
];
const CALENDAR: &[PropName] = &[
    P::CalendarDescription,
    P::CalendarTimezone,
    P::SupportedCalendarComponentSet,
    P::SupportedCalendarData,
    P::SupportedCollationSet,
    P::MaxResourceSize,
    P::Getctag,
    P::SyncToken,
    P::CalendarColor,
    P::CalendarOrder,
    P::ScheduleCalendarTransp,
    P::QuotaAvailableBytes,
    P::QuotaUsedBytes,
];
const ADDRESSBOOK: &[PropName] = &[
    P::AddressbookDescription,
    P::SupportedAddressData,
    P::AddressbookMaxResourceSize,
    P::Getctag,
    P::SyncToken,
    P::QuotaAvailableBytes,
    P::QuotaUsedBytes,
];
const HOME: &[PropName] = &[P::QuotaAvailableBytes, P::QuotaUsedBytes, P::SyncToken];
const OBJECT: &[PropName] = &[
    P::GetEtag,
    P::GetContentType,
    P::GetContentLength,
    P::GetLastModified,
    P::CreationDate,
];
const CALENDAR_OBJECT: &[PropName] = &[P::CalendarData, P::ScheduleTag];
const ADDRESS_OBJECT: &[PropName] = &[P::AddressData];

/// Live properties that `allprop` leaves out (RFC 4791 section 5.2 / 9.6, RFC 6352
/// section 10.4: the data properties are only returned when named).
fn in_allprop(name: &PropName) -> bool {
    !matches!(
        name,
        P::CalendarData
            | P::AddressData
            | P::CurrentUserPrivilegeSet
            | P::SupportedReportSet
            | P::QuotaAvailableBytes
            | P::QuotaUsedBytes
    )
}

impl ResourceKind {
    /// The live property groups this kind has.
    fn groups(self) -> [&'static [PropName]; 3] {
        match self {
            K::Collection => [COMMON, &[], &[]],
            K::Principal => [COMMON, PRINCIPAL, &[]],
            K::CalendarHome | K::AddressbookHome => [COMMON, HOME, &[]],
            K::Calendar => [COMMON, CALENDAR, &[]],
            K::Addressbook => [COMMON, ADDRESSBOOK, &[]],
            K::ScheduleInbox | K::ScheduleOutbox => {
                [COMMON, &[P::SupportedCalendarComponentSet], &[]]
            }
            K::CalendarObject => [COMMON, OBJECT, CALENDAR_OBJECT],
            K::AddressObject => [COMMON, OBJECT, ADDRESS_OBJECT],
        }
    }

    /// Whether `name` is a live property of this kind.
    pub fn has(self, name: &PropName) -> bool {
        self.groups().iter().any(|g| g.contains(name))
    }

    pub fn live_properties(self) -> impl Iterator<Item = &'static PropName> {
        self.groups().into_iter().flatten()
    }

    pub fn is_collection(self) -> bool {
        !matches!(self, K::CalendarObject | K::AddressObject)
    }

    /// The reports `supported-report-set` lists, and the only ones REPORT accepts here.
    pub fn reports(self) -> &'static [ReportKind] {
        use ReportKind as R;
        match self {
            K::Calendar => &[
                R::CalendarQuery,
                R::CalendarMultiget,
                R::FreeBusyQuery,
                R::SyncCollection,
                R::ExpandProperty,
            ],
            K::Addressbook => &[
                R::AddressbookQuery,
                R::AddressbookMultiget,
                R::SyncCollection,
                R::ExpandProperty,
            ],
            K::CalendarObject => &[R::CalendarMultiget, R::ExpandProperty],
            K::AddressObject => &[R::AddressbookMultiget, R::ExpandProperty],
            K::ScheduleInbox => &[R::CalendarQuery, R::CalendarMultiget, R::SyncCollection],
            K::Principal
            | K::Collection
            | K::CalendarHome
            | K::AddressbookHome
            | K::ScheduleOutbox => &[
                R::ExpandProperty,
                R::PrincipalPropertySearch,
                R::PrincipalSearchPropertySet,
                R::CalendarserverPrincipalSearch,
            ],
        }
    }

    fn write_resourcetype(self, x: &mut Xml<'_>) {
        if self.is_collection() {
            x.empty(&Ns::Dav, "collection");
        }
        match self {
            K::Principal => x.empty(&Ns::Dav, "principal"),
            K::Calendar => x.empty(&Ns::CalDav, "calendar"),
            K::Addressbook => x.empty(&Ns::CardDav, "addressbook"),
            K::ScheduleInbox => x.empty(&Ns::CalDav, "schedule-inbox"),
            K::ScheduleOutbox => x.empty(&Ns::CalDav, "schedule-outbox"),
            _ => {}
        }
    }

    /// May PROPPATCH write `name` here?
    pub fn writable(self, name: &PropName) -> bool {
        match name.access() {
            Access::Protected | Access::AtCreation => false,
            Access::Writable => match name {
                P::Dead(_) => true,
                // The principal's name comes from the user database.
                P::DisplayName => !matches!(self, K::Principal),
                _ => self.has(name),
            },
        }
    }
}

/// What a resource has; implemented by the HTTP layer over the store.
pub trait PropertySource {
    fn kind(&self) -> ResourceKind;

    /// Writes the value of a live property between its tags; `false` when the
    /// resource has no value for it (answered 404). Properties the core derives from
    /// the kind (resourcetype, supported-report-set, supported-calendar-data,
    /// supported-address-data, supported-collation-set) are never asked for;
    /// getcontenttype and current-user-privilege-set are asked first and fall back
    /// to the object's media type and the owner's privileges.
    fn live(&self, name: &PropName, x: &mut Xml<'_>) -> bool;

    /// A dead property's stored value (self-contained XML, see
    /// [`crate::xml::tree::Element::inner_xml`]).
    fn dead(&self, name: &Name) -> Option<&str>;

    /// Calls `f` with every dead property, for `allprop` and `propname`.
    fn each_dead(&self, f: &mut dyn FnMut(&Name, &str));
}

/// The privileges an owner has on their own resources.
pub const OWNER_PRIVILEGES: &[Privilege] = &[
    Privilege::Read,
    Privilege::Write,
    Privilege::WriteProperties,
    Privilege::WriteContent,
    Privilege::Bind,
    Privilege::Unbind,
    Privilege::ReadCurrentUserPrivilegeSet,
    Privilege::ReadFreeBusy,
];

/// Writes `<d:privilege><d:read/></d:privilege>…`.
pub fn write_privileges(x: &mut Xml<'_>, privileges: &[Privilege]) {
    for p in privileges {
        let (ns, local) = p.name();
        x.open(&Ns::Dav, "privilege");
        x.empty(&ns, local);
        x.close(&Ns::Dav, "privilege");
    }
}

/// Writes `<c:comp name="VEVENT"/>…` for supported-calendar-component-set.
pub fn write_components(x: &mut Xml<'_>, components: &[&str]) {
    for c in components {
        x.open_with(&Ns::CalDav, "comp", &[("name", c)], true);
    }
}

fn write_structural(kind: ResourceKind, name: &PropName, x: &mut Xml<'_>) -> Option<bool> {
    match name {
        P::ResourceType => kind.write_resourcetype(x),
        P::SupportedReportSet => {
            for r in kind.reports() {
                let (ns, local) = r.name();
                x.open(&Ns::Dav, "supported-report");
                x.open(&Ns::Dav, "report");
                x.empty(&ns, local);
                x.close(&Ns::Dav, "report");
                x.close(&Ns::Dav, "supported-report");
            }
        }
        P::SupportedCalendarData if kind == K::Calendar => {
            x.open_with(
                &Ns::CalDav,
                "calendar-data",
                &[("content-type", "text/calendar"), ("version", "2.0")],
                true,
            );
        }
        P::SupportedAddressData if kind == K::Addressbook => {
            for v in ["3.0", "4.0"] {
                x.open_with(
                    &Ns::CardDav,
                    "address-data-type",
                    &[("content-type", "text/vcard"), ("version", v)],
                    true,
                );
            }
        }
        P::SupportedCollationSet if kind == K::Calendar => {
            for c in ["i;ascii-casemap", "i;octet", "i;unicode-casemap"] {
                x.text_element(&Ns::CalDav, "supported-collation", c);
            }
        }
        _ => return None,
    }
    Some(true)
}

fn write_value(
    src: &dyn PropertySource,
    kind: ResourceKind,
    name: &PropName,
    x: &mut Xml<'_>,
) -> bool {
    if let P::Dead(n) = name {
        return match src.dead(n) {
            Some(v) => {
                x.raw(v);
                true
            }
            None => false,
        };
    }
    if !kind.has(name) {
        return false;
    }
    if let Some(found) = write_structural(kind, name, x) {
        return found;
    }
    if src.live(name, x) {
        return true;
    }
    match (name, kind) {
        (P::GetContentType, K::CalendarObject) => x.text("text/calendar; charset=utf-8"),
        (P::GetContentType, K::AddressObject) => x.text("text/vcard; charset=utf-8"),
        (P::CurrentUserPrivilegeSet, _) => write_privileges(x, OWNER_PRIVILEGES),
        _ => return false,
    }
    true
}

/// Writes one property with its value; leaves nothing behind and returns false when
/// the resource has none.
fn write_prop(
    src: &dyn PropertySource,
    kind: ResourceKind,
    name: &PropName,
    x: &mut Xml<'_>,
) -> bool {
    let mark = x.len();
    x.prop_open(name);
    if write_value(src, kind, name, x) {
        x.prop_close(name);
        true
    } else {
        x.truncate(mark);
        false
    }
}

/// Builds `DAV:response` elements; holds scratch space reused across resources so a
/// Depth 1 PROPFIND over many objects allocates once.
#[derive(Default)]
pub struct Answerer {
    missing: Vec<usize>,
}

impl Answerer {
    /// Appends the response for one resource at `path` (decoded).
    pub fn answer(
        &mut self,
        ms: &mut Multistatus,
        path: &str,
        sel: &PropSelection,
        src: &dyn PropertySource,
        prefer: Prefer,
    ) {
        let kind = src.kind();
        let mut response = ms.response(path);
        self.missing.clear();
        match &sel.props {
            PropRequest::Prop(names) => {
                let mut ok = response.propstat();
                for (i, name) in names.iter().enumerate() {
                    if !write_prop(src, kind, name, ok.xml()) {
                        self.missing.push(i);
                    }
                }
                if ok.is_empty() {
                    ok.discard()
                } else {
                    ok.end(200)
                }
                if !prefer.minimal && !self.missing.is_empty() {
                    let mut nf = response.propstat();
                    for &i in &self.missing {
                        nf.xml().prop_empty(&names[i]);
                    }
                    nf.end(404);
                }
            }
            PropRequest::AllProp { include } => {
                let mut ok = response.propstat();
                let mut write = |name: &PropName| {
                    write_prop(src, kind, name, ok.xml());
                };
                kind.live_properties()
                    .filter(|n| in_allprop(n))
                    .for_each(&mut write);
                include
                    .iter()
                    .filter(|n| !kind.has(n) || !in_allprop(n))
                    .for_each(&mut write);
                src.each_dead(&mut |n, v| {
                    let x = ok.xml();
                    x.open(&n.ns, &n.local);
                    x.raw(v);
                    x.close(&n.ns, &n.local);
                });
                if ok.is_empty() {
                    ok.discard()
                } else {
                    ok.end(200)
                }
            }
            PropRequest::PropName => {
                let mut ok = response.propstat();
                for name in kind.live_properties() {
                    ok.xml().prop_empty(name);
                }
                src.each_dead(&mut |n, _| ok.xml().empty(&n.ns, &n.local));
                ok.end(200);
            }
        }
    }
}

/// The outcome of PROPPATCH or of the properties of an extended MKCOL: one status
/// per property. RFC 4918 section 9.2: all or nothing, so when one fails the
/// others answer 424 and nothing may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOutcome {
    pub statuses: Vec<(PropName, u16)>,
    /// Why a property failed, when the status alone does not say (the response's
    /// `responsedescription`).
    pub description: Option<String>,
}

impl PatchOutcome {
    pub fn ok(&self) -> bool {
        self.statuses.iter().all(|(_, s)| *s == 200)
    }

    fn from_checks(checks: Vec<(PropName, Option<u16>)>) -> PatchOutcome {
        let failed = checks.iter().any(|(_, s)| s.is_some());
        PatchOutcome {
            statuses: checks
                .into_iter()
                .map(|(n, s)| (n, s.unwrap_or(if failed { 424 } else { 200 })))
                .collect(),
            description: None,
        }
    }

    /// The properties grouped by status, in a fixed order.
    fn groups(&self) -> impl Iterator<Item = (u16, Vec<&PropName>)> {
        [200, 403, 409, 424, 507].into_iter().filter_map(|status| {
            let names: Vec<&PropName> = self
                .statuses
                .iter()
                .filter(|(_, s)| *s == status)
                .map(|(n, _)| n)
                .collect();
            (!names.is_empty()).then_some((status, names))
        })
    }

    /// Appends the response (RFC 4918 section 9.2.1).
    pub fn render(&self, ms: &mut Multistatus, path: &str) {
        let mut response = ms.response(path);
        for (status, names) in self.groups() {
            let mut ps = response.propstat();
            for n in names {
                ps.xml().prop_empty(n);
            }
            ps.end(status);
        }
        if let Some(description) = &self.description {
            response.description(description);
        }
    }

    /// The body of a failed extended MKCOL (`DAV:mkcol-response`, RFC 5689 section
    /// 3.3) or MKCALENDAR (`CALDAV:mkcalendar-response`, RFC 4791 section 5.3.1.2).
    pub fn render_creation_response(&self, mkcalendar: bool) -> String {
        let root = if mkcalendar {
            "c:mkcalendar-response"
        } else {
            "d:mkcol-response"
        };
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<");
        out.push_str(root);
        out.push_str(crate::response::ROOT_NAMESPACES);
        out.push('>');
        let mut x = Xml::new(&mut out);
        for (status, names) in self.groups() {
            x.raw("<d:propstat><d:prop>");
            for n in names {
                x.prop_empty(n);
            }
            x.raw("</d:prop>");
            x.status(status);
            x.raw("</d:propstat>");
        }
        out.push_str("</");
        out.push_str(root);
        out.push_str(">\n");
        out
    }
}

/// Checks a value the core knows the syntax of; `Some(status)` refuses it.
fn check_value(name: &PropName, value: &crate::xml::tree::Element) -> Option<u16> {
    let text = value.text();
    let t = text.trim();
    match name {
        P::CalendarColor if !is_color(t) => Some(409),
        P::CalendarOrder if !t.is_empty() && t.parse::<i64>().is_err() => Some(409),
        P::CalendarTimezone if !t.is_empty() && !t.contains("BEGIN:VTIMEZONE") => Some(409),
        P::ScheduleCalendarTransp
            if value.child(&Ns::CalDav, "opaque").is_none()
                && value.child(&Ns::CalDav, "transparent").is_none() =>
        {
            Some(409)
        }
        _ => None,
    }
}

/// `#RRGGBB` or `#RRGGBBAA`, as Apple, Thunderbird and DAVx5 write them.
fn is_color(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|h| (h.len() == 6 || h.len() == 8) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Decides every operation of a PROPPATCH against a resource of `kind`.
pub fn check_proppatch(update: &PropertyUpdate, kind: ResourceKind) -> PatchOutcome {
    let checks = update
        .ops
        .iter()
        .map(|op| {
            let name = op.name().clone();
            let status = if !kind.writable(&name) {
                Some(403)
            } else if let PatchOp::Set(n, v) = op {
                check_value(n, v)
            } else {
                None
            };
            (name, status)
        })
        .collect();
    PatchOutcome::from_checks(checks)
}

/// What an MKCALENDAR or extended MKCOL asks to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewCollection {
    Calendar,
    Addressbook,
    Plain,
}

impl Mkcol {
    /// The collection the body describes; `mkcalendar` says whether the method was
    /// MKCALENDAR. Unknown resource types (Apple's `cs:subscribed` among them) are
    /// refused with `DAV:valid-resourcetype` (RFC 5689 section 3.1).
    pub fn collection(
        &self,
        mkcalendar: bool,
    ) -> Result<NewCollection, crate::error::Precondition> {
        let mut kind = if mkcalendar {
            NewCollection::Calendar
        } else {
            NewCollection::Plain
        };
        for t in &self.resourcetype {
            kind = match (&t.ns, &*t.local, kind) {
                (Ns::Dav, "collection", k) => k,
                (Ns::CalDav, "calendar", NewCollection::Plain | NewCollection::Calendar) => {
                    NewCollection::Calendar
                }
                (Ns::CardDav, "addressbook", NewCollection::Plain) => NewCollection::Addressbook,
                _ => return Err(crate::error::Precondition::ValidResourcetype),
            };
        }
        Ok(kind)
    }

    /// Decides the properties set at creation, as for PROPPATCH but with the
    /// creation-only ones allowed.
    pub fn check(&self, kind: ResourceKind) -> PatchOutcome {
        let mut checks: Vec<(PropName, Option<u16>)> = Vec::new();
        if self.components.is_some() {
            let ok = matches!(kind, K::Calendar);
            checks.push((
                P::SupportedCalendarComponentSet,
                if ok { None } else { Some(403) },
            ));
        }
        for (name, value) in &self.set {
            let status = if name.access() == Access::AtCreation || kind.writable(name) {
                check_value(name, value)
            } else {
                Some(403)
            };
            checks.push((name.clone(), status));
        }
        PatchOutcome::from_checks(checks)
    }
}
