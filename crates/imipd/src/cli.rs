use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variables, listed under the top-level help: they apply to every command
/// (a command finds its database through IMIPD_DATA_DIR as `serve` does).
const ENVIRONMENT: &str = "\
Environment variables (each overrides the config file setting it names):
  IMIPD_CONFIG                  the config file, as --config
  IMIPD_DATA_DIR                data_dir: the database, the Maildirs and the spool
  IMIPD_HOSTNAME                hostname
  IMIPD_TRUSTED_AUTHSERV_IDS    trusted_authserv_ids, comma-separated
  IMIPD_LMTP_LISTEN             lmtp.listen, an IP address and port
  IMIPD_HTTP_LISTEN             http.listen, an IP address and port
  IMIPD_SINK                    delivery.sink: maildir or lmtp
  IMIPD_DOWNSTREAM              delivery.downstream
  IMIPD_SMTP_HOST               smtp.host
  IMIPD_SMTP_PORT               smtp.port
  IMIPD_LOG                     log.level
  IMIPD_MAX_PER_SENDER_PER_HOUR worker.max_per_sender_per_hour";

/// Calendar invitations in email that just work: an LMTP stage between your MTA and your
/// mail store that puts iMIP invitations, updates and replies into your users' calendars.
#[derive(Debug, Parser)]
#[command(name = "imipd", version, about, after_help = ENVIRONMENT)]
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
    #[command(after_help = ENVIRONMENT)]
    Serve,
    /// Manage users and their addresses.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage a user's calendars (the default one exists from the user's creation on).
    #[command(subcommand)]
    Calendars(CalendarsCmd),
    /// Run the calendar core by hand: why did (or didn't) an invitation apply?
    #[command(subcommand)]
    Itip(ItipCmd),
    /// Show, check or replace a user's Sieve script.
    #[command(subcommand)]
    Sieve(SieveCmd),
    /// Show or change a user's calendar preferences (they compile to Sieve).
    #[command(subcommand)]
    Prefs(PrefsCmd),
    /// Manage a user's contacts: the vCards of their address books. Every EMAIL of every
    /// card is a contact, whose invitations are added by default.
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
    /// Check users' passwords for other services (Dovecot).
    #[command(subcommand)]
    Auth(AuthCmd),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; its address is its name. A default calendar is created with it. The
    /// first `user add` creates the database.
    Add {
        /// The user's primary address, e.g. bob@example.org (stored in lower case).
        email: String,
        /// Password for IMAP (through `imipd auth check`), CalDAV and the web page, stored
        /// as an Argon2id hash.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input instead (keeps it out of `ps`).
        #[arg(long)]
        password_stdin: bool,
        /// Another address that delivers to this user (repeatable).
        #[arg(long = "alias", value_name = "ADDRESS")]
        aliases: Vec<String>,
    },
    /// Set or change a user's password; signed-in HTTP clients must use the new one at once.
    Passwd {
        /// The user (its address or one of its aliases).
        email: String,
        /// The new password.
        #[arg(
            long,
            conflicts_with = "password_stdin",
            required_unless_present = "password_stdin"
        )]
        password: Option<String>,
        /// Read the new password from standard input instead (keeps it out of `ps`).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with their aliases.
    List,
    /// Delete a user with its calendars, preferences and script (mail stays on disk).
    #[command(alias = "delete")]
    Del {
        /// The user (its address or one of its aliases).
        email: String,
    },
    /// Add an alias address to a user.
    AliasAdd {
        /// The user (its address or one of its aliases).
        email: String,
        /// The new address that delivers to the user.
        alias: String,
    },
    /// Remove an alias address from a user.
    AliasDel {
        /// The user (its address or one of its aliases).
        email: String,
        /// The alias to remove (not the user's primary address).
        alias: String,
    },
    /// Passwords for one device or app each, beside the user's own (HTTP sign-in only).
    #[command(subcommand)]
    AppPassword(AppPasswordCmd),
}

