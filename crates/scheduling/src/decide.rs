//! The decision, taken once: at delivery, with every rule that can be known then (the
//! calendar core on what the recipient's calendar holds, the calendar a new event goes to,
//! the sender's hourly limit). The job carries it as [`Decided`]; the worker carries it out
//! ([`crate::process_job`]) and takes it again, with the same [`decide`], only when what it
//! was taken on has changed meanwhile, recording what it reached as [`Executed`].

use crate::spec::{JobSpec, SpecError};
use imipd_calendar::{Change, Facts, ItipMessage, Limits, Method, Outcome, apply_message};
use imipd_store::CalendarObject;
use serde::{Deserialize, Serialize};

/// The window of the sender's limit.
pub const SENDER_WINDOW_SECS: i64 = 3600;

/// What the update stage will do with one calendar job, decided at delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub outcome: Outcome,
    /// The modseq of the stored object it was decided on; `None`: nothing was stored.
    pub seen: Option<i64>,
    /// What carrying it out does to the stored object.
    pub change: Change,
    /// The calendar a new event goes to; `None`: the user's default calendar.
    pub calendar_id: Option<String>,
    /// The answer to an attendee's REFRESH (the current REQUEST), sent back to them.
    pub answer: Option<String>,
}

impl Decided {
    /// A decision that changes nothing: a refusal, or a question the store could not answer.
    pub fn nothing(outcome: Outcome, seen: Option<i64>) -> Self {
        Decided {
            outcome,
            seen,
            change: Change::None,
            calendar_id: None,
            answer: None,
        }
    }

