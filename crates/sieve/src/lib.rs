//! The Sieve filter stage of imipd: a pure library. The host passes the message, the
//! envelope, what it knows about the sender ([`Facts`], read once by `imipd-message`:
//! this crate parses no Authentication-Results itself), and callbacks ([`Host`]) for
//! contacts, folders and calendar decisions; [`run`] returns where the copy goes, the redirects and
//! the calendar jobs. No I/O, no store access.
//!
//! # Language
//!
//! sieve-rs (0.7.3) interprets RFC 5228 with fileinto, envelope, body, copy, relational,
//! date, index, variables, imap4flags, mailbox, spamtest, enotify, extlists, environment,
//! subaddress, ihave and the comparators. Extensions whose actions imipd does not carry out
//! (vacation, reject, editheader, include, duplicate …) are refused at compile time.
//!
//! # processcalendar (RFC 9671) and the calendar notify methods
//!
//! sieve-rs knows neither `processcalendar` nor notification methods without a URI scheme
//! (`notify :method "addcal"` does not even compile there), and it silently skips every
//! `notify` on an `Auto-Submitted` message, which many calendar servers send. It cannot be
//! taught new commands either: its parser accepts only its own. So a pre-pass over the
//! source (a tokenizer that agrees with sieve-rs's on every token boundary) rewrites
//!
//! ```text
//! processcalendar :addresses ["a@x", "${b}"] :calendarid "work" :outcome "o" :reason "r";
//! ```
//!
//! into
//!
//! ```text
//! require ["mailbox", "vnd.stalwart.expressions"];
//! if mailboxexists ["imipd:call:0", "a@x", "${b}", "work"] {}
//! let "o" "imipd.outcome()"; let "r" "imipd.reason()";
//! ```
//!
//! The argument strings are copied verbatim, so sieve-rs expands their variables with its
//! own rules; the tags are recorded at compile time in the script's call table. The
//! `mailboxexists` test surfaces as an event the runner intercepts by its marker: it
//! builds a [`CalendarRequest`], asks [`Host::decide`] for the outcome, and answers the
//! two zero-argument external functions that `let` (sieve-rs's expression extension) uses
//! to store the outcome and reason in the script's variables before the next command
//! runs. This is the sturdiest route sieve-rs offers: every piece is a documented
//! sieve-rs feature, and no value ever passes through an expression string. Every
//! `notify` (RFC 5435's positional method, or the older `:method` tag) is rewritten the
//! same way, its method and `:options` carried as values: after expansion, `addcal` and
//! `updatecal` (with or without a `:` URI part) become calendar jobs; other methods are
//! logged and skipped, as imipd sends no notifications.
//!
//! Two more sieve-rs habits are corrected the same way. It scopes a variable first set
//! inside a block to that block, where RFC 5229 gives every variable script scope, so the
//! pre-pass declares each variable a script sets at the top level first. And an expression
//! name resolves to a variable before a function, so the internal functions are named
//! `imipd.outcome` and `imipd.reason`, which no script variable can be called.
//!
//! `require "processcalendar"` becomes `require "mailbox"`. Scripts may not require
//! `vnd.stalwart.*` themselves, so the internal functions stay internal. The pre-pass keeps
//! a map from the rewritten text back to the source, so every [`CompileError`] carries the
//! user's own line and column.
//!
//! # Facts visible to scripts
//!
//! `spamtest` reports 10 for spam ([`Facts::spam`]); the environment items
//! `vnd.imipd.sender-authenticated` and `vnd.imipd.spam` are "yes" or "no", and
//! `vnd.imipd.user`, `vnd.imipd.sender`, `vnd.imipd.spam-score` carry the rest. The
//! extlists list `:addrbook:Default` (or `addrbook:Default`) is the user's contacts.

mod compile;
mod generate;
mod lexer;
mod prefs;
mod prepass;
mod run;
mod stored;
mod types;

pub use compile::{CompileError, MAX_SCRIPT_BYTES, Script, compile};
pub use generate::{BEGIN_MARKER, END_MARKER, generate_section, splice, user_section};
pub use prefs::{AddInvitations, PrefError, Prefs};
pub use run::{MAX_INSTRUCTIONS, MAX_REDIRECTS, run, run_view};
pub use stored::{
    SettingsError, default_script, effective_script, prefs_of, set_own_section, set_prefs,
};
pub use types::{CalendarJob, CalendarRequest, Delivery, Envelope, Facts, FilterResult, Host};
