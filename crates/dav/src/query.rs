//! Typed REPORT filters and data selections, as parsed from request bodies and
//! evaluated by [`crate::filter`].

use crate::time::Timestamp;

/// A half-open UTC interval `[start, end)`; an absent bound is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl TimeRange {
    pub fn start_or_min(&self) -> Timestamp {
        self.start.unwrap_or(Timestamp::MIN)
    }
    pub fn end_or_max(&self) -> Timestamp {
        self.end.unwrap_or(Timestamp::MAX)
    }
}

/// RFC 4790 collations named by CalDAV and CardDAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    /// `i;ascii-casemap`: ASCII letters compare case-insensitively (CalDAV's default).
    AsciiCasemap,
    /// `i;octet`: byte for byte.
    Octet,
    /// `i;unicode-casemap` (RFC 5051): compared after Unicode case folding
    /// (CardDAV's default).
    UnicodeCasemap,
}

impl Collation {
    pub fn from_name(name: &str) -> Option<Collation> {
        match name {
            "i;ascii-casemap" => Some(Collation::AsciiCasemap),
            "i;octet" => Some(Collation::Octet),
            "i;unicode-casemap" => Some(Collation::UnicodeCasemap),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Collation::AsciiCasemap => "i;ascii-casemap",
            Collation::Octet => "i;octet",
            Collation::UnicodeCasemap => "i;unicode-casemap",
        }
    }
}

/// CardDAV's `match-type` (RFC 6352 section 10.5.4); CalDAV always means `Contains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub value: String,
    pub collation: Collation,
    pub match_type: MatchType,
    pub negate: bool,
}

/// `CALDAV:comp-filter` (RFC 4791 section 9.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    /// Upper-cased component name (`VCALENDAR`, `VEVENT`, …).
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub props: Vec<PropFilter>,
    pub comps: Vec<CompFilter>,
}

/// `CALDAV:prop-filter` (RFC 4791 section 9.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub text_match: Option<TextMatch>,
    pub params: Vec<ParamFilter>,
}

/// `param-filter` of CalDAV (RFC 4791 section 9.7.3) and CardDAV (RFC 6352 10.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub text_match: Option<TextMatch>,
}

/// `anyof` / `allof` of CardDAV filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    AnyOf,
    AllOf,
}

/// `CARDDAV:filter` (RFC 6352 section 10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFilter {
    pub test: Test,
    pub props: Vec<CardPropFilter>,
}

/// `CARDDAV:prop-filter` (RFC 6352 section 10.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPropFilter {
    /// Upper-cased property name (`EMAIL`, `FN`, …).
    pub name: String,
    pub test: Test,
    pub is_not_defined: bool,
    pub text_matches: Vec<TextMatch>,
    pub params: Vec<ParamFilter>,
}

/// `CALDAV:comp` inside `calendar-data`: which components and properties to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompSelect {
    pub name: String,
    /// `allprop`, or no `prop` element at all.
    pub all_props: bool,
    /// `(name, novalue)` pairs.
    pub props: Vec<(String, bool)>,
    /// `allcomp`, or no `comp` element at all.
    pub all_comps: bool,
    pub comps: Vec<CompSelect>,
}

/// `CALDAV:calendar-data` in a REPORT's `prop` (RFC 4791 section 9.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarDataRequest {
    pub content_type: Option<String>,
    pub version: Option<String>,
    pub comp: Option<CompSelect>,
    pub expand: Option<TimeRange>,
    pub limit_recurrence_set: Option<TimeRange>,
    pub limit_freebusy_set: Option<TimeRange>,
}

impl CalendarDataRequest {
    /// Whether the stored text answers it unchanged: nothing to expand, limit or subset.
    pub fn is_plain(&self) -> bool {
        self.comp.is_none()
            && self.expand.is_none()
            && self.limit_recurrence_set.is_none()
            && self.limit_freebusy_set.is_none()
    }
}

/// `CARDDAV:address-data` in a REPORT's `prop` (RFC 6352 section 10.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressDataRequest {
    pub content_type: Option<String>,
    pub version: Option<String>,
    /// Upper-cased property names to return; `None` means all of them.
    pub props: Option<Vec<String>>,
}
