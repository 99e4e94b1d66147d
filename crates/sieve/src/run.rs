//! Running a compiled script on one message for one recipient.

use crate::compile::Script;
use crate::prepass::{Call, FN_OUTCOME, FN_REASON, MARKER};
use crate::types::{CalendarJob, CalendarRequest, Delivery, Envelope, Facts, FilterResult, Host};
use imipd_calendar::Outcome;
use imipd_message::{MessageView, MimeLimits, SieveView};
use sieve::compiler::grammar::Capability;
use sieve::runtime::Variable;
use sieve::{Context, Event, Input, Mailbox, Recipient, Runtime, SpamStatus};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use tracing::info;

/// Most redirects one script run may ask for.
pub const MAX_REDIRECTS: usize = 5;
/// Most Sieve instructions one run may execute.
pub const MAX_INSTRUCTIONS: usize = 20_000;
/// Most events (actions and host questions) one run may raise.
const MAX_EVENTS: usize = 1_000;

/// The name of the contacts list, if `name` is one ("addrbook:Default", with or without
/// the leading ':' of RFC 6134's short form).
pub(crate) fn contacts_list(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix(':').unwrap_or(name);
    name.eq_ignore_ascii_case("addrbook:Default")
        .then_some(":addrbook:Default")
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new()
            .with_capability(Capability::Expressions)
            // So that `ihave "processcalendar"` is true: the pre-pass provides it.
            .with_capability(Capability::Other("processcalendar".into()))
            .without_capabilities([
                Capability::Reject,
                Capability::Ereject,
                Capability::Vacation,
                Capability::VacationSeconds,
                Capability::EditHeader,
                Capability::Include,
                Capability::Duplicate,
                Capability::Fcc,
                Capability::Convert,
                Capability::ExtractText,
                Capability::Replace,
                Capability::Enclose,
                Capability::Mime,
                Capability::ForEveryPart,
                Capability::MboxMetadata,
                Capability::ServerMetadata,
                Capability::ImapSieve,
                Capability::Regex,
                Capability::SpecialUse,
                Capability::MailboxId,
                Capability::VirusTest,
            ])
            .with_cpu_limit(MAX_INSTRUCTIONS)
            .with_max_redirects(MAX_REDIRECTS)
            .with_max_out_messages(MAX_REDIRECTS)
            // Loop protection: sieve-rs refuses to redirect a message with this many
            // Received headers; its default of 10 is below what ordinary mail can carry.
            .with_max_received_headers(40)
            .with_max_variable_size(16 * 1024)
            .with_valid_ext_list(":addrbook:Default")
            .with_valid_ext_list("addrbook:Default")
    })
}

/// Filters one message given as bytes, parsed here: for a message filtered alone (the
/// CLI, tests). The message is read as written — detection headers already on top — and
/// the organizer, when `facts` names none, is its invitation's. `None` is the implicit
/// keep. Never panics.
pub fn run(
    script: Option<&Script>,
    message: &[u8],
    envelope: &Envelope,
    facts: &Facts,
    host: &dyn Host,
) -> FilterResult {
    let view = MessageView::parse(message, envelope.from, &MimeLimits::default(), &[]);
    let mut facts = facts.clone();
    if facts.organizer.is_none() {
        facts.organizer = view
            .calendar
            .invitation
            .as_ref()
            .and_then(|i| i.itip.organizer());
    }
    let mut sieve = SieveView::as_written(&view);
    run_view(script, &mut sieve, "", envelope, &facts, host)
}

/// Filters the message of `view` (parsed once per delivery) for one recipient, with
/// `headers` (that recipient's detection headers) on top. `None` is the implicit keep.
/// Never panics.
pub fn run_view(
    script: Option<&Script>,
    view: &mut SieveView<'_>,
    headers: &str,
    envelope: &Envelope,
    facts: &Facts,
    host: &dyn Host,
) -> FilterResult {
    let Some(script) = script else {
        return FilterResult::implicit_keep();
    };
    view.lend(headers, |message| {
        let mut ctx = runtime().filter_parsed(message);
        let result = catch_unwind(AssertUnwindSafe(|| {
            execute(script, &mut ctx, envelope, facts, host)
        }))
        .unwrap_or_else(|_| {
            let mut result = FilterResult::implicit_keep();
            result
                .errors
                .push("the Sieve interpreter failed on this message; kept in INBOX".into());
            result
        });
        (result, ctx.take_message())
    })
}

struct Run<'a> {
    script: &'a Script,
    host: &'a dyn Host,
    facts: &'a Facts,
    result: FilterResult,
    failed: bool,
}

