//! What the delivery stage is told by the service that runs it.

use imipd_calendar::Limits;
use imipd_message::MimeLimits;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How much of a mail's MIME structure detection searches.
    pub mime: MimeLimits,
    /// Calendar limits for the filter's decisions and the queued jobs.
    pub limits: Limits,
    /// Authentication-Results from these authserv-ids are believed.
    pub trusted_authserv_ids: Vec<String>,
    /// The script of users who never set preferences or rules: the defaults, generated.
    pub default_script: String,
    /// Calendar changes applied automatically from one sender to one user per hour
    /// (0: no limit), decided at delivery.
    pub max_per_sender_per_hour: u64,
    /// Unix seconds now; the calendar core and the redirect trace header take the clock
    /// as an argument.
    pub clock: fn() -> i64,
}
