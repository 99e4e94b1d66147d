//! The decision, taken here, once, at delivery: the inputs of [`imipd_scheduling::decide`]
//! gathered for one recipient (what its calendar holds now, its addresses, the sender's
//! recent actions) and the refusals only the message layer can word. Sieve's
//! `processcalendar`, the outcome header, the job and `imipd itip explain` all get this one
//! [`Decided`].

use crate::detect::MessageView;
use crate::pipeline::Pipeline;
use imipd_calendar::Outcome;
use imipd_lmtp::Recipient;
use imipd_scheduling::{Action, Ask, Decided, JobSpec, SENDER_WINDOW_SECS, decide};
use imipd_sieve::CalendarJob;
use imipd_store::CalendarObject;

impl Pipeline {
    /// What the update stage will do with `action`, decided on what the calendar holds now
    /// (`stored`, what [`Pipeline::recipient_view`] found under the invitation's UID).
    /// `pending` is how many jobs this delivery already decided to act for the recipient:
    /// they count toward the sender's limit like the stored ones. The calendar part is the
    /// one detection parsed: it is not read again, however many recipients there are.
    pub fn decide(
        &self,
        action: &Action,
        view: &MessageView<'_>,
        rcpt: &Recipient,
        stored: &Result<Option<CalendarObject>, String>,
        pending: u64,
    ) -> Decided {
        let Some(inv) = &view.calendar.invitation else {
            return Decided::nothing(Outcome::no_action("no calendar part"), None);
        };
        let seen = stored
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|o| o.modseq);
        let info = &view.facts;
        // The core would refuse too, without the message layer's reason (which From
        // rule or which Authentication-Results failed).
        if !info.spam
            && let Some(why) = &info.unauthenticated
        {
            return Decided::nothing(
                Outcome::no_action(format!(
                    "sender not authenticated ({why}); {} not applied to the calendar",
                    inv.method
                )),
                seen,
            );
        }
        let stored = match stored {
            Ok(found) => found.as_ref(),
            Err(e) => return Decided::nothing(Outcome::error(e.clone()), None),
        };
        let spec = self.job_spec(action, view, rcpt);
        let sender = info.from.clone().unwrap_or_default();
        // A store error here leaves just the user's name: the decision can only be stricter.
        let user_addresses = self
            .store
            .addresses(&rcpt.user)
            .unwrap_or_else(|_| vec![rcpt.user.clone()]);
        let now = (self.clock)();
        let recent_actions = || {
            self.store
                .actions_since(&rcpt.user, &sender, now - SENDER_WINDOW_SECS)
                .map(|n| n + pending)
                .map_err(|e| format!("calendar store unavailable: {e}"))
        };
        decide(&Ask {
            user: &rcpt.user,
            message: &inv.itip,
            spec: &spec,
            sender: &sender,
            user_addresses: &user_addresses,
            stored,
            calendar_exists: &|id| self.calendar_exists(&rcpt.user, id),
            recent_actions: &recent_actions,
            max_per_sender_per_hour: self.max_per_sender_per_hour,
            now,
            limits: &self.limits,
        })
    }

    /// The job spec for `action`: what the update stage is told about the message.
    pub(crate) fn job_spec(
        &self,
        action: &Action,
        view: &MessageView<'_>,
        rcpt: &Recipient,
    ) -> JobSpec {
        JobSpec {
            action: action.clone(),
            recipient: rcpt.address.clone(),
            authenticated: view.facts.authenticated,
            spam: view.facts.spam,
        }
    }

    pub(crate) fn calendar_exists(&self, user: &str, id: &str) -> bool {
        self.store
            .calendars(user)
            .map(|cals| cals.iter().any(|c| c.id == id))
            .unwrap_or(false)
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
