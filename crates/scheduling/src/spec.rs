//! The job spec: what the filter stage (and later CalDAV and the web page) asks the update
//! stage to do with one message. It travels as JSON in `NewJob::spec`; the store does not
//! read it.

use crate::decide::Decided;
use calcard::icalendar::ICalendarProperty;
use imipd_calendar::{ItipMessage, Limits, Method, Policy};
use imipd_store::NewJob;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub action: Action,
    /// The envelope recipient the message came to (an alias or sub-address of the user).
    pub recipient: String,
    /// Whether the sender's From was authenticated (a trusted Authentication-Results).
    pub authenticated: bool,
    /// Whether the message was classified as spam; spam is never processed.
    pub spam: bool,
}

/// What to do with the message's iTIP data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Action {
    /// RFC 9671 `processcalendar`, with its arguments.
    Process {
        /// `:allowpublic` — apply PUBLISH messages too.
        #[serde(default)]
        allow_public: bool,
        /// `:addresses` — the addresses that are the user's own, replacing the stored ones.
        #[serde(default)]
        addresses: Option<Vec<String>>,
        /// `:organizers` — only events organized by these addresses are processed.
        #[serde(default)]
        organizers: Option<Vec<String>>,
        /// `:updatesonly` — never add new events, only change known ones.
        #[serde(default)]
        updates_only: bool,
        /// `:calendarid` — where new events go (default: the user's default calendar).
        #[serde(default)]
        calendar_id: Option<String>,
        /// `:deletecancelled` — remove cancelled events instead of marking them.
        #[serde(default)]
        delete_cancelled: bool,
    },
    /// The `addcal` notify target: put the event in a calendar, PUBLISH included.
    AddCal {
        #[serde(default)]
        calendar_id: Option<String>,
    },
    /// The `updatecal` notify target: change the event only if it is already known.
    UpdateCal,
    /// No rule asked for the message: it is kept with the reason, for the decision log and
    /// for the user to apply by hand. The worker records the reason and changes nothing.
    Record,
    /// The user asked for this message ("Add to calendar", "Update calendar"): applied
    /// even from a stranger, with updates off or over the sender's limit.
    Manual {
        #[serde(default)]
        calendar_id: Option<String>,
    },
}

impl Action {
    /// The calendar policy this action applies under, and the addresses it names as the
    /// user's own (`:addresses`; `None`: the user's stored addresses).
    pub fn policy(&self, now: i64) -> (Policy, Option<Vec<String>>) {
        match self {
            Action::Process {
                allow_public,
                addresses,
                organizers,
                updates_only,
                delete_cancelled,
                ..
            } => (
                Policy {
                    allow_publish: *allow_public,
                    delete_cancelled: *delete_cancelled,
                    updates_only: *updates_only,
                    organizers: organizers.clone(),
                    now,
                    ..Policy::default()
                },
                addresses.clone(),
            ),
            // The notify targets of the original design take PUBLISH too.
            Action::AddCal { .. } => (
                Policy {
                    allow_publish: true,
                    now,
                    ..Policy::default()
                },
                None,
            ),
            Action::UpdateCal => (
                Policy {
                    allow_publish: true,
                    updates_only: true,
                    now,
                    ..Policy::default()
                },
                None,
            ),
            Action::Record => (
                Policy {
                    now,
                    ..Policy::default()
                },
                None,
            ),
            Action::Manual { .. } => (
                Policy {
                    allow_publish: true,
                    manual: true,
                    now,
                    ..Policy::default()
                },
                None,
            ),
        }
    }

    /// Where new events go, when the action says.
    pub fn calendar_id(&self) -> Option<&str> {
        match self {
            Action::Process { calendar_id, .. }
            | Action::AddCal { calendar_id }
            | Action::Manual { calendar_id } => calendar_id.as_deref(),
            Action::UpdateCal | Action::Record => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Action::Process { .. } => "process",
            Action::AddCal { .. } => "addcal",
            Action::UpdateCal => "updatecal",
            Action::Record => "record",
            Action::Manual { .. } => "manual",
        }
    }
}

