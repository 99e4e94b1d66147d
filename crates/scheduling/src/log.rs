//! A job as the decision log shows it: the decision taken at delivery and what the worker
//! recorded, each rendered by [`imipd_calendar::Outcome`]'s one rendering (the
//! `X-Imipd-Cal-Outcome` header's). `imipd jobs` and the web page's log print these.

use crate::decide::{Decided, Executed};
use crate::manual::ByHand;
use crate::spec::SpecError;
use imipd_calendar::{Outcome, OutcomeKind};
use imipd_store::Job;

/// The decision taken at delivery, rendered, and what the worker recorded.
pub fn entries(j: &Job) -> (Option<String>, Option<Result<Executed, String>>) {
    let unreadable = |e: SpecError| format!("unreadable ({e})");
    let decided = j
        .decided
        .as_deref()
        .map(|json| match Decided::from_json(json) {
            Ok(d) => d.outcome.to_string(),
            Err(e) => unreadable(e),
        });
    let executed = j
        .outcome
        .as_deref()
        .map(|json| Executed::from_json(json).map_err(unreadable));
    (decided, executed)
}

/// What the user applied by hand after the job, rendered: when, and the entry's words.
pub fn by_hand(j: &Job) -> Option<(Option<i64>, String)> {
    let json = j.by_hand.as_deref()?;
    Some(match ByHand::from_json(json) {
        Ok(b) => (Some(b.at), format!("applied by hand: {}", b.outcome)),
        Err(e) => (None, format!("applied by hand: unreadable ({e})")),
    })
}

/// Whether the user's own action since changed the calendar.
pub fn applied_by_hand(j: &Job) -> bool {
    j.by_hand
        .as_deref()
        .and_then(|json| ByHand::from_json(json).ok())
        .is_some_and(|b| matches!(b.outcome.kind, OutcomeKind::Added | OutcomeKind::Updated))
}

/// The outcome that stands for a job: what the worker reached, else what delivery decided.
pub fn final_outcome(j: &Job) -> Option<Outcome> {
    let executed = j
        .outcome
        .as_deref()
        .and_then(|json| Executed::from_json(json).ok());
    match executed {
        Some(e) => Some(e.outcome),
        None => j
            .decided
            .as_deref()
            .and_then(|json| Decided::from_json(json).ok())
            .map(|d| d.outcome),
    }
}

/// One line about a job: its decision, and the worker's result when that is different (it
/// took the decision again) or there was no decision; the last error while it has one.
pub fn summary(j: &Job) -> String {
    let (decided, executed) = entries(j);
    let result = match executed {
        Some(Ok(e)) => Some(e.outcome.to_string()),
        Some(Err(e)) => Some(e),
        None => None,
    };
    let mut line = match (decided, result) {
        (Some(d), Some(r)) if d != r => format!("{d}  result: {r}"),
        (Some(d), _) => d,
        (None, Some(r)) => r,
        (None, None) => String::new(),
    };
    if let Some(e) = &j.last_error {
        line.push_str(&format!("  last error: {e}"));
    }
    line.trim_start().to_string()
}
