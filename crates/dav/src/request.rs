//! Typed request bodies: what PROPFIND, PROPPATCH, MKCALENDAR / MKCOL and REPORT ask for.

use crate::name::{Name, PropName};
use crate::query::{
    AddressDataRequest, CalendarDataRequest, CardFilter, CompFilter, Test, TimeRange,
};
use crate::xml::tree::Element;

/// Which properties a PROPFIND or REPORT asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropRequest {
    /// `prop`: these, in order.
    Prop(Vec<PropName>),
    /// `allprop`, with the `include` names (RFC 4918 section 14.8).
    AllProp { include: Vec<PropName> },
    /// `propname`: names only.
    PropName,
}

/// The property selection of a PROPFIND or REPORT, with the data subsetting that
/// `calendar-data` / `address-data` carry in a REPORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropSelection {
    pub props: PropRequest,
    pub calendar_data: Option<CalendarDataRequest>,
    pub address_data: Option<AddressDataRequest>,
}

impl PropSelection {
    /// An empty PROPFIND body means `allprop` (RFC 4918 section 9.1).
    pub fn allprop() -> PropSelection {
        PropSelection {
            props: PropRequest::AllProp {
                include: Vec::new(),
            },
            calendar_data: None,
            address_data: None,
        }
    }

    pub fn names(names: Vec<PropName>) -> PropSelection {
        PropSelection {
            props: PropRequest::Prop(names),
            calendar_data: None,
            address_data: None,
        }
    }

    pub fn wants(&self, name: &PropName) -> bool {
        match &self.props {
            PropRequest::Prop(names) => names.contains(name),
            PropRequest::AllProp { include } => include.contains(name),
            PropRequest::PropName => false,
        }
    }
}

/// One `set` or `remove` of a PROPPATCH, in document order (RFC 4918 section 9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOp {
    /// The property element itself: [`Element::text`] for text-valued live
    /// properties, [`Element::inner_xml`] for a dead property's stored value.
    Set(PropName, Element),
    Remove(PropName),
}

impl PatchOp {
    pub fn name(&self) -> &PropName {
        match self {
            PatchOp::Set(n, _) | PatchOp::Remove(n) => n,
        }
    }
}

/// `DAV:propertyupdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyUpdate {
    pub ops: Vec<PatchOp>,
}

/// The body of MKCALENDAR (RFC 4791 section 5.3.1) or extended MKCOL (RFC 5689).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mkcol {
    /// The `resourcetype` children for extended MKCOL (`collection`, `calendar`,
    /// `addressbook`, `cs:subscribed`, …); empty for MKCALENDAR, which implies a calendar.
    pub resourcetype: Vec<Name>,
    /// The component names of `supported-calendar-component-set`, when given.
    pub components: Option<Vec<String>>,
    /// Every other property to set, in document order.
    pub set: Vec<(PropName, Element)>,
}

/// `CALDAV:calendar-query` (RFC 4791 section 7.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarQuery {
    pub select: PropSelection,
    pub filter: CompFilter,
    /// `CALDAV:timezone`: the VTIMEZONE text for floating times.
    pub timezone: Option<String>,
}

/// `CALDAV:calendar-multiget` / `CARDDAV:addressbook-multiget`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multiget {
    pub select: PropSelection,
    /// The hrefs as sent; [`crate::href::DavPath::parse_href`] reads each one.
    pub hrefs: Vec<String>,
}

/// `CARDDAV:addressbook-query` (RFC 6352 section 8.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressbookQuery {
    pub select: PropSelection,
    pub filter: CardFilter,
    /// `limit/nresults`.
    pub limit: Option<u32>,
}

/// `DAV:sync-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncLevel {
    One,
    Infinite,
}

/// `DAV:sync-collection` (RFC 6578 section 3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCollection {
    /// `None` for the empty token of an initial sync.
    pub token: Option<String>,
    pub level: SyncLevel,
    pub limit: Option<u32>,
    pub select: PropSelection,
}

/// One `DAV:property` of `expand-property` (RFC 3253 section 3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    pub name: PropName,
    pub children: Vec<ExpandItem>,
}

