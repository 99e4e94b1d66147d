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
    /// The name clients show.
    pub name: String,
    pub is_default: bool,
    pub description: Option<String>,
    /// `#RRGGBB` or `#RRGGBBAA`, as CalDAV clients send it.
    pub color: Option<String>,
    /// The calendar's time zone: an IANA name (`Europe/Berlin`).
    pub timezone: Option<String>,
    /// The component types it holds: `VEVENT`, `VTODO`, `VJOURNAL`.
    pub components: Vec<String>,
    /// Grows with every change to the calendar or its objects: its sync token and ctag
    /// (see [`crate::Store::changes_since`]).
    pub sync_token: i64,
}

/// The component types a calendar holds unless it says otherwise: the ones iTIP schedules.
pub const DEFAULT_COMPONENTS: &[&str] = &["VEVENT", "VTODO"];

/// A calendar's properties as set at creation or changed later: `None` leaves a property
/// as it is (at creation: the name is the id, the components [`DEFAULT_COMPONENTS`], the
/// rest unset); an empty description, colour or time zone unsets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarProps {
    pub name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub timezone: Option<String>,
    pub components: Option<Vec<String>>,
}

impl CalendarProps {
    pub fn named(name: &str) -> Self {
        CalendarProps {
            name: Some(name.to_string()),
            ..CalendarProps::default()
        }
    }

    /// The properties in their stored form: refused with what is wrong and what is
    /// allowed, components upper-cased and each named once.
    pub fn checked(&self) -> crate::Result<CalendarProps> {
        let invalid = |what: String| Err(crate::Error::InvalidCalendar(what));
        if let Some(name) = &self.name
            && (name.trim().is_empty()
                || name.chars().count() > 256
                || name.chars().any(char::is_control))
        {
            return invalid(format!(
                "name {name:?}: 1-256 characters, no control characters"
            ));
        }
        if let Some(d) = &self.description
            && (d.chars().count() > 4096
                || d.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
        {
            return invalid("description: at most 4,096 characters, no control characters but line breaks and tabs".into());
        }
        if let Some(c) = self.color.as_deref().filter(|c| !c.is_empty()) {
            let hex = c.strip_prefix('#').unwrap_or("");
            if !matches!(hex.len(), 6 | 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return invalid(format!("colour {c:?}: use #RRGGBB or #RRGGBBAA"));
            }
        }
        if let Some(tz) = self.timezone.as_deref().filter(|t| !t.is_empty())
            && (tz.len() > 64
                || !tz
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b)))
        {
            return invalid(format!(
                "time zone {tz:?}: an IANA name such as Europe/Berlin"
            ));
        }
        let components = match &self.components {
            None => None,
            Some(list) => {
                let mut wanted: Vec<String> = Vec::new();
                for c in list {
                    let c = c.trim().to_ascii_uppercase();
                    if !["VEVENT", "VTODO", "VJOURNAL"].contains(&c.as_str()) {
                        return invalid(format!("component {c:?}: use VEVENT, VTODO or VJOURNAL"));
                    }
                    if !wanted.contains(&c) {
                        wanted.push(c);
                    }
                }
                if wanted.is_empty() {
                    return invalid(
                        "components: name at least one of VEVENT, VTODO, VJOURNAL".into(),
                    );
                }
                Some(wanted)
            }
        };
        Ok(CalendarProps {
            components,
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarObject {
    pub calendar_id: String,
    /// The object's resource name in its calendar: [`crate::href_for_uid`] for objects
    /// imipd files itself; CalDAV clients choose their own.
    pub href: String,
    pub uid: String,
    pub ics: String,
    /// Bumped on every write: the object's ETag and the base of sync tokens.
    pub modseq: i64,
}

impl CalendarObject {
    /// The strong ETag of this version, quoted as HTTP sends it.
    pub fn etag(&self) -> String {
        etag(self.modseq)
    }
}

/// What a listing that reads no data knows of an object: its name, version and size
/// (a PROPFIND of `getetag` over a calendar of thousands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub href: String,
    pub modseq: i64,
    /// The length of its data in bytes.
    pub size: i64,
}

impl ObjectVersion {
    pub fn etag(&self) -> String {
        etag(self.modseq)
    }
}

/// Whose stored bytes [`crate::Store::used_bytes`] adds up (RFC 4331 `quota-used-bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage<'a> {
    Calendars,
    Calendar(&'a str),
    AddressBooks,
    AddressBook(&'a str),
}

/// The strong ETag of the version with modification sequence `modseq`.
pub fn etag(modseq: i64) -> String {
    format!("\"{modseq}\"")
}

/// What a write expects to find: a write whose expectation no longer holds fails with
/// [`crate::Error::Conflict`] and changes nothing, so no writer overwrites a change it
/// has not seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Nothing at the href and no object with this UID in the calendar (CalDAV's
    /// `If-None-Match: *`).
    MustNotExist,
    /// Nothing at the href and no object with this UID in any of the user's calendars: a
    /// new event from scheduling (mail, an organizer's new event), which must neither
    /// replace nor shadow a copy held elsewhere.
    UidUnused,
    /// The object exists and is still the version that was read: its modification
    /// sequence (the number in its ETag).
    Modseq(i64),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::MustNotExist => f.write_str("no such object in the calendar"),
            Expect::UidUnused => f.write_str("no object with this UID in any calendar"),
            Expect::Modseq(n) => write!(f, "version {n}"),
        }
    }
}