impl JobSpec {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, SpecError> {
        serde_json::from_str(json).map_err(|e| SpecError::BadSpec(e.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("job spec is not valid: {0}")]
    BadSpec(String),
    #[error("the job's recorded decision is not valid: {0}")]
    BadDecision(String),
    #[error("calendar part cannot be used: {0}")]
    Calendar(String),
    #[error("calendar part has no METHOD: it is not an iTIP message")]
    NotItip,
}

/// The fields that make one iTIP message distinct (RFC 5546 section 2.1.5): the same
/// values mean the same message, delivered again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItipKey {
    pub method: Method,
    pub uid: String,
    /// RECURRENCE-ID, SEQUENCE and DTSTAMP of every component with that UID, comma-joined
    /// in order (a message can carry a series and its exceptions).
    pub recurrence_id: String,
    pub sequence: String,
    pub dtstamp: String,
}

impl ItipKey {
    /// Reads the key fields of an iTIP message, within `limits`.
    pub fn from_calendar(calendar: &str, limits: &Limits) -> Result<Self, SpecError> {
        match ItipMessage::parse(calendar.as_bytes(), limits) {
            Ok(Some(message)) => Ok(Self::of(&message)),
            Ok(None) => Err(SpecError::NotItip),
            Err(e) => Err(SpecError::Calendar(e.to_string())),
        }
    }