/// The properties an `expand-property` report names at its top level, as a plain
/// selection. This server keeps no href-valued properties worth expanding (no
/// calendar proxies), so answering the top level like a PROPFIND is the whole answer:
/// Apple's `calendar-proxy-*-for` come back 404 and Apple moves on.
pub fn expand_property_selection(items: &[ExpandItem]) -> PropSelection {
    PropSelection::names(items.iter().map(|i| i.name.clone()).collect())
}

/// One `property-search` of `principal-property-search` (RFC 3744 section 9.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySearch {
    pub props: Vec<PropName>,
    pub match_text: String,
}

/// `DAV:principal-property-search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPropertySearch {
    pub test: Test,
    pub searches: Vec<PropertySearch>,
    pub select: PropSelection,
    pub apply_to_principal_collection_set: bool,
}

/// Apple's `CS:calendarserver-principal-search` (attendee look-up as you type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarserverPrincipalSearch {
    pub tokens: Vec<String>,
    pub context: Option<String>,
    pub limit: Option<u32>,
    pub select: PropSelection,
}

/// A REPORT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    CalendarQuery(CalendarQuery),
    CalendarMultiget(Multiget),
    FreeBusyQuery(TimeRange),
    AddressbookQuery(AddressbookQuery),
    AddressbookMultiget(Multiget),
    SyncCollection(SyncCollection),
    ExpandProperty(Vec<ExpandItem>),
    PrincipalPropertySearch(PrincipalPropertySearch),
    PrincipalSearchPropertySet,
    CalendarserverPrincipalSearch(CalendarserverPrincipalSearch),
}

impl Report {
    /// The report's element name, as `supported-report-set` lists it.
    pub fn kind(&self) -> ReportKind {
        match self {
            Report::CalendarQuery(_) => ReportKind::CalendarQuery,
            Report::CalendarMultiget(_) => ReportKind::CalendarMultiget,
            Report::FreeBusyQuery(_) => ReportKind::FreeBusyQuery,
            Report::AddressbookQuery(_) => ReportKind::AddressbookQuery,
            Report::AddressbookMultiget(_) => ReportKind::AddressbookMultiget,
            Report::SyncCollection(_) => ReportKind::SyncCollection,
            Report::ExpandProperty(_) => ReportKind::ExpandProperty,
            Report::PrincipalPropertySearch(_) => ReportKind::PrincipalPropertySearch,
            Report::PrincipalSearchPropertySet => ReportKind::PrincipalSearchPropertySet,
            Report::CalendarserverPrincipalSearch(_) => ReportKind::CalendarserverPrincipalSearch,
        }
    }
}

/// The REPORT names, for `supported-report-set` and for refusing a report a
/// resource does not support (403 `DAV:supported-report`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    CalendarQuery,
    CalendarMultiget,
    FreeBusyQuery,
    AddressbookQuery,
    AddressbookMultiget,
    SyncCollection,
    ExpandProperty,
    PrincipalPropertySearch,
    PrincipalSearchPropertySet,
    CalendarserverPrincipalSearch,
}

impl ReportKind {
    pub fn name(self) -> (crate::name::Ns, &'static str) {
        use crate::name::Ns;
        match self {
            ReportKind::CalendarQuery => (Ns::CalDav, "calendar-query"),
            ReportKind::CalendarMultiget => (Ns::CalDav, "calendar-multiget"),
            ReportKind::FreeBusyQuery => (Ns::CalDav, "free-busy-query"),
            ReportKind::AddressbookQuery => (Ns::CardDav, "addressbook-query"),
            ReportKind::AddressbookMultiget => (Ns::CardDav, "addressbook-multiget"),
            ReportKind::SyncCollection => (Ns::Dav, "sync-collection"),
            ReportKind::ExpandProperty => (Ns::Dav, "expand-property"),
            ReportKind::PrincipalPropertySearch => (Ns::Dav, "principal-property-search"),
            ReportKind::PrincipalSearchPropertySet => (Ns::Dav, "principal-search-property-set"),
            ReportKind::CalendarserverPrincipalSearch => {
                (Ns::CalendarServer, "calendarserver-principal-search")
            }
        }
    }
}