/// What a conflicting write found instead of what it expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Found {
    /// No object at the href.
    Nothing,
    /// The object, at this version.
    Version(i64),
    /// An object with the UID, at `href` of `calendar_id`.
    Uid { calendar_id: String, href: String },
    /// The href holds an object with another UID.
    OtherUid(String),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Nothing => f.write_str("none"),
            Found::Version(n) => write!(f, "version {n}"),
            Found::Uid { calendar_id, href } => {
                write!(f, "the UID already stored at {calendar_id}/{href}")
            }
            Found::OtherUid(uid) => write!(f, "an object with UID {uid:?} at that name"),
        }
    }
}

/// A write refused because the object is not as the writer expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub user: String,
    pub calendar_id: String,
    pub href: String,
    pub uid: String,
    pub expected: Expect,
    pub found: Found,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "write to {}/{} of {} (UID {:?}) refused: expected {}, found {} (read it again and retry)",
            self.calendar_id, self.href, self.user, self.uid, self.expected, self.found
        )
    }
}

/// What changed in one collection (a calendar, or an address book) since a sync token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The collection's sync token now: the next call's `token`.
    pub token: i64,
    /// Objects added or changed, oldest change first, with their current version.
    pub changed: Vec<ChangedObject>,
    /// Hrefs of objects deleted (tombstones).
    pub deleted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedObject {
    pub href: String,
    pub uid: String,
    pub modseq: i64,
}

/// One entry of the change feed: every calendar write of every user, in the order they
/// were committed, whichever process made them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedEntry {
    /// Monotonic across all calendars: the position in the feed.
    pub seq: i64,
    pub user: String,
    pub calendar_id: String,
    /// The object changed; `None` when the calendar itself was created, changed or deleted.
    pub href: Option<String>,
    pub uid: String,
    pub deleted: bool,
}

/// One entry of the job feed: a job whose record its user sees changed (it finished, or
/// was applied by hand), whichever process changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobNotice {
    /// Monotonic: the position in the job feed.
    pub seq: i64,
    pub user: String,
    pub job_id: i64,
}

/// One change to a calendar object, with what it expects to find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectWrite {
    /// Creates or replaces the object at `href` of `calendar_id`.
    Put {
        calendar_id: String,
        href: String,
        uid: String,
        ics: String,
        expect: Expect,
    },
    /// Deletes the object at `href`, if it is still at version `modseq`.
    Delete {
        calendar_id: String,
        href: String,
        modseq: i64,
    },
}

