//! What every method handler needs: who is asking, for whom, and how to answer.

use crate::address::{self, UserAddresses};
use crate::object::Object;
use crate::{Change, Decision, Facts, Limits, Method, Outcome, OutcomeKind, Policy};

pub(crate) struct Ctx<'a> {
    pub facts: &'a Facts,
    pub policy: &'a Policy,
    pub limits: &'a Limits,
    pub user: UserAddresses,
    /// `facts.sender`, normalised.
    pub sender: String,
    pub method: Method,
    pub uid: String,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        facts: &'a Facts,
        policy: &'a Policy,
        limits: &'a Limits,
        method: Method,
        uid: &str,
    ) -> Self {
        let user = UserAddresses::new(
            facts
                .user_addresses
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(facts.recipient.as_str())),
        );
        Ctx {
            facts,
            policy,
            limits,
            user,
            sender: address::normalize(&facts.sender),
            method,
            uid: uid.to_string(),
        }
    }

    /// The user as named in reasons: the envelope recipient, else the first address.
    pub(crate) fn user_name(&self) -> String {
        if self.facts.recipient.trim().is_empty() {
            self.facts
                .user_addresses
                .first()
                .map(|a| address::normalize(a))
                .unwrap_or_else(|| "the user".into())
        } else {
            address::normalize(&self.facts.recipient)
        }
    }

    fn decide(&self, kind: OutcomeKind, reason: String, change: Change) -> Decision {
        Decision::new(
            Outcome::new(kind, reason),
            Some(self.method),
            Some(&self.uid),
        )
        .with_change(change)
    }

    pub(crate) fn no_action(&self, reason: impl Into<String>) -> Decision {
        self.decide(OutcomeKind::NoAction, reason.into(), Change::None)
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Decision {
        self.decide(OutcomeKind::Error, reason.into(), Change::None)
    }

    pub(crate) fn added(&self, reason: impl Into<String>, object: &Object) -> Decision {
        self.put(OutcomeKind::Added, reason.into(), object)
    }

    pub(crate) fn updated(&self, reason: impl Into<String>, object: &Object) -> Decision {
        self.put(OutcomeKind::Updated, reason.into(), object)
    }

    /// A write, unless its result would exceed the limits (a REPLY bomb's 999 overrides):
    /// then nothing is written and the stored copy stays as usable as it was.
    fn put(&self, kind: OutcomeKind, reason: String, object: &Object) -> Decision {
        match object.to_stored_text(self.limits) {
            Ok(text) => self.decide(kind, reason, Change::Put(text)),
            Err(e) => self.error(format!(
                "{} {} refused: the result would exceed the limits ({e}); the calendar is unchanged",
                self.method, self.uid
            )),
        }
    }

    pub(crate) fn deleted(&self, reason: impl Into<String>) -> Decision {
        self.decide(OutcomeKind::Updated, reason.into(), Change::Delete)
    }

    pub(crate) fn is_trusted_delegate(&self) -> bool {
        self.policy
            .trusted_sent_by
            .iter()
            .any(|a| address::normalize(a) == self.sender)
    }
}
