//! A message about one instance (a component with RECURRENCE-ID) applies only to an
//! instance that exists: one the series' RRULE, RDATE and EXDATE yield, or one already
//! overridden. Otherwise one REPLY with 999 invented instances would add 999 overrides,
//! and one RECURRENCE-ID on a single event would add a phantom occurrence.

use super::context::Ctx;
use crate::expand::{Expansion, Presence};
use crate::model::Comp;
use crate::object::Object;
use calcard::icalendar::ICalendarProperty;

/// The instances of one object, expanded once per message and only when needed.
pub(crate) struct Existing<'o> {
    object: &'o Object,
    expansion: Option<Expansion>,
    /// An object with no master (an invitation to single instances) accepts any instance.
    open_without_series: bool,
    /// Overrides already in the object count as existing instances; not when the object is
    /// the message itself, whose overrides are what is checked.
    overrides_count: bool,
}

impl<'o> Existing<'o> {
    pub(crate) fn new(object: &'o Object) -> Self {
        Existing {
            object,
            expansion: None,
            open_without_series: false,
            overrides_count: true,
        }
    }

    /// Checks a message's own overrides against its own master.
    pub(crate) fn of_own_series(object: &'o Object) -> Self {
        Existing {
            overrides_count: false,
            ..Existing::new(object)
        }
    }

    /// The organizer may invite to further single instances of an object that holds only
    /// instances (Google does so); no series is there to check them against.
    pub(crate) fn open_without_series(mut self) -> Self {
        self.open_without_series = true;
        self
    }

    /// `Err(reason)` unless `comp` is about the whole object or names an existing instance.
    pub(crate) fn check(&mut self, ctx: &Ctx<'_>, comp: &Comp) -> Result<(), String> {
        let Some(rid) = comp.property(&ICalendarProperty::RecurrenceId) else {
            return Ok(());
        };
        let object = self.object;
        let expansion = self
            .expansion
            .get_or_insert_with(|| Expansion::of(object, ctx.limits.max_instances));
        let name = crate::values::recurrence_id_key(rid);
        let uid = &ctx.uid;
        let method = ctx.method;
        match expansion.presence(object, rid, self.overrides_count) {
            Presence::Exists => Ok(()),
            Presence::NoSeries if self.open_without_series => Ok(()),
            Presence::Missing => Err(format!(
                "{method} for {uid} names instance {name}, which the series does not have; not applied"
            )),
            Presence::NotRecurring => Err(format!(
                "{method} for {uid} names instance {name}, but {uid} does not recur; not applied"
            )),
            Presence::NoSeries => Err(format!(
                "{method} for {uid} names instance {name}, which the calendar does not have; not applied"
            )),
            Presence::Unknown => Err(format!(
                "{method} for {uid} names instance {name}, which cannot be checked (its date is unreadable, or it lies beyond the first {} instances); not applied",
                ctx.limits.max_instances
            )),
        }
    }
}