#[derive(Debug, Subcommand)]
pub enum AppPasswordCmd {
    /// Generate an app password and print it, the only time it is shown.
    Add {
        /// The user (its address or one of its aliases).
        email: String,
        /// What it is for, e.g. "phone" or "Thunderbird at work"; unique per user.
        label: String,
    },
    /// List a user's app passwords: label, when made, when last used (never the passwords).
    List {
        /// The user (its address or one of its aliases).
        email: String,
    },
    /// Revoke an app password: the next request signed in with it is refused.
    #[command(alias = "del")]
    Revoke {
        /// The user (its address or one of its aliases).
        email: String,
        /// The label it was added under.
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarsCmd {
    /// List the user's calendars: id, name, which one is the default, and the properties
    /// that are set.
    List {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Create a calendar, e.g. for `prefs set USER calendar=ID` or Sieve's
    /// `notify :method "addcal" :options ["calendarId", "ID"]`.
    Add {
        /// The user (its address or one of its aliases).
        user: String,
        /// The calendar id: 1-64 characters of A-Z a-z 0-9 - _.
        id: String,
        /// The name clients show; defaults to the id.
        #[arg(long)]
        name: Option<String>,
        /// What the calendar is for.
        #[arg(long)]
        description: Option<String>,
        /// The colour clients show: #RRGGBB or #RRGGBBAA.
        #[arg(long)]
        color: Option<String>,
        /// The calendar's time zone, an IANA name such as Europe/Berlin.
        #[arg(long)]
        timezone: Option<String>,
        /// The component types it holds, comma-separated [default: VEVENT,VTODO].
        #[arg(long, value_delimiter = ',')]
        components: Option<Vec<String>>,
    },
    /// Change the name clients show for a calendar.
    Rename {
        /// The user (its address or one of its aliases).
        user: String,
        /// The calendar id (see `calendars list`).
        id: String,
        /// The new name.
        name: String,
    },
    /// Make a calendar the default one: where new invitations go unless the preferences or
    /// Sieve say otherwise.
    Default {
        /// The user (its address or one of its aliases).
        user: String,
        /// The calendar id (see `calendars list`).
        id: String,
    },
    /// Delete a calendar with every event in it. The default calendar cannot be deleted.
    Del {
        /// The user (its address or one of its aliases).
        user: String,
        /// The calendar id (see `calendars list`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ItipCmd {
    /// Apply one iTIP message to an (optional) stored object: prints the outcome
    /// (`outcome: added; reason="…"`) on stderr and the resulting object on stdout. Exit 0
    /// whatever the outcome.
    Apply(ItipApply),
    /// Dry-run a whole email against a user's stored calendars; writes nothing.
    Explain {
        /// The message (RFC 5322 file), e.g. one the Maildir sink stored:
        /// <data_dir>/mail/<user>/Maildir/new/… (or cur/…).
        mail: PathBuf,
        /// The recipient: the user's address, one of its aliases or a +tag of either.
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
    Show {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Compile the user's script and report errors with line and column.
    Check {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Replace the user's own rules with FILE (the generated section is kept).
    Set {
        /// The user (its address or one of its aliases).
        user: String,
        /// A Sieve script (RFC 5228) with the user's own rules.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrefsCmd {
    /// Print the user's preferences.
    Show {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Change preferences: add_invitations=contacts|everyone|never, apply_updates=on|off,
    /// file_into=FOLDER (empty: none), calendar=ID, delete_cancelled=on|off.
    Set {
        /// The user (its address or one of its aliases).
        user: String,
        /// One or more settings, e.g. add_invitations=everyone apply_updates=off.
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactsCmd {
    /// Make ADDRESS one of the user's contacts: a card with that EMAIL in the default
    /// address book (unless a card has it already). By default only invitations from
    /// contacts are added to the calendar.
    Add {
        /// The user (its address or one of its aliases).
        user: String,
        /// The sender's address, as in the From header of its invitations.
        address: String,
    },
    /// List the user's contacts: every EMAIL of every card, once each.
    List {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Remove ADDRESS from the user's contacts: the EMAIL goes from every card that has
    /// it, and a card left with nothing but its name goes too.
    #[command(alias = "delete")]
    Del {
        /// The user (its address or one of its aliases).
        user: String,
        /// The contact's address.
        address: String,
    },
    /// Add the vCards of FILE (vCard 3.0 or 4.0, one or many) to the user's default
    /// address book, saying for each card what happened. A card whose UID is there
    /// already replaces it; a card without UID gets one. Exit 1 if any card was refused.
    Import {
        /// The user (its address or one of its aliases).
        user: String,
        /// A .vcf file, as address book programs export them; `-` reads standard input.
        file: PathBuf,
    },
    /// Print every card of the user's address books, as a .vcf file.
    Export {
        /// The user (its address or one of its aliases).
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCmd {
    /// List jobs, newest first.
    List {
        /// held, queued, running, done or dead (held: waiting for its mail to be stored).
        #[arg(long)]
        state: Option<String>,
        /// Only this user's jobs (its address or one of its aliases).
        #[arg(long)]
        user: Option<String>,
        /// At most this many jobs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one job: its queue id, the decision taken at delivery, the worker's result
    /// (and why it decided again, when it did) and its last error.
    Show {
        /// The job's number, as `jobs list` shows it.
        id: i64,
    },
    /// Put a dead or deferred job back in the queue now.
    Retry {
        /// The job's number, as `jobs list` shows it.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// The outbox, newest first.
    List {
        /// queued, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        /// At most this many mails.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Send a dead or deferred mail again now.
    Retry {
        /// The mail's number, as `mail list` shows it.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// Every event in the user's calendars: calendar, UID, start, summary, status, attendees.
    List {
        /// The user (its address or one of its aliases).
        user: String,
    },
    /// Answer an invitation as USER: updates their copy and queues an iMIP REPLY to the
    /// organizer (sent by `imipd serve` through smtp.host).
    Rsvp {
        /// The user (its address or one of its aliases).
        user: String,
        /// The event's UID, as `events list` shows it.
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
    Save {
        /// The user (its address or one of its aliases), the event's ORGANIZER.
        user: String,
        /// The iCalendar object (.ics).
        file: PathBuf,
    },
    /// Call off an event USER organizes and queue the CANCEL for its attendees.
    Cancel {
        /// The user (its address or one of its aliases), the event's ORGANIZER.
        user: String,
        /// The event's UID, as `events list` shows it.
        uid: String,
        /// Cancel one instance of a recurring event (its RECURRENCE-ID value).
        #[arg(long)]
        instance: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Check a login as a Dovecot checkpassword program: reads "user\0password\0" from file
    /// descriptor 3; on success runs PROGRAM (Dovecot's checkpassword-reply) with USER set
    /// to the user's primary address, so that an alias or another case logs in to the same
    /// mailbox. Exit 1: wrong user or password; 3: no such user (userdb lookup); 111: the
    /// database could not be read. See contrib/dovecot/.
    Check {
        /// The program to run on success, with its arguments (Dovecot passes its own).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "PROGRAM"
        )]
        reply: Vec<OsString>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command, subcommand and argument says what it is, in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(format!("`{path}`"));
                }
                for arg in sub.get_arguments() {
                    let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                    if !builtin && arg.get_help().is_none() {
                        missing.push(format!("`{path}` argument {}", arg.get_id()));
                    }
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "imipd", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }

    /// The top-level help lists every environment variable the configuration reads.
    #[test]
    fn the_top_level_help_lists_every_environment_variable() {
        let config = include_str!("config.rs");
        let read: Vec<&str> = config
            .split("env(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(read.len() >= 10, "{read:?}");
        let help = Cli::command().render_help().to_string();
        for name in read.iter().chain(&["IMIPD_CONFIG"]) {
            assert!(help.contains(name), "{name} missing from `imipd --help`");
        }
    }

    /// The README names the states `jobs list` and `mail list` accept, as their help does.
    #[test]
    fn readme_and_help_agree_on_list_states() {
        let readme = include_str!("../../../README.md");
        for (group, states) in [
            ("jobs", "held|queued|running|done|dead"),
            ("mail", "queued|running|done|dead"),
        ] {
            let line = format!("imipd {group} list [--state {states}]");
            assert!(readme.contains(&line), "README lacks {line:?}");
            let mut cmd = Cli::command();
            let help = cmd
                .find_subcommand_mut(group)
                .and_then(|c| c.find_subcommand_mut("list"))
                .unwrap()
                .render_help()
                .to_string();
            let words = states.replace('|', ", ");
            let words = match words.rsplit_once(", ") {
                Some((head, last)) => format!("{head} or {last}"),
                None => words,
            };
            assert!(
                help.contains(&words),
                "`imipd {group} list --help` lacks {words:?}: {help}"
            );
        }
    }
}
