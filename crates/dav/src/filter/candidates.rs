//! What a store's time-range index may narrow a calendar-query to.

use crate::query::{CompFilter, TimeRange};

/// A range every object matching `filter` has an instance in: the time-range of the first
/// VEVENT, VTODO or VJOURNAL comp-filter directly under VCALENDAR (each must match, so any
/// one bounds the answer; two are not intersected, since two components of one object may
/// match two ranges that do not meet). `None`: the filter can match an object at any time.
pub fn candidate_range(filter: &CompFilter) -> Option<TimeRange> {
    if filter.is_not_defined || !filter.name.eq_ignore_ascii_case("VCALENDAR") {
        return None;
    }
    filter
        .comps
        .iter()
        .filter(|c| !c.is_not_defined)
        .filter(|c| {
            ["VEVENT", "VTODO", "VJOURNAL"]
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n))
        })
        .find_map(|c| c.time_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(name: &str, range: Option<(i64, i64)>, not_defined: bool) -> CompFilter {
        CompFilter {
            name: name.into(),
            is_not_defined: not_defined,
            time_range: range.map(|(s, e)| TimeRange {
                start: Some(s),
                end: Some(e),
            }),
            props: Vec::new(),
            comps: Vec::new(),
        }
    }

    fn calendar(comps: Vec<CompFilter>) -> CompFilter {
        CompFilter {
            comps,
            ..comp("VCALENDAR", None, false)
        }
    }

    #[test]
    fn only_a_range_every_match_must_meet_narrows_the_query() {
        let range = |s, e| {
            Some(TimeRange {
                start: Some(s),
                end: Some(e),
            })
        };
        let cases = [
            (
                calendar(vec![comp("VEVENT", Some((10, 20)), false)]),
                range(10, 20),
            ),
            (
                calendar(vec![comp("vtodo", Some((1, 2)), false)]),
                range(1, 2),
            ),
            (calendar(vec![comp("VEVENT", None, false)]), None),
            (calendar(vec![comp("VEVENT", Some((10, 20)), true)]), None),
            (
                calendar(vec![comp("VFREEBUSY", Some((10, 20)), false)]),
                None,
            ),
            (
                calendar(vec![
                    comp("VEVENT", Some((10, 20)), false),
                    comp("VEVENT", Some((30, 40)), false),
                ]),
                range(10, 20),
            ),
            (
                CompFilter {
                    is_not_defined: true,
                    ..calendar(vec![comp("VEVENT", Some((10, 20)), false)])
                },
                None,
            ),
        ];
        for (filter, want) in cases {
            assert_eq!(candidate_range(&filter), want, "{filter:?}");
        }
    }
}
