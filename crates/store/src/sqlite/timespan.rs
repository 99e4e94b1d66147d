//! The time-range index (RFC 4791 time-range queries read only the candidates): each
//! object's span from its first start to its last end in UTC, kept on every write.

use imipd_calendar::ComponentType;

/// The span the index keeps for `ics`: see [`imipd_calendar::TimeRange::index_span`].
/// Data the calendar code cannot read spans all time, so it is a candidate for every range
/// and the exact filter decides: an object never drops out of a query because of the index.
/// A VFREEBUSY spans all time too: its FREEBUSY periods need not lie within its DTSTART and
/// DTEND.
pub fn of(ics: &str) -> (i64, i64) {
    match imipd_calendar::time_range(ics, &imipd_calendar::Limits::default()) {
        Ok(range) if range.component != ComponentType::FreeBusy => range.index_span(),
        _ => (i64::MIN, i64::MAX),
    }
}