fn execute(
    script: &Script,
    ctx: &mut Context<'_>,
    envelope: &Envelope,
    facts: &Facts,
    host: &dyn Host,
) -> FilterResult {
    ctx.set_envelope(sieve::Envelope::From, envelope.from.to_string());
    ctx.set_envelope(sieve::Envelope::To, envelope.to.to_string());
    ctx.set_user_address(envelope.to.to_string());
    ctx.set_spam_status(match (facts.spam, facts.spam_score) {
        (true, _) => SpamStatus::Spam,
        (false, Some(_)) => SpamStatus::Ham,
        (false, None) => SpamStatus::Unknown,
    });
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    ctx.set_env_variable(
        "vnd.imipd.sender-authenticated",
        yes_no(facts.authenticated),
    );
    ctx.set_env_variable("vnd.imipd.spam", yes_no(facts.spam));
    ctx.set_env_variable("vnd.imipd.user", envelope.user.to_string());
    if let Some(score) = facts.spam_score {
        ctx.set_env_variable("vnd.imipd.spam-score", score.to_string());
    }
    if let Some(sender) = &facts.sender {
        ctx.set_env_variable("vnd.imipd.sender", sender.clone());
    }

    let mut run = Run {
        script,
        host,
        facts,
        result: FilterResult::default(),
        failed: false,
    };
    let mut input = Input::script("user", script.sieve.clone());
    let mut events = 0;
    while let Some(next) = ctx.run(input) {
        events += 1;
        if events > MAX_EVENTS {
            run.fail(format!(
                "the script raised more than {MAX_EVENTS} actions; stopped"
            ));
            break;
        }
        if run.result.unavailable.is_some() {
            break;
        }
        input = match next {
            Ok(Event::MailboxExists {
                mailboxes,
                special_use,
            }) => run.mailbox_exists(&mailboxes, &special_use),
            Ok(event) => run.event(event),
            Err(e) => {
                run.fail(e.to_string());
                Input::True
            }
        };
    }
    let mut result = run.result;
    if run.failed || result.unavailable.is_some() {
        result.deliveries = vec![Delivery::inbox()];
        result.redirects.clear();
    }
    result
}

