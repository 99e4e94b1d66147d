//! The inputs and the result of applying one iTIP message.

use crate::{Method, Outcome};
use serde::{Deserialize, Serialize};

/// What the mail pipeline knows about the message and its recipient.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The envelope recipient the message was delivered to.
    pub recipient: String,
    /// Every address of the user (aliases); `+tag`s and case are ignored.
    pub user_addresses: Vec<String>,
    /// The authenticated sender (From: after DMARC alignment).
    pub sender: String,
    /// SPF/DKIM/DMARC let the sender be trusted.
    pub authenticated: bool,
    /// The message was classified as spam.
    pub spam: bool,
}

/// The user's choices about what may change their calendar.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Accept METHOD:PUBLISH (subscriptions, newsletters with events).
    pub allow_publish: bool,
    /// Let a REPLY from someone who was not invited add them as an attendee.
    pub allow_party_crashers: bool,
    /// A CANCEL of a whole event deletes it instead of marking it STATUS:CANCELLED.
    pub delete_cancelled: bool,
    /// Only update events already in the calendar; never add new ones.
    pub updates_only: bool,
    /// Senders trusted to act for any organizer (secretaries, shared mailboxes).
    pub trusted_sent_by: Vec<String>,
    /// When set, new events are added only from these organizers.
    pub organizers: Option<Vec<String>>,
    /// The user asked for this message explicitly ("Add to calendar"): a new invitation is
    /// added even when whoever sent it is not its organizer (a forwarded invitation).
    pub manual: bool,
    /// The current time (unix seconds): the DTSTAMP of any response, so that [`crate::apply`]
    /// itself never reads a clock.
    pub now: i64,
}

/// What to do to the stored calendar object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    None,
    /// Store this complete VCALENDAR object (without METHOD).
    Put(String),
    Delete,
}

/// The result of [`crate::apply`].
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Outcome,
    pub method: Option<Method>,
    pub uid: Option<String>,
    pub change: Change,
    /// An iTIP message to send back (a REQUEST answering a REFRESH); `None` otherwise.
    pub response: Option<String>,
}

impl Decision {
    pub(crate) fn new(outcome: Outcome, method: Option<Method>, uid: Option<&str>) -> Self {
        Decision {
            outcome,
            method,
            uid: uid.map(str::to_string),
            change: Change::None,
            response: None,
        }
    }

    pub(crate) fn with_change(mut self, change: Change) -> Self {
        self.change = change;
        self
    }

    pub(crate) fn with_response(mut self, response: String) -> Self {
        self.response = Some(response);
        self
    }
}
