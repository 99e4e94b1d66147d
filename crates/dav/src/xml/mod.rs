//! Request bodies, bytes to typed values: PROPFIND, PROPPATCH, MKCALENDAR, extended
//! MKCOL and every REPORT this server answers. No DTDs, no entities beyond XML's
//! five, bounded nesting and element count ([`tree::Limits`]).

pub mod tree;

use crate::error::Precondition;
use crate::name::{Name, Ns, PropName};
use crate::query::{
    AddressDataRequest, CalendarDataRequest, CardFilter, CardPropFilter, Collation, CompFilter,
    CompSelect, MatchType, ParamFilter, PropFilter, Test, TextMatch, TimeRange,
};
use crate::request::*;
use crate::time;
use tree::{Element, Limits, XmlError};

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the body's root element is {found}, expected {expected}")]
    WrongRoot { expected: &'static str, found: Name },
    #[error("{0} is not a REPORT this server knows")]
    UnknownReport(Name),
    #[error("{reason}")]
    Invalid {
        reason: String,
        precondition: Option<Precondition>,
    },
}

impl RequestError {
    /// 400 for bodies that are not the XML they should be; the precondition's status
    /// (403) for well-formed requests that ask for what the RFCs forbid.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::UnknownReport(_) => 403,
            RequestError::Invalid {
                precondition: Some(p),
                ..
            } => p.status(),
            _ => 400,
        }
    }

    /// The precondition to name in the error body, if any.
    pub fn precondition(&self) -> Option<Precondition> {
        match self {
            RequestError::UnknownReport(_) => Some(Precondition::SupportedReport),
            RequestError::Invalid { precondition, .. } => precondition.clone(),
            _ => None,
        }
    }
}

fn invalid(reason: impl Into<String>) -> RequestError {
    RequestError::Invalid {
        reason: reason.into(),
        precondition: None,
    }
}