impl ObjectWrite {
    /// A new event filed by imipd (mail, the command line): named after its UID, and
    /// refused if the user has that UID anywhere.
    pub fn new_event(calendar_id: &str, uid: &str, ics: &str) -> Self {
        ObjectWrite::Put {
            calendar_id: calendar_id.to_string(),
            href: crate::href_for_uid(uid),
            uid: uid.to_string(),
            ics: ics.to_string(),
            expect: Expect::UidUnused,
        }
    }

    /// `object` changed to `ics`, if it is still the version read.
    pub fn replace(object: &CalendarObject, ics: &str) -> Self {
        ObjectWrite::Put {
            calendar_id: object.calendar_id.clone(),
            href: object.href.clone(),
            uid: object.uid.clone(),
            ics: ics.to_string(),
            expect: Expect::Modseq(object.modseq),
        }
    }

    /// The calendar written.
    pub fn calendar_id(&self) -> &str {
        match self {
            ObjectWrite::Put { calendar_id, .. } | ObjectWrite::Delete { calendar_id, .. } => {
                calendar_id
            }
        }
    }

    /// `object` deleted, if it is still the version read.
    pub fn delete(object: &CalendarObject) -> Self {
        ObjectWrite::Delete {
            calendar_id: object.calendar_id.clone(),
            href: object.href.clone(),
            modseq: object.modseq,
        }
    }
}

/// Everything one action changes, committed together or not at all: calendar writes (each
/// with its precondition), the mail that tells others, and, for a queued job, its
/// completion. An RSVP's new PARTSTAT and its REPLY, or a job's writes and its `done`
/// state, can never be half there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Whose calendars `writes` change.
    pub user: String,
    pub writes: Vec<ObjectWrite>,
    pub mails: Vec<NewMail>,
    pub job: Option<JobDone>,
}

/// A job finished by the batch that carries it, only if `worker` still holds its lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobDone {
    pub job_id: i64,
    pub worker: String,
    /// What the worker recorded (JSON the worker writes and reads).
    pub outcome: String,
    /// Whether this job changed the calendar or sent mail (counts toward per-sender rate
    /// limits).
    pub applied: bool,
}

/// What a committed batch wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Each write's object with its new version (`None`: deleted), in batch order.
    pub objects: Vec<Written>,
    /// The outbox ids of the batch's mails, in batch order.
    pub mail_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub calendar_id: String,
    pub href: String,
    pub uid: String,
    pub modseq: Option<i64>,
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
    /// The calendar part the update stage reads.
    pub message: Vec<u8>,
    /// The decision taken at delivery, as JSON the worker understands (the store does not
    /// interpret it); `None`: the worker decides.
    pub decided: Option<String>,
    /// The decision changes the calendar or sends mail: the job counts toward the sender's
    /// hourly limit from the moment it is written ([`crate::Store::actions_since`]).
    pub applies: bool,
    /// The queue id of the message (its LMTP transaction), for logs and the command line.
    pub queue_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: i64,
    /// Empty for a job queued before queue ids were stored.
    pub queue_id: String,
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
    /// The decision taken at delivery (JSON, see [`NewJob::decided`]).
    pub decided: Option<String>,
    /// What the worker recorded when it ran the job (JSON the worker writes).
    pub outcome: Option<String>,
    /// What the user applied by hand afterwards ("Add to calendar"; JSON the web page
    /// writes, see [`crate::Store::record_by_hand`]).
    pub by_hand: Option<String>,
    pub created: i64,
    pub updated: i64,
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
    /// The queue id of the message it answers or redirects, or a fresh one for what a user
    /// did (an RSVP, an organizer's change), for logs and the command line.
    pub queue_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutMail {
    pub id: i64,
    /// Empty for mail queued before queue ids were stored.
    pub queue_id: String,
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
