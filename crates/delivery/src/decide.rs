//! What the update stage will do with a calendar action: the calendar core, run at
//! delivery on what the recipient's calendar holds now, for the outcome header, Sieve's
//! `processcalendar` and `imipd itip explain`.

use crate::detect::MessageView;
use crate::pipeline::Pipeline;
use imipd_calendar::{Change, Decision, Facts, Outcome, apply_message};
use imipd_lmtp::Recipient;
use imipd_scheduling::Action;
use imipd_sieve::CalendarJob;
use imipd_store::CalendarObject;

impl Pipeline {
    /// What the update stage will do with `action`: the calendar core, run now on what
    /// the calendar holds now.
    pub(crate) fn decide(
        &self,
        action: &Action,
        view: &MessageView<'_>,
        rcpt: &Recipient,
        stored: &Result<Option<CalendarObject>, String>,
    ) -> Outcome {
        self.decide_full(action, view, rcpt, stored).outcome
    }

    /// [`Self::decide`] with the whole decision, for `imipd itip explain`. `stored` is what
    /// [`Pipeline::recipient_view`] found under the invitation's UID. The calendar part is
    /// the one detection parsed: it is not read again, however many recipients there are.
    pub fn decide_full(
        &self,
        action: &Action,
        view: &MessageView<'_>,
        rcpt: &Recipient,
        stored: &Result<Option<CalendarObject>, String>,
    ) -> Decision {
        let Some(inv) = &view.calendar.invitation else {
            return refused(Outcome::no_action("no calendar part"));
        };
        let info = &view.facts;
        // The core would refuse too, without the message layer's reason (which From
        // rule or which Authentication-Results failed).
        if !info.spam
            && let Some(why) = &info.unauthenticated
        {
            return Decision {
                method: Some(inv.method),
                uid: Some(inv.uid.clone()),
                ..refused(Outcome::no_action(format!(
                    "sender not authenticated ({why}); {} not applied to the calendar",
                    inv.method
                )))
            };
        }
        let stored = match stored {
            Ok(found) => found,
            Err(e) => return refused(Outcome::error(e.clone())),
        };
        let (policy, addresses) = action.policy((self.clock)());
        // RFC 9671 `:addresses` names the user's addresses instead of the envelope recipient.
        let (recipient, user_addresses) = match addresses {
            Some(list) => (String::new(), list),
            // A store error here leaves just the user's name: the decision can only be stricter.
            None => (
                rcpt.address.clone(),
                self.store
                    .addresses(&rcpt.user)
                    .unwrap_or_else(|_| vec![rcpt.user.clone()]),
            ),
        };
        let facts = Facts {
            recipient,
            user_addresses,
            sender: info.from.clone().unwrap_or_default(),
            authenticated: info.authenticated,
            spam: info.spam,
        };
        let decision = apply_message(
            stored.as_ref().map(|o| o.ics.as_str()),
            &inv.itip,
            &facts,
            &policy,
            &self.limits,
        );
        if let (
            Action::Process {
                calendar_id: Some(id),
                ..
            },
            Change::Put(_),
            None,
        ) = (action, &decision.change, &stored)
            && !self.calendar_exists(&rcpt.user, id)
        {
            return refused(Outcome::error(format!(
                "no calendar {id:?} (create it, or fix :calendarid)"
            )));
        }
        decision
    }

    pub(crate) fn calendar_exists(&self, user: &str, id: &str) -> bool {
        self.store
            .calendars(user)
            .map(|cals| cals.iter().any(|c| c.id == id))
            .unwrap_or(false)
    }
}

fn refused(outcome: Outcome) -> Decision {
    Decision {
        outcome,
        method: None,
        uid: None,
        change: Change::None,
        response: None,
    }
}

pub fn action_for(job: &CalendarJob) -> Action {
    match job {
        CalendarJob::Process(r) => Action::Process {
            allow_public: r.allow_public,
            addresses: r.addresses.clone(),
            organizers: r.organizers.clone(),
            updates_only: r.updates_only,
            calendar_id: r.calendar_id.clone(),
            delete_cancelled: r.delete_cancelled,
        },
        CalendarJob::AddCal { calendar_id } => Action::AddCal {
            calendar_id: calendar_id.clone(),
        },
        CalendarJob::UpdateCal => Action::UpdateCal,
    }
}