fn refused(reason: impl Into<String>, p: Precondition) -> RequestError {
    RequestError::Invalid {
        reason: reason.into(),
        precondition: Some(p),
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

fn root(body: &[u8], ns: Ns, local: &'static str) -> Result<Element, RequestError> {
    let e = parse_tree(body)?;
    if !e.is(&ns, local) {
        return Err(RequestError::WrongRoot {
            expected: local,
            found: e.name,
        });
    }
    Ok(e)
}

/// The element tree of a body, formatting whitespace removed.
pub fn parse_tree(body: &[u8]) -> Result<Element, RequestError> {
    let mut e = tree::parse(body, &Limits::default())?;
    tree::strip_formatting(&mut e);
    Ok(e)
}

/// PROPFIND (RFC 4918 section 9.1); an empty body is `allprop`.
pub fn parse_propfind(body: &[u8]) -> Result<PropSelection, RequestError> {
    if is_blank(body) {
        return Ok(PropSelection::allprop());
    }
    let e = root(body, Ns::Dav, "propfind")?;
    selection(&e)?.ok_or_else(|| invalid("the propfind has none of prop, allprop, propname"))
}

/// PROPPATCH (RFC 4918 section 9.2).
pub fn parse_proppatch(body: &[u8]) -> Result<PropertyUpdate, RequestError> {
    let e = root(body, Ns::Dav, "propertyupdate")?;
    let mut ops = Vec::new();
    for action in e.elements() {
        let set = if action.is(&Ns::Dav, "set") {
            true
        } else if action.is(&Ns::Dav, "remove") {
            false
        } else {
            continue;
        };
        for prop in action.elements().filter(|p| p.is(&Ns::Dav, "prop")) {
            for p in prop.elements() {
                let name = prop_name(p);
                ops.push(if set {
                    PatchOp::Set(name, p.clone())
                } else {
                    PatchOp::Remove(name)
                });
            }
        }
    }
    if ops.is_empty() {
        return Err(invalid("the propertyupdate sets and removes nothing"));
    }
    Ok(PropertyUpdate { ops })
}

/// MKCALENDAR (RFC 4791 section 5.3.1); an empty body creates a calendar with defaults.
pub fn parse_mkcalendar(body: &[u8]) -> Result<Mkcol, RequestError> {
    if is_blank(body) {
        return Ok(Mkcol {
            resourcetype: Vec::new(),
            components: None,
            set: Vec::new(),
        });
    }
    mkcol_body(&root(body, Ns::CalDav, "mkcalendar")?)
}

/// Extended MKCOL (RFC 5689); an empty body makes a plain collection.
pub fn parse_mkcol(body: &[u8]) -> Result<Mkcol, RequestError> {
    if is_blank(body) {
        return Ok(Mkcol {
            resourcetype: vec![Name::new(Ns::Dav, "collection")],
            components: None,
            set: Vec::new(),
        });
    }
    mkcol_body(&root(body, Ns::Dav, "mkcol")?)
}

fn mkcol_body(e: &Element) -> Result<Mkcol, RequestError> {
    let mut out = Mkcol {
        resourcetype: Vec::new(),
        components: None,
        set: Vec::new(),
    };
    for set in e.elements().filter(|s| s.is(&Ns::Dav, "set")) {
        for prop in set.elements().filter(|p| p.is(&Ns::Dav, "prop")) {
            for p in prop.elements() {
                match prop_name(p) {
                    PropName::ResourceType => {
                        out.resourcetype = p.elements().map(|c| c.name.clone()).collect();
                    }
                    PropName::SupportedCalendarComponentSet => {
                        let comps: Vec<String> = p
                            .elements()
                            .filter(|c| c.is(&Ns::CalDav, "comp"))
                            .filter_map(|c| c.attr("name").map(str::to_ascii_uppercase))
                            .collect();
                        if comps.is_empty() {
                            return Err(refused(
                                "supported-calendar-component-set names no component",
                                Precondition::SupportedCalendarComponent,
                            ));
                        }
                        out.components = Some(comps);
                    }
                    name => out.set.push((name, p.clone())),
                }
            }
        }
    }
    Ok(out)
}

/// REPORT bodies (RFC 4791 section 7, RFC 6352 section 8, RFC 6578, RFC 3253, RFC 3744).
pub fn parse_report(body: &[u8]) -> Result<Report, RequestError> {
    let e = parse_tree(body)?;
    let n = &e.name;
    Ok(match (&n.ns, &*n.local) {
        (Ns::CalDav, "calendar-query") => Report::CalendarQuery(calendar_query(&e)?),
        (Ns::CalDav, "calendar-multiget") => Report::CalendarMultiget(multiget(&e)?),
        (Ns::CalDav, "free-busy-query") => {
            let tr = e.child(&Ns::CalDav, "time-range").ok_or_else(|| {
                refused(
                    "free-busy-query needs a time-range",
                    Precondition::ValidFilter,
                )
            })?;
            Report::FreeBusyQuery(time_range(tr)?)
        }
        (Ns::CardDav, "addressbook-query") => Report::AddressbookQuery(addressbook_query(&e)?),
        (Ns::CardDav, "addressbook-multiget") => Report::AddressbookMultiget(multiget(&e)?),
        (Ns::Dav, "sync-collection") => Report::SyncCollection(sync_collection(&e)?),
        (Ns::Dav, "expand-property") => Report::ExpandProperty(expand_items(&e)),
        (Ns::Dav, "principal-property-search") => {
            Report::PrincipalPropertySearch(principal_property_search(&e)?)
        }
        (Ns::Dav, "principal-search-property-set") => Report::PrincipalSearchPropertySet,
        (Ns::CalendarServer, "calendarserver-principal-search") => {
            Report::CalendarserverPrincipalSearch(calendarserver_principal_search(&e)?)
        }
        _ => return Err(RequestError::UnknownReport(e.name)),
    })
}

fn prop_name(e: &Element) -> PropName {
    PropName::from_parts(e.name.ns.clone(), &e.name.local)
}

/// `prop` / `allprop` (+ `include`) / `propname` among `e`'s children.
fn selection(e: &Element) -> Result<Option<PropSelection>, RequestError> {
    let mut calendar_data = None;
    let mut address_data = None;
    let mut props = None;
    for c in e.elements() {
        if c.is(&Ns::Dav, "prop") {
            let mut names = Vec::new();
            for p in c.elements() {
                let name = prop_name(p);
                match name {
                    PropName::CalendarData => calendar_data = Some(calendar_data_request(p)?),
                    PropName::AddressData => address_data = Some(address_data_request(p)),
                    _ => {}
                }
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            props = Some(PropRequest::Prop(names));
        } else if c.is(&Ns::Dav, "allprop") {
            let include = e
                .child(&Ns::Dav, "include")
                .map(|i| i.elements().map(prop_name).collect())
                .unwrap_or_default();
            props = Some(PropRequest::AllProp { include });
        } else if c.is(&Ns::Dav, "propname") {
            props = Some(PropRequest::PropName);
        }
    }
    Ok(props.map(|props| PropSelection {
        props,
        calendar_data,
        address_data,
    }))
}

fn required_selection(e: &Element) -> Result<PropSelection, RequestError> {
    Ok(selection(e)?.unwrap_or_else(|| PropSelection::names(Vec::new())))
}

fn calendar_data_request(e: &Element) -> Result<CalendarDataRequest, RequestError> {
    let mut out = CalendarDataRequest {
        content_type: e.attr("content-type").map(str::to_string),
        version: e.attr("version").map(str::to_string),
        ..Default::default()
    };
    if let Some(ct) = &out.content_type
        && !ct.eq_ignore_ascii_case("text/calendar")
    {
        return Err(refused(
            format!("calendar-data content-type {ct:?} is not supported; ask for text/calendar"),
            Precondition::SupportedCalendarData,
        ));
    }
    for c in e.elements() {
        match (&c.name.ns, &*c.name.local) {
            (Ns::CalDav, "comp") => out.comp = Some(comp_select(c)?),
            (Ns::CalDav, "expand") => out.expand = Some(bounded_range(c, "expand")?),
            (Ns::CalDav, "limit-recurrence-set") => {
                out.limit_recurrence_set = Some(bounded_range(c, "limit-recurrence-set")?)
            }
            (Ns::CalDav, "limit-freebusy-set") => {
                out.limit_freebusy_set = Some(bounded_range(c, "limit-freebusy-set")?)
            }
            _ => {}
        }
    }
    Ok(out)
}

fn comp_select(e: &Element) -> Result<CompSelect, RequestError> {
    let name = e
        .attr("name")
        .ok_or_else(|| refused("a comp element has no name", Precondition::ValidFilter))?
        .to_ascii_uppercase();
    let mut out = CompSelect {
        name,
        all_props: true,
        props: Vec::new(),
        all_comps: true,
        comps: Vec::new(),
    };
    for c in e.elements() {
        match (&c.name.ns, &*c.name.local) {
            (Ns::CalDav, "prop") => {
                out.all_props = false;
                if let Some(n) = c.attr("name") {
                    out.props
                        .push((n.to_ascii_uppercase(), c.attr("novalue") == Some("yes")));
                }
            }
            (Ns::CalDav, "comp") => {
                out.all_comps = false;
                out.comps.push(comp_select(c)?);
            }
            _ => {}
        }
    }
    // `<allprop/>` together with `<prop>` keeps everything, as allprop says.
    if e.child(&Ns::CalDav, "allprop").is_some() {
        out.all_props = true;
    }
    if e.child(&Ns::CalDav, "allcomp").is_some() {
        out.all_comps = true;
    }
    Ok(out)
}

fn address_data_request(e: &Element) -> AddressDataRequest {
    let props: Vec<String> = e
        .elements()
        .filter(|c| c.is(&Ns::CardDav, "prop"))
        .filter_map(|c| c.attr("name").map(str::to_ascii_uppercase))
        .collect();
    let all = e.child(&Ns::CardDav, "allprop").is_some() || props.is_empty();
    AddressDataRequest {
        content_type: e.attr("content-type").map(str::to_string),
        version: e.attr("version").map(str::to_string),
        props: if all { None } else { Some(props) },
    }
}

fn utc_attr(e: &Element, attr: &str) -> Result<Option<i64>, RequestError> {
    match e.attr(attr) {
        None => Ok(None),
        Some(v) => time::parse_utc(v.trim()).map(Some).ok_or_else(|| {
            refused(
                format!(
                    "{}={v:?} is not a UTC date-time like 20260101T000000Z",
                    attr
                ),
                Precondition::ValidFilter,
            )
        }),
    }
}

/// `time-range`: at least one bound, UTC, start before end (RFC 4791 section 9.9).
fn time_range(e: &Element) -> Result<TimeRange, RequestError> {
    let tr = TimeRange {
        start: utc_attr(e, "start")?,
        end: utc_attr(e, "end")?,
    };
    match (tr.start, tr.end) {
        (None, None) => Err(refused(
            "a time-range has neither start nor end",
            Precondition::ValidFilter,
        )),
        (Some(s), Some(en)) if s >= en => Err(refused(
            "a time-range ends before it starts",
            Precondition::ValidFilter,
        )),
        _ => Ok(tr),
    }
}

/// `expand` and the `limit-*` elements need both bounds.
fn bounded_range(e: &Element, what: &str) -> Result<TimeRange, RequestError> {
    let tr = time_range(e)?;
    if tr.start.is_none() || tr.end.is_none() {
        return Err(refused(
            format!("{what} needs both start and end"),
            Precondition::ValidFilter,
        ));
    }
    Ok(tr)
}

fn text_match(e: &Element, default: Collation, card: bool) -> Result<TextMatch, RequestError> {
    let collation = match e.attr("collation") {
        None => default,
        Some(name) => Collation::from_name(name).ok_or_else(|| {
            refused(
                format!("collation {name:?} is not supported; use i;ascii-casemap, i;octet or i;unicode-casemap"),
                if card { Precondition::CardSupportedCollation } else { Precondition::SupportedCollation },
            )
        })?,
    };
    let match_type = match e.attr("match-type") {
        None | Some("contains") => MatchType::Contains,
        Some("equals") => MatchType::Equals,
        Some("starts-with") => MatchType::StartsWith,
        Some("ends-with") => MatchType::EndsWith,
        Some(other) => {
            return Err(refused(
                format!(
                    "match-type {other:?} is not one of equals, contains, starts-with, ends-with"
                ),
                Precondition::CardSupportedFilter,
            ));
        }
    };
    // RFC 4791 says negate-condition="yes"; CardDAV also allows it on text-match.
    let negate = e.attr("negate-condition") == Some("yes");
    Ok(TextMatch {
        value: e.text(),
        collation,
        match_type,
        negate,
    })
}

fn name_attr(e: &Element, what: &str, card: bool) -> Result<String, RequestError> {
    e.attr("name")
        .map(|n| n.trim().to_ascii_uppercase())
        .ok_or_else(|| {
            refused(
                format!("a {what} has no name attribute"),
                if card {
                    Precondition::CardSupportedFilter
                } else {
                    Precondition::ValidFilter
                },
            )
        })
}

fn calendar_query(e: &Element) -> Result<CalendarQuery, RequestError> {
    let select = required_selection(e)?;
    let filter = e
        .child(&Ns::CalDav, "filter")
        .ok_or_else(|| refused("calendar-query has no filter", Precondition::ValidFilter))?;
    let top = filter
        .child(&Ns::CalDav, "comp-filter")
        .ok_or_else(|| refused("the filter has no comp-filter", Precondition::ValidFilter))?;
    let filter = comp_filter(top)?;
    if filter.name != "VCALENDAR" {
        return Err(refused(
            format!(
                "the outer comp-filter names {}, it must name VCALENDAR",
                filter.name
            ),
            Precondition::ValidFilter,
        ));
    }
    let timezone = e.child(&Ns::CalDav, "timezone").map(Element::text);
    Ok(CalendarQuery {
        select,
        filter,
        timezone,
    })
}

fn comp_filter(e: &Element) -> Result<CompFilter, RequestError> {
    let mut out = CompFilter {
        name: name_attr(e, "comp-filter", false)?,
        is_not_defined: false,
        time_range: None,
        props: Vec::new(),
        comps: Vec::new(),
    };
    for c in e.elements() {
        match (&c.name.ns, &*c.name.local) {
            (Ns::CalDav, "is-not-defined") => out.is_not_defined = true,
            (Ns::CalDav, "time-range") => out.time_range = Some(time_range(c)?),
            (Ns::CalDav, "prop-filter") => out.props.push(prop_filter(c)?),
            (Ns::CalDav, "comp-filter") => out.comps.push(comp_filter(c)?),
            _ => {}
        }
    }
    Ok(out)
}

fn prop_filter(e: &Element) -> Result<PropFilter, RequestError> {
    let mut out = PropFilter {
        name: name_attr(e, "prop-filter", false)?,
        is_not_defined: false,
        time_range: None,
        text_match: None,
        params: Vec::new(),
    };
    for c in e.elements() {
        match (&c.name.ns, &*c.name.local) {
            (Ns::CalDav, "is-not-defined") => out.is_not_defined = true,
            (Ns::CalDav, "time-range") => out.time_range = Some(time_range(c)?),
            (Ns::CalDav, "text-match") => {
                out.text_match = Some(text_match(c, Collation::AsciiCasemap, false)?)
            }
            (Ns::CalDav, "param-filter") => out.params.push(param_filter(c, false)?),
            _ => {}
        }
    }
    Ok(out)
}

fn param_filter(e: &Element, card: bool) -> Result<ParamFilter, RequestError> {
    let ns = if card { Ns::CardDav } else { Ns::CalDav };
    let default = if card {
        Collation::UnicodeCasemap
    } else {
        Collation::AsciiCasemap
    };
    let mut out = ParamFilter {
        name: name_attr(e, "param-filter", card)?,
        is_not_defined: false,
        text_match: None,
    };
    for c in e.elements() {
        if c.is(&ns, "is-not-defined") {
            out.is_not_defined = true;
        } else if c.is(&ns, "text-match") {
            out.text_match = Some(text_match(c, default, card)?);
        }
    }
    Ok(out)
}

fn test_attr(e: &Element) -> Result<Test, RequestError> {
    match e.attr("test") {
        None | Some("anyof") => Ok(Test::AnyOf),
        Some("allof") => Ok(Test::AllOf),
        Some(other) => Err(refused(
            format!("test={other:?} is not anyof or allof"),
            Precondition::CardSupportedFilter,
        )),
    }
}

fn addressbook_query(e: &Element) -> Result<AddressbookQuery, RequestError> {
    let select = required_selection(e)?;
    let f = e.child(&Ns::CardDav, "filter").ok_or_else(|| {
        refused(
            "addressbook-query has no filter",
            Precondition::CardSupportedFilter,
        )
    })?;
    let mut filter = CardFilter {
        test: test_attr(f)?,
        props: Vec::new(),
    };
    for p in f.elements().filter(|p| p.is(&Ns::CardDav, "prop-filter")) {
        let mut pf = CardPropFilter {
            name: name_attr(p, "prop-filter", true)?,
            test: test_attr(p)?,
            is_not_defined: false,
            text_matches: Vec::new(),
            params: Vec::new(),
        };
        for c in p.elements() {
            match (&c.name.ns, &*c.name.local) {
                (Ns::CardDav, "is-not-defined") => pf.is_not_defined = true,
                (Ns::CardDav, "text-match") => {
                    pf.text_matches
                        .push(text_match(c, Collation::UnicodeCasemap, true)?)
                }
                (Ns::CardDav, "param-filter") => pf.params.push(param_filter(c, true)?),
                _ => {}
            }
        }
        filter.props.push(pf);
    }
    let limit = e
        .child(&Ns::CardDav, "limit")
        .and_then(|l| l.child(&Ns::CardDav, "nresults"))
        .map(nresults)
        .transpose()?;
    Ok(AddressbookQuery {
        select,
        filter,
        limit,
    })
}

fn nresults(e: &Element) -> Result<u32, RequestError> {
    let t = e.text();
    t.trim()
        .parse()
        .map_err(|_| invalid(format!("nresults {t:?} is not a positive number")))
}

fn multiget(e: &Element) -> Result<Multiget, RequestError> {
    let select = required_selection(e)?;
    let hrefs: Vec<String> = e
        .elements()
        .filter(|h| h.is(&Ns::Dav, "href"))
        .map(|h| h.text().trim().to_string())
        .collect();
    if hrefs.is_empty() {
        return Err(invalid("the multiget names no href"));
    }
    Ok(Multiget { select, hrefs })
}

fn sync_collection(e: &Element) -> Result<SyncCollection, RequestError> {
    let token = e
        .child(&Ns::Dav, "sync-token")
        .map(|t| t.text().trim().to_string())
        .filter(|t| !t.is_empty());
    let level = match e.child(&Ns::Dav, "sync-level").map(|l| l.text()) {
        None => SyncLevel::One,
        Some(l) => match l.trim() {
            "1" => SyncLevel::One,
            "infinite" | "infinity" => SyncLevel::Infinite,
            other => {
                return Err(invalid(format!(
                    "sync-level {other:?} is not 1 or infinite"
                )));
            }
        },
    };
    let limit = e
        .child(&Ns::Dav, "limit")
        .and_then(|l| l.child(&Ns::Dav, "nresults"))
        .map(nresults)
        .transpose()?;
    Ok(SyncCollection {
        token,
        level,
        limit,
        select: required_selection(e)?,
    })
}

fn expand_items(e: &Element) -> Vec<ExpandItem> {
    e.elements()
        .filter(|p| p.is(&Ns::Dav, "property"))
        .filter_map(|p| {
            let local = p.attr("name")?;
            let ns = Ns::from_uri(p.attr("namespace").unwrap_or(Ns::DAV_URI));
            Some(ExpandItem {
                name: PropName::from_parts(ns, local),
                children: expand_items(p),
            })
        })
        .collect()
}

fn principal_property_search(e: &Element) -> Result<PrincipalPropertySearch, RequestError> {
    let searches = e
        .elements()
        .filter(|s| s.is(&Ns::Dav, "property-search"))
        .map(|s| PropertySearch {
            props: s
                .child(&Ns::Dav, "prop")
                .map(|p| p.elements().map(prop_name).collect())
                .unwrap_or_default(),
            match_text: s
                .child(&Ns::Dav, "match")
                .map(Element::text)
                .unwrap_or_default(),
        })
        .collect();
    Ok(PrincipalPropertySearch {
        test: test_attr(e).unwrap_or(Test::AllOf),
        searches,
        select: required_selection(e)?,
        apply_to_principal_collection_set: e
            .child(&Ns::Dav, "apply-to-principal-collection-set")
            .is_some(),
    })
}

fn calendarserver_principal_search(
    e: &Element,
) -> Result<CalendarserverPrincipalSearch, RequestError> {
    Ok(CalendarserverPrincipalSearch {
        tokens: e
            .elements()
            .filter(|t| t.is(&Ns::CalendarServer, "search-token"))
            .map(Element::text)
            .collect(),
        context: e.attr("context").map(str::to_string),
        limit: e
            .child(&Ns::CalendarServer, "limit")
            .and_then(|l| l.child(&Ns::CalendarServer, "nresults"))
            .map(nresults)
            .transpose()?,
        select: required_selection(e)?,
    })
}
