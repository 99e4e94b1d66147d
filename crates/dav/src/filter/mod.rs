//! Evaluation of calendar-query (RFC 4791 section 9.7) and addressbook-query
//! (RFC 6352 section 10.5) filters against parsed objects.

pub mod calendar;
pub mod card;
pub mod collation;
pub mod instances;

pub use calendar::matches_calendar;
pub use card::matches_card;
pub use instances::{Basic, BudgetExceeded, Instances, Occurrence};
