use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Calendar invitations in email that just work: an LMTP stage between your MTA and your
/// mail store that puts iMIP invitations, updates and replies into your users' calendars.
#[derive(Debug, Parser)]
#[command(name = "imipd", version, about)]
pub struct Cli {
    /// Configuration file (TOML); without it imipd runs on its embedded defaults.
    #[arg(long, short, global = true, env = "IMIPD_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the LMTP server, the update workers and the outbox.
    ///
    /// Environment overrides: IMIPD_DATA_DIR, IMIPD_HOSTNAME, IMIPD_TRUSTED_AUTHSERV_IDS,
    /// IMIPD_LMTP_LISTEN, IMIPD_HTTP_LISTEN, IMIPD_SINK, IMIPD_DOWNSTREAM, IMIPD_SMTP_HOST,
    /// IMIPD_SMTP_PORT, IMIPD_LOG, IMIPD_MAX_PER_SENDER_PER_HOUR.
    Serve,
    /// Manage users and their addresses.
    #[command(subcommand)]
    User(UserCmd),
    /// Run the calendar core by hand: why did (or didn't) an invitation apply?
    #[command(subcommand)]
    Itip(ItipCmd),
    /// Show, check or replace a user's Sieve script.
    #[command(subcommand)]
    Sieve(SieveCmd),
    /// Show or change a user's calendar preferences (they compile to Sieve).
    #[command(subcommand)]
    Prefs(PrefsCmd),
    /// Manage a user's contacts (the senders whose invitations are added by default).
    #[command(subcommand)]
    Contacts(ContactsCmd),
    /// Inspect and retry the update queue.
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// List the events in a user's calendars, or answer an invitation.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Outgoing mail waiting for, or refused by, the relay.
    #[command(subcommand)]
    Mail(MailCmd),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; its address is its name. A default calendar is created with it.
    Add {
        email: String,
        /// Password for CalDAV and the web page (stored as an Argon2 hash).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input instead (keeps it out of `ps`).
        #[arg(long)]
        password_stdin: bool,
        /// Another address that delivers to this user (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
    },
    /// List users with their aliases.
    List,
    /// Delete a user with its calendars, preferences and script (mail stays on disk).
    #[command(alias = "delete")]
    Del { email: String },
    /// Add an alias address to a user.
    AliasAdd { email: String, alias: String },
    /// Remove an alias address from a user.
    AliasDel { email: String, alias: String },
}

#[derive(Debug, Subcommand)]
pub enum ItipCmd {
    /// Apply one iTIP message to an (optional) stored object: prints `outcome:` and
    /// `reason:` on stderr and the resulting object on stdout. Exit 0 whatever the outcome.
    Apply(ItipApply),
    /// Dry-run a whole email against a user's stored calendars; writes nothing.
    Explain {
        /// The message (RFC 5322 file, e.g. from the user's Maildir).
        mail: PathBuf,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct ItipApply {
    /// The incoming iTIP message (.ics).
    #[arg(long)]
    pub message: PathBuf,
    /// The stored calendar object it applies to, if any.
    #[arg(long)]
    pub stored: Option<PathBuf>,
    /// The From address of the mail.
    #[arg(long)]
    pub sender: String,
    /// The envelope recipient (one of the user's addresses).
    #[arg(long)]
    pub recipient: String,
    /// Treat the sender as not authenticated (no DMARC pass).
    #[arg(long)]
    pub unauthenticated: bool,
    /// Treat the mail as spam.
    #[arg(long)]
    pub spam: bool,
    /// Allow METHOD:PUBLISH.
    #[arg(long)]
    pub allow_public: bool,
    /// Delete on CANCEL instead of marking the event cancelled.
    #[arg(long)]
    pub delete_cancelled: bool,
}

#[derive(Debug, Subcommand)]
pub enum SieveCmd {
    /// Print the user's whole script (generated section and own rules).
    Show { user: String },
    /// Compile the user's script and report errors with line and column.
    Check { user: String },
    /// Replace the user's own rules with FILE (the generated section is kept).
    Set { user: String, file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum PrefsCmd {
    /// Print the user's preferences.
    Show { user: String },
    /// Change preferences: add_invitations=contacts|everyone|never, apply_updates=on|off,
    /// file_into=FOLDER (empty: none), calendar=ID, delete_cancelled=on|off.
    Set {
        user: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactsCmd {
    Add {
        user: String,
        address: String,
    },
    List {
        user: String,
    },
    #[command(alias = "delete")]
    Del {
        user: String,
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCmd {
    /// List jobs, newest first.
    List {
        /// queued, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one job with its last error and outcome.
    Show { id: i64 },
    /// Put a dead or deferred job back in the queue now.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// The outbox, newest first.
    List {
        /// queued, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Send a dead or deferred mail again now.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// Every event in the user's calendars: calendar, UID, start, summary, status, attendees.
    List { user: String },
    /// Answer an invitation as USER: updates their copy and queues an iMIP REPLY to the
    /// organizer (sent by `imipd serve` through smtp.host).
    Rsvp {
        user: String,
        uid: String,
        /// accepted, declined or tentative.
        answer: String,
        /// A note for the organizer.
        #[arg(long)]
        comment: Option<String>,
        /// Answer one instance of a recurring event (its RECURRENCE-ID value).
        #[arg(long)]
        instance: Option<String>,
    },
    /// Save an event USER organizes (a whole iCalendar object) and queue the REQUEST for
    /// its attendees; SEQUENCE goes up when time, place, recurrence or status change.
    Save { user: String, file: PathBuf },
    /// Call off an event USER organizes and queue the CANCEL for its attendees.
    Cancel {
        user: String,
        uid: String,
        /// Cancel one instance of a recurring event (its RECURRENCE-ID value).
        #[arg(long)]
        instance: Option<String>,
    },
}