    /// The key fields of a message already parsed.
    pub fn of(message: &ItipMessage) -> Self {
        let joined = |name: ICalendarProperty| message.written(&name).join(",");
        ItipKey {
            method: message.method(),
            uid: message.uid().to_string(),
            recurrence_id: joined(ICalendarProperty::RecurrenceId),
            sequence: joined(ICalendarProperty::Sequence),
            dtstamp: joined(ICalendarProperty::Dtstamp),
        }
    }
}

/// The idempotency key of a job: user + action + method + UID + RECURRENCE-ID + SEQUENCE +
/// DTSTAMP. Each field is length-prefixed, so no choice of UID can make two different
/// messages share a key.
pub fn idem_key(
    user: &str,
    action: &str,
    method: Method,
    uid: &str,
    recurrence_id: &str,
    sequence: &str,
    dtstamp: &str,
) -> String {
    let mut key = String::from("itip");
    for field in [
        user,
        action,
        method.as_lower(),
        uid,
        recurrence_id,
        sequence,
        dtstamp,
    ] {
        let _ = write!(key, ";{}:{}", field.len(), field);
    }
    key
}

/// Builds the job the filter stage enqueues for one recipient of a message.
///
/// `sender` is the message's From address (what authentication vouches for, and what rate
/// limits count); `itip` is the calendar part detection chose, parsed, and `calendar` its
/// text: all the update stage reads (the facts are in `spec`), so the job carries the
/// calendar part, never the mail. `decided` is the decision taken at delivery; without
/// one, the worker decides. `queue_id` names the message.
pub fn job_for_invitation(
    user: &str,
    sender: &str,
    spec: &JobSpec,
    itip: &ItipMessage,
    calendar: &str,
    decided: Option<&Decided>,
    queue_id: &str,
) -> NewJob {
    let key = ItipKey::of(itip);
    NewJob {
        user: user.to_string(),
        spec: spec.to_json(),
        idem_key: idem_key(
            &imipd_store::normalize_address(user),
            spec.action.name(),
            key.method,
            &key.uid,
            &key.recurrence_id,
            &key.sequence,
            &key.dtstamp,
        ),
        uid: key.uid,
        sender: sender.to_string(),
        message: calendar.as_bytes().to_vec(),
        decided: decided.map(Decided::to_json),
        applies: decided.is_some_and(Decided::acts),
        queue_id: queue_id.to_string(),
    }
}

/// [`job_for_invitation`] for a calendar part given as text (the CLI, tests), without a
/// decision: parsed here.
pub fn job_for_message(
    user: &str,
    sender: &str,
    spec: &JobSpec,
    calendar: &str,
    limits: &Limits,
    queue_id: &str,
) -> Result<NewJob, SpecError> {
    match ItipMessage::parse(calendar.as_bytes(), limits) {
        Ok(Some(itip)) => Ok(job_for_invitation(
            user, sender, spec, &itip, calendar, None, queue_id,
        )),
        Ok(None) => Err(SpecError::NotItip),
        Err(e) => Err(SpecError::Calendar(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\n\
        BEGIN:VEVENT\r\nUID:u1@example.com\r\nSEQUENCE:2\r\nDTSTAMP:20260101T100000Z\r\n\
        DTSTART:20260105T100000Z\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:u1@example.com\r\nRECURRENCE-ID;TZID=Europe/Paris:20260112T110000\r\n\
        SEQUENCE:3\r\nDTSTAMP:20260101T100000Z\r\nDTSTART:20260112T120000Z\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    #[test]
    fn key_fields_cover_every_instance() {
        let key = ItipKey::from_calendar(INVITE, &Limits::default()).unwrap();
        assert_eq!(key.method, Method::Request);
        assert_eq!(key.uid, "u1@example.com");
        assert_eq!(key.sequence, "2,3");
        assert_eq!(key.dtstamp, "20260101T100000Z,20260101T100000Z");
        assert!(
            key.recurrence_id.starts_with(",") && key.recurrence_id.contains("20260112T110000"),
            "{:?}",
            key.recurrence_id
        );
    }

    #[test]
    fn keys_differ_when_any_field_differs() {
        let base = ["bob@x", "process", "u", "", "1", "20260101T000000Z"];
        let key = |f: [&str; 6]| idem_key(f[0], f[1], Method::Request, f[2], f[3], f[4], f[5]);
        let same = key(base);
        for i in 0..base.len() {
            let mut changed = base;
            changed[i] = "other";
            assert_ne!(key(changed), same, "changing field {i} must change the key");
        }
        // A separator inside one field cannot imitate two fields.
        assert_ne!(
            key(["bob@x", "process", "u;1:", "", "1", "x"]),
            key(["bob@x", "process", "u", ";1:", "1", "x"])
        );
        assert_ne!(
            idem_key("a", "process", Method::Request, "u", "", "", ""),
            idem_key("a", "process", Method::Cancel, "u", "", "", "")
        );
    }

    #[test]
    fn spec_round_trips_through_json() {
        let spec = JobSpec {
            action: Action::Process {
                allow_public: true,
                addresses: Some(vec!["bob@example.org".into()]),
                organizers: None,
                updates_only: false,
                calendar_id: Some("work".into()),
                delete_cancelled: true,
            },
            recipient: "bob+cal@example.org".into(),
            authenticated: true,
            spam: false,
        };
        assert_eq!(JobSpec::from_json(&spec.to_json()).unwrap(), spec);
        let minimal = r#"{"action":{"kind":"updatecal"},"recipient":"b@x","authenticated":false,"spam":false}"#;
        assert_eq!(
            JobSpec::from_json(minimal).unwrap().action,
            Action::UpdateCal
        );
        assert!(JobSpec::from_json("{}").is_err());
    }

    #[test]
    fn job_for_message_refuses_non_itip() {
        let no_method = INVITE.replace("METHOD:REQUEST\r\n", "");
        let spec = JobSpec {
            action: Action::UpdateCal,
            recipient: "bob@x".into(),
            authenticated: false,
            spam: false,
        };
        let got = job_for_message("bob@x", "a@y", &spec, &no_method, &Limits::default(), "Q1");
        assert_eq!(got, Err(SpecError::NotItip));
        let job = job_for_message("Bob@X", "a@y", &spec, INVITE, &Limits::default(), "Q1").unwrap();
        assert_eq!(
            job.message,
            INVITE.as_bytes(),
            "the job carries the calendar part"
        );
        assert_eq!(job.uid, "u1@example.com");
        assert_eq!(job.queue_id, "Q1");
        assert!(job.idem_key.contains(";5:bob@x;"), "{}", job.idem_key);
    }
}
