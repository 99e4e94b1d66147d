//! Evaluation of calendar-query (RFC 4791 section 9.7) and addressbook-query
//! (RFC 6352 section 10.5) filters against parsed objects.

pub mod calendar;
pub mod candidates;
pub mod card;
pub mod collation;
pub mod instances;

pub use calendar::{matches_calendar, query_timezone};
pub use candidates::candidate_range;
pub use card::matches_card;
pub use instances::{Basic, BudgetExceeded, Instances, Occurrence};

use crate::query::ParamFilter;

/// A param-filter over the parameters of one property, for iCalendar and vCard
/// alike: `named` says whether a parameter has the filter's name, `text` gives its
/// value as text.
pub(crate) fn param_filter<P>(
    pf: &ParamFilter,
    params: &[P],
    named: impl Fn(&P) -> bool,
    text: impl Fn(&P) -> Option<String>,
) -> bool {
    let mut matching = params.iter().filter(|p| named(p)).peekable();
    if pf.is_not_defined {
        return matching.peek().is_none();
    }
    match &pf.text_match {
        None => matching.peek().is_some(),
        Some(tm) => collation::match_any(tm, matching.filter_map(text)).unwrap_or(false),
    }
}
