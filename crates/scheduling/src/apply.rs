//! The apply path: a decision ([`crate::Decided`]) carried out on what the user's calendar
//! holds, as calendar writes committed with the job, each expecting the version the
//! decision was taken on. The worker ([`crate::process_job`]), and later the web page's
//! "Add to calendar" button and CalDAV, decide with [`crate::decide`] and write through
//! [`execute`], so one message has one meaning.

use crate::decide::{Decided, Executed};
use imipd_calendar::{Change, Outcome};
use imipd_store::{
    Batch, CalendarObject, Conflict, Expect, Found, JobDone, NewMail, ObjectWrite, Store,
};

/// A failure worth another attempt: the store is unavailable or busy. Anything wrong with
/// the message itself is not an error but an outcome (`error; reason=…`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("calendar store: {0}")]
    Store(#[from] imipd_store::Error),
}

/// What carrying out a job commits, and what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The calendar writes, each expecting the store as it was read when planned.
    pub writes: Vec<ObjectWrite>,
    pub mails: Vec<NewMail>,
    /// What the job records (as JSON).
    pub executed: Executed,
    /// Whether this changed the calendar or sent mail (counts toward per-sender rate
    /// limits).
    pub applied: bool,
}

impl Applied {
    /// A result that changes nothing.
    pub fn nothing(executed: Executed) -> Self {
        Applied {
            writes: Vec::new(),
            mails: Vec::new(),
            executed,
            applied: false,
        }
    }

    /// The batch that commits this result as the completion of job `job_id` of `user`,
    /// leased by `worker`.
    pub fn completing(&self, user: &str, job_id: i64, worker: &str) -> Batch {
        Batch {
            user: user.to_string(),
            writes: self.writes.clone(),
            mails: self.mails.clone(),
            job: Some(JobDone {
                job_id,
                worker: worker.to_string(),
                outcome: self.executed.to_json(),
                applied: self.applied,
            }),
        }
    }

    /// What a job ends with when its commit met `conflict`, if that settles it. A new
    /// event's write is insert-only: if the event was stored by another path while the job
    /// waited, the job changes nothing and says so (`None`: the object changed after it
    /// was read; plan again).
    pub fn after_conflict(conflict: &Conflict) -> Option<Self> {
        let found = match (&conflict.expected, &conflict.found) {
            (Expect::Modseq(_), _) => return None,
            (_, Found::Uid { calendar_id, .. }) => {
                format!("{} was stored in calendar {calendar_id:?}", conflict.uid)
            }
            (_, Found::OtherUid(other)) => format!(
                "the name {:?} in calendar {:?} was taken by {other}",
                conflict.href, conflict.calendar_id
            ),
            (_, Found::Version(_) | Found::Nothing) => format!(
                "{} was stored in calendar {:?}",
                conflict.uid, conflict.calendar_id
            ),
        };
        Some(Applied::nothing(Executed::new(Outcome::no_action(
            format!(
                "{found} by another change while this message was applied; a new event never \
             replaces one already there, so this message changed nothing"
            ),
        ))))
    }
}

/// The calendar write that carries out `decided` for `uid`, given `stored`, what the
/// user's calendars hold under it now (which the decision was taken on): a known event
/// changes where it is stored, if still at that version; a new one goes into the
/// decision's calendar, or the default, if the UID is still unused.
pub fn execute(
    store: &dyn Store,
    user: &str,
    uid: &str,
    decided: &Decided,
    stored: Option<&CalendarObject>,
    executed: Executed,
) -> Result<Applied, JobError> {
    let write = match (&decided.change, stored) {
        (Change::Put(ics), Some(object)) => ObjectWrite::replace(object, ics),
        (Change::Put(ics), None) => {
            let home = match &decided.calendar_id {
                Some(wanted) => wanted.clone(),
                None => store.default_calendar(user)?.id,
            };
            ObjectWrite::new_event(&home, uid, ics)
        }
        (Change::Delete, Some(object)) => ObjectWrite::delete(object),
        // No change, or nothing stored to delete.
        _ => return Ok(Applied::nothing(executed)),
    };
    Ok(Applied {
        writes: vec![write],
        mails: Vec::new(),
        executed,
        applied: true,
    })
}
