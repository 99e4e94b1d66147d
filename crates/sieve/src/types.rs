//! What the filter stage takes and returns.

use imipd_calendar::Outcome;

/// The SMTP envelope of the copy being filtered.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub from: &'a str,
    /// The recipient address.
    pub to: &'a str,
    /// The user the recipient belongs to.
    pub user: &'a str,
}

/// What the host knows about the message before filtering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub spam: bool,
    pub spam_score: Option<f64>,
    /// DMARC pass, as reported by a trusted authserv-id.
    pub authenticated: bool,
    /// The From address.
    pub sender: Option<String>,
    /// The ORGANIZER of the message's invitation, for `processcalendar :organizers`.
    pub organizer: Option<String>,
}

/// What a script may ask of the host while it runs. Answers must be quick. A host that
/// cannot tell whether an address is a contact says why (`Err`): the run then stops and
/// keeps the message in INBOX, and [`FilterResult::unavailable`] carries the reason.
pub trait Host {
    fn is_contact(&self, address: &str) -> Result<bool, String>;
    fn calendar_exists(&self, id: &str) -> bool;
    fn folder_exists(&self, name: &str) -> bool;
    /// Runs the calendar core synchronously for processcalendar: returns what the write
    /// WILL do.
    fn decide(&self, request: &CalendarRequest) -> Outcome;
}

/// The arguments of one `processcalendar`, after variable expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarRequest {
    pub allow_public: bool,
    pub addresses: Option<Vec<String>>,
    /// Only events organized by these addresses are processed. For `:organizers
    /// ":addrbook:Default"` this is the message's organizer when it is a contact, else
    /// empty (nobody qualifies).
    pub organizers: Option<Vec<String>>,
    /// `:organizers` named the contacts list (`organizers` was resolved through
    /// [`Host::is_contact`]).
    pub organizers_from_contacts: bool,
    pub updates_only: bool,
    pub calendar_id: Option<String>,
    pub delete_cancelled: bool,
}

/// A calendar action the script asked for, for the update stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarJob {
    /// From `processcalendar`.
    Process(CalendarRequest),
    /// From `notify :method "addcal"`.
    AddCal { calendar_id: Option<String> },
    /// From `notify :method "updatecal"`.
    UpdateCal,
}

/// One copy of the message to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `None` is INBOX.
    pub folder: Option<String>,
    pub flags: Vec<String>,
    /// Create the folder when missing (`fileinto :create`).
    pub create: bool,
}

impl Delivery {
    pub fn inbox() -> Self {
        Delivery {
            folder: None,
            flags: Vec::new(),
            create: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FilterResult {
    /// Empty: the message was discarded.
    pub deliveries: Vec<Delivery>,
    pub redirects: Vec<String>,
    pub calendar_jobs: Vec<CalendarJob>,
    /// The last processcalendar decision, for the X-Imipd-Cal-Outcome header.
    pub outcome: Option<Outcome>,
    /// Runtime errors; when there are any, the message goes to INBOX only (implicit keep)
    /// and no redirect is made. Calendar jobs already decided are kept, so the header
    /// stays true to what the calendar will do.
    pub errors: Vec<String>,
    /// The host could not answer a question the script asked (the contacts are
    /// unavailable): the script's decisions cannot be trusted, and none are acted on.
    pub unavailable: Option<String>,
}

impl FilterResult {
    pub(crate) fn implicit_keep() -> Self {
        FilterResult {
            deliveries: vec![Delivery::inbox()],
            ..FilterResult::default()
        }
    }
}