impl Run<'_> {
    fn fail(&mut self, error: String) {
        self.failed = true;
        self.result.errors.push(error);
    }

    fn event(&mut self, event: Event) -> Input {
        match event {
            Event::Keep { flags, .. } => self.deliver(None, flags, false),
            Event::FileInto {
                folder,
                flags,
                create,
                ..
            } => {
                let folder = (!folder.eq_ignore_ascii_case("INBOX")).then_some(folder);
                self.deliver(folder, flags, create);
            }
            Event::SendMessage {
                recipient: Recipient::Address(address),
                message_id: 0,
                ..
            } => {
                if !self.result.redirects.contains(&address) {
                    self.result.redirects.push(address);
                }
            }
            Event::SendMessage { recipient, .. } => {
                info!(
                    ?recipient,
                    "Sieve message to a list or group not sent: unsupported"
                );
            }
            Event::Notify {
                method, options, ..
            } => self.notify(&method, &options),
            Event::ListContains { lists, values, .. } => {
                return self.list_contains(&lists, &values);
            }
            Event::Function { id, .. } => {
                let last = self.result.outcome.as_ref();
                let value = match id {
                    FN_OUTCOME => last.map(|o| o.kind.as_str().to_string()),
                    FN_REASON => last.map(|o| o.reason.clone()),
                    _ => None,
                };
                return Input::result(Variable::from(value.unwrap_or_default()));
            }
            Event::Reject { .. } => self.fail("reject is not supported".into()),
            Event::IncludeScript { name, .. } => {
                self.fail(format!("include of {name} is not supported"));
                return Input::False;
            }
            Event::DuplicateId { .. } => return Input::False,
            Event::Discard
            | Event::CreatedMessage { .. }
            | Event::SetEnvelope { .. }
            | Event::MailboxExists { .. } => {}
        }
        Input::True
    }

    fn deliver(&mut self, folder: Option<String>, flags: Vec<String>, create: bool) {
        let deliveries = &mut self.result.deliveries;
        match deliveries.iter_mut().find(|d| d.folder == folder) {
            Some(existing) => {
                for flag in flags {
                    if !existing.flags.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
                        existing.flags.push(flag);
                    }
                }
                existing.create |= create;
            }
            None => deliveries.push(Delivery {
                folder,
                flags,
                create,
            }),
        }
    }

    /// Asks the host; a host that cannot tell stops the run (see [`Host::is_contact`]).
    fn is_contact(&mut self, address: &str) -> bool {
        match self.host.is_contact(address) {
            Ok(known) => known,
            Err(e) => {
                self.result.unavailable.get_or_insert(e);
                false
            }
        }
    }

    fn list_contains(&mut self, lists: &[String], values: &[String]) -> Input {
        let mut found = false;
        for list in lists {
            if contacts_list(list).is_some() {
                for value in values {
                    found = found || self.is_contact(value);
                }
            } else {
                info!(list, "Sieve :list names an unknown list; treated as empty");
            }
        }
        found.into()
    }

    fn mailbox_exists(&mut self, mailboxes: &[Mailbox], special_use: &[String]) -> Input {
        if let Some(Mailbox::Name(first)) = mailboxes.first()
            && let Some(call) = first
                .strip_prefix(MARKER)
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.script.calls.get(n))
        {
            let values: Vec<String> = mailboxes[1..]
                .iter()
                .map(|m| match m {
                    Mailbox::Name(v) | Mailbox::Id(v) => v.clone(),
                })
                .collect();
            self.call(call, values);
            return Input::True;
        }
        let exists = special_use.is_empty()
            && mailboxes.iter().all(|m| match m {
                Mailbox::Name(name) => {
                    name.eq_ignore_ascii_case("INBOX") || self.host.folder_exists(name)
                }
                Mailbox::Id(_) => false,
            });
        exists.into()
    }

    fn call(&mut self, call: &Call, values: Vec<String>) {
        match call {
            Call::ProcessCalendar {
                allow_public,
                updates_only,
                delete_cancelled,
                addresses,
                organizers,
                calendar_id,
            } => {
                let mut values = values.into_iter();
                let addresses = addresses.map(|n| values.by_ref().take(n).collect());
                let organizers_list = organizers.then(|| values.next()).flatten();
                let calendar_id = calendar_id.then(|| values.next()).flatten();
                let mut request = CalendarRequest {
                    allow_public: *allow_public,
                    addresses,
                    organizers: None,
                    organizers_from_contacts: false,
                    updates_only: *updates_only,
                    calendar_id,
                    delete_cancelled: *delete_cancelled,
                };
                if let Some(list) = organizers_list {
                    if contacts_list(&list).is_none() {
                        self.result.outcome = Some(Outcome::error(format!(
                            "unknown list {list:?} in :organizers; the list imipd has is \
                             \":addrbook:Default\""
                        )));
                        return;
                    }
                    request.organizers_from_contacts = true;
                    let organizer = self.facts.organizer.clone();
                    request.organizers = Some(
                        organizer
                            .filter(|o| self.is_contact(o))
                            .into_iter()
                            .collect(),
                    );
                    if self.result.unavailable.is_some() {
                        return;
                    }
                }
                self.result.outcome = Some(self.host.decide(&request));
                self.result
                    .calendar_jobs
                    .push(CalendarJob::Process(request));
            }
            Call::Notify => {
                if let Some((method, options)) = values.split_first() {
                    self.notify(method, options);
                }
            }
        }
    }

    fn add_cal(&mut self, calendar_id: Option<String>) {
        if let Some(id) = &calendar_id
            && !self.host.calendar_exists(id)
        {
            self.result.outcome = Some(Outcome::error(format!(
                "notify addcal: no calendar {id:?}; create it or fix calendarId"
            )));
            return;
        }
        self.result
            .calendar_jobs
            .push(CalendarJob::AddCal { calendar_id });
    }

    /// `notify`: addcal and updatecal become calendar jobs, other methods are skipped.
    fn notify(&mut self, method: &str, options: &[String]) {
        let (scheme, rest) = method.split_once(':').unwrap_or((method, ""));
        match scheme.trim().to_ascii_lowercase().as_str() {
            "addcal" => {
                let id = options_calendar_id(options).or_else(|| uri_calendar_id(rest));
                self.add_cal(id);
            }
            "updatecal" => self.result.calendar_jobs.push(CalendarJob::UpdateCal),
            _ => info!(
                method,
                "Sieve notify skipped: imipd only handles addcal and updatecal"
            ),
        }
    }
}

/// `calendarId` from notify options, as a `["calendarId", "<id>"]` pair or as
/// `"calendarId=<id>"`.
fn options_calendar_id(options: &[String]) -> Option<String> {
    options
        .iter()
        .enumerate()
        .find_map(|(i, option)| {
            if option.eq_ignore_ascii_case("calendarId") {
                options.get(i + 1).cloned()
            } else {
                option
                    .split_once('=')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case("calendarId"))
                    .map(|(_, v)| v.trim().to_string())
            }
        })
        .filter(|id| !id.is_empty())
}

/// `calendarId` from an `addcal:?calendarId=…` URI.
fn uri_calendar_id(rest: &str) -> Option<String> {
    rest.trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("calendarid"))
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}