    /// Whether carrying it out changes the calendar or sends mail: what the sender's hourly
    /// limit counts.
    pub fn acts(&self) -> bool {
        match self.change {
            Change::Put(_) => true,
            Change::Delete => self.seen.is_some(),
            Change::None => self.answer.is_some(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, SpecError> {
        serde_json::from_str(json).map_err(|e| SpecError::BadDecision(e.to_string()))
    }
}

/// What the worker recorded for a job: the outcome it reached and, when it took the
/// decision again, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Executed {
    pub outcome: Outcome,
    /// What had changed since delivery, so that the decision was taken again; `None`: the
    /// decision taken at delivery was carried out (or the job came without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redecided: Option<String>,
}

impl Executed {
    pub fn new(outcome: Outcome) -> Self {
        Executed {
            outcome,
            redecided: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, SpecError> {
        serde_json::from_str(json).map_err(|e| SpecError::BadDecision(e.to_string()))
    }
}

/// Everything a decision reads.
pub struct Ask<'a> {
    /// The user, as named in reasons.
    pub user: &'a str,
    pub message: &'a ItipMessage,
    pub spec: &'a JobSpec,
    /// The message's From address: what authentication vouches for and the limit counts.
    pub sender: &'a str,
    /// The user's stored addresses (RFC 9671 `:addresses` replaces them).
    pub user_addresses: &'a [String],
    /// What the user's calendars hold under the message's UID.
    pub stored: Option<&'a CalendarObject>,
    /// Whether the user has a calendar with this id.
    pub calendar_exists: &'a dyn Fn(&str) -> bool,
    /// How many automatic actions from the sender for the user the last hour holds besides
    /// this one; asked only when the decision acts (`Err`: the store could not say).
    pub recent_actions: &'a dyn Fn() -> Result<u64, String>,
    /// 0: no limit.
    pub max_per_sender_per_hour: u64,
    pub now: i64,
    pub limits: &'a Limits,
}

/// Decides what a calendar job does: the calendar core under the job's action, then where
/// a new event goes, then the sender's hourly limit. Reads nothing but `ask`.
pub fn decide(ask: &Ask<'_>) -> Decided {
    let seen = ask.stored.map(|o| o.modseq);
    let (policy, explicit) = ask.spec.action.policy(ask.now);
    let facts = Facts {
        // RFC 9671 `:addresses` names the user's addresses instead of the envelope recipient.
        recipient: if explicit.is_some() {
            String::new()
        } else {
            ask.spec.recipient.clone()
        },
        user_addresses: explicit.unwrap_or_else(|| ask.user_addresses.to_vec()),
        sender: ask.sender.to_string(),
        authenticated: ask.spec.authenticated,
        spam: ask.spec.spam,
    };
    let decision = apply_message(
        ask.stored.map(|o| o.ics.as_str()),
        ask.message,
        &facts,
        &policy,
        ask.limits,
    );
    let calendar_id = ask.spec.action.calendar_id().map(str::to_string);
    if let (Change::Put(_), None, Some(id)) = (&decision.change, ask.stored, &calendar_id)
        && !(ask.calendar_exists)(id)
    {
        return Decided::nothing(
            Outcome::error(format!(
                "no calendar {id:?} for {} (create it, or fix :calendarid)",
                ask.user
            )),
            seen,
        );
    }
    let answer = match decision.method {
        Some(Method::Refresh) => decision.response,
        _ => None,
    };
    let decided = Decided {
        outcome: decision.outcome,
        seen,
        change: decision.change,
        calendar_id,
        answer,
    };
    if !decided.acts() || ask.max_per_sender_per_hour == 0 {
        return decided;
    }
    // An answer counts like a change: REFRESH cannot be used to make imipd send mail in bulk.
    match (ask.recent_actions)() {
        Ok(recent) if recent >= ask.max_per_sender_per_hour => Decided::nothing(
            Outcome::no_action(format!(
                "rate limit: {recent} automatic actions for {} in the last hour",
                imipd_store::normalize_address(ask.sender)
            )),
            seen,
        ),
        Ok(_) => decided,
        Err(e) => Decided::nothing(Outcome::error(e), seen),
    }
}

/// What changed since `decided` was taken, when something did: the stored object (another
/// job, an RSVP, later CalDAV wrote or deleted it), or the calendar a new event was to go to.
pub fn changed_since(
    decided: &Decided,
    stored: Option<&CalendarObject>,
    calendar_exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    match (decided.seen, stored.map(|o| o.modseq)) {
        (None, Some(now)) => {
            return Some(format!(
                "the event was stored after delivery (modseq {now})"
            ));
        }
        (Some(_), None) => return Some("the stored event was deleted after delivery".into()),
        (Some(then), Some(now)) if then != now => {
            return Some(format!(
                "the stored event changed after delivery (modseq {then}, now {now})"
            ));
        }
        _ => {}
    }
    match (&decided.change, stored, &decided.calendar_id) {
        (Change::Put(_), None, Some(id)) if !calendar_exists(id) => {
            Some(format!("calendar {id:?} was deleted after delivery"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Action;
    use imipd_calendar::OutcomeKind;

    const BOB: &str = "bob@example.org";

    fn invite(method: &str, seq: u32) -> ItipMessage {
        let text = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:{method}\r\n\
             BEGIN:VEVENT\r\nUID:u1@example.com\r\nSEQUENCE:{seq}\r\nDTSTAMP:20300101T100000Z\r\n\
             DTSTART:20300105T100000Z\r\nORGANIZER:mailto:alice@example.com\r\n\
             ATTENDEE:mailto:{BOB}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        ItipMessage::parse(text.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap()
    }

    fn spec(calendar_id: Option<&str>) -> JobSpec {
        JobSpec {
            action: Action::AddCal {
                calendar_id: calendar_id.map(str::to_string),
            },
            recipient: BOB.into(),
            authenticated: true,
            spam: false,
        }
    }

    /// `decide` for Bob, with the sender's other actions `recent` and a limit of 2.
    fn decide_with(
        message: &ItipMessage,
        spec: &JobSpec,
        stored: Option<&CalendarObject>,
        recent: Result<u64, String>,
    ) -> Decided {
        decide(&Ask {
            user: BOB,
            message,
            spec,
            sender: "Alice@Example.com",
            user_addresses: &[BOB.to_string()],
            stored,
            calendar_exists: &|id| id == "work",
            recent_actions: &|| recent.clone(),
            max_per_sender_per_hour: 2,
            now: 1_900_000_000,
            limits: &Limits::default(),
        })
    }

    #[test]
    fn every_rule_is_in_the_decision() {
        let request = invite("REQUEST", 1);
        let stored = CalendarObject {
            calendar_id: "default".into(),
            href: "u1@example.com.ics".into(),
            uid: "u1@example.com".into(),
            ics: String::new(),
            modseq: 7,
        };
        // (case, spec, stored, the sender's other actions, kind, words in the reason)
        let cases = [
            (
                "new",
                spec(None),
                None,
                Ok(1),
                OutcomeKind::Added,
                "new event",
            ),
            (
                "named calendar",
                spec(Some("work")),
                None,
                Ok(0),
                OutcomeKind::Added,
                "new event",
            ),
            (
                "no such calendar",
                spec(Some("play")),
                None,
                Ok(0),
                OutcomeKind::Error,
                "no calendar \"play\" for bob@example.org",
            ),
            (
                "limit reached",
                spec(None),
                None,
                Ok(2),
                OutcomeKind::NoAction,
                "rate limit: 2 automatic actions for alice@example.com in the last hour",
            ),
            (
                "count unknown",
                spec(None),
                None,
                Err("calendar store unavailable".to_string()),
                OutcomeKind::Error,
                "calendar store unavailable",
            ),
            (
                "unreadable stored copy",
                spec(None),
                Some(&stored),
                Ok(5),
                OutcomeKind::Error,
                "unreadable",
            ),
        ];
        for (case, spec, stored, recent, kind, words) in cases {
            let got = decide_with(&request, &spec, stored, recent);
            assert_eq!(got.outcome.kind, kind, "{case}: {got:?}");
            assert!(got.outcome.reason.contains(words), "{case}: {got:?}");
            assert_eq!(got.seen, stored.map(|o| o.modseq), "{case}");
            assert_eq!(
                got.acts(),
                kind == OutcomeKind::Added,
                "{case}: only a change acts"
            );
            assert_eq!(Decided::from_json(&got.to_json()).unwrap(), got, "{case}");
        }
    }

    #[test]
    fn a_decision_that_changes_nothing_is_never_limited() {
        let cancel = invite("CANCEL", 1);
        let got = decide_with(&cancel, &spec(None), None, Ok(99));
        assert_eq!(got.outcome.kind, OutcomeKind::NoAction, "{got:?}");
        assert!(!got.outcome.reason.contains("rate limit"), "{got:?}");
    }

    #[test]
    fn a_decision_is_stale_when_what_it_was_taken_on_changed() {
        let object = |modseq| CalendarObject {
            calendar_id: "work".into(),
            href: "u.ics".into(),
            uid: "u".into(),
            ics: String::new(),
            modseq,
        };
        let put = |seen, calendar: Option<&str>| Decided {
            change: Change::Put("x".into()),
            calendar_id: calendar.map(str::to_string),
            ..Decided::nothing(Outcome::no_action(""), seen)
        };
        let work_only = |id: &str| id == "work";
        // (case, decided, stored now, words of the reason; None: fresh)
        let cases = [
            ("nothing then, nothing now", put(None, None), None, None),
            ("same object", put(Some(3), None), Some(object(3)), None),
            (
                "written since",
                put(Some(3), None),
                Some(object(4)),
                Some("modseq 3, now 4"),
            ),
            (
                "stored since",
                put(None, None),
                Some(object(4)),
                Some("stored after delivery"),
            ),
            (
                "deleted since",
                put(Some(3), None),
                None,
                Some("deleted after delivery"),
            ),
            ("calendar still there", put(None, Some("work")), None, None),
            (
                "calendar gone",
                put(None, Some("play")),
                None,
                Some("calendar \"play\" was deleted"),
            ),
        ];
        for (case, decided, stored, words) in cases {
            let got = changed_since(&decided, stored.as_ref(), &work_only);
            match words {
                None => assert_eq!(got, None, "{case}"),
                Some(words) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(words)),
                    "{case}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn what_the_worker_recorded_reads_back() {
        let plain = Executed::new(Outcome::no_action("x"));
        assert_eq!(
            plain.to_json(),
            r#"{"outcome":{"kind":"no_action","reason":"x"}}"#
        );
        let again = Executed {
            redecided: Some("the stored event changed".into()),
            ..plain
        };
        assert_eq!(Executed::from_json(&again.to_json()).unwrap(), again);
        assert!(Executed::from_json("added; reason=\"x\"").is_err());
    }
}
