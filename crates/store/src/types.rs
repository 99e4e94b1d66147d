use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The canonical name: the primary address, lower case.
    pub name: String,
    pub aliases: Vec<String>,
    pub has_password: bool,
    pub created: i64,
}

impl User {
    /// Every address that is this user's: the primary one first, then the aliases.
    pub fn addresses(&self) -> Vec<String> {
        std::iter::once(self.name.clone())
            .chain(self.aliases.iter().cloned())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarObject {
    pub calendar_id: String,
    pub uid: String,
    pub ics: String,
    /// Bumped on every write: the object's ETag and the base of sync tokens.
    pub modseq: i64,
}

/// One change to a calendar object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectWrite {
    Put {
        calendar_id: String,
        uid: String,
        ics: String,
    },
    Delete {
        uid: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Written at delivery but not yet due: its mail is still being stored
    /// ([`crate::Store::hold_job`]).
    Held,
    Queued,
    Running,
    Done,
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Held => "held",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "held" => JobState::Held,
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job as the filter stage (or CalDAV, the web page) hands it to the update stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub user: String,
    /// What to do, as JSON the worker understands (the store does not interpret it).
    pub spec: String,
    /// recipient + UID + RECURRENCE-ID + SEQUENCE + DTSTAMP + method.
    pub idem_key: String,
    /// The calendar object's UID: jobs for one user and UID run one at a time, in order.
    pub uid: String,
    /// The envelope sender / From, for rate limits and logs.
    pub sender: String,
    /// The mail to parse again.
    pub message: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: i64,
    pub user: String,
    pub spec: String,
    pub idem_key: String,
    pub uid: String,
    pub sender: String,
    #[serde(skip)]
    pub message: Vec<u8>,
    pub state: JobState,
    pub attempts: i64,
    pub not_before: i64,
    pub last_error: Option<String>,
    /// The outcome the worker recorded (`added; reason="…"`).
    pub outcome: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// What a finished job commits together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    pub writes: Vec<ObjectWrite>,
    pub mails: Vec<NewMail>,
    pub outcome: String,
    /// Whether this job changed the calendar (counts toward per-sender rate limits).
    pub applied: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub user: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub user: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The complete RFC 5322 message, signed if signing is configured.
    pub data: Vec<u8>,
    /// Why it is sent (`reply`, `request`, `cancel`, `refresh`, `redirect`), for logs.
    pub purpose: String,
    /// Mail queued outside a job's lease (a Sieve redirect, queued while the message is
    /// being delivered) is queued once per key: the MTA's retry of a delivery that failed
    /// after the redirect was queued does not send it twice.
    pub idem_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutMail {
    pub id: i64,
    pub user: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    #[serde(skip)]
    pub data: Vec<u8>,
    pub purpose: String,
    pub state: JobState,
    pub attempts: i64,
    pub not_before: i64,
    pub last_error: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub jobs_queued: u64,
    pub jobs_running: u64,
    pub jobs_dead: u64,
    pub mail_queued: u64,
    pub mail_dead: u64,
}
