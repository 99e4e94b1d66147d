#![allow(dead_code, unused)]
pub use imipd_calendar::{Limits, Method, Outcome, peek};
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub recipient: String,
    pub user_addresses: Vec<String>,
    pub sender: String,
    pub authenticated: bool,
    pub spam: bool,
}
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow_publish: bool,
    pub allow_party_crashers: bool,
    pub delete_cancelled: bool,
    pub updates_only: bool,
    pub trusted_sent_by: Vec<String>,
    pub organizers: Option<Vec<String>>,
    pub now: i64,
}
#[derive(Debug)]
pub enum Change {
    None,
    Put(String),
    Delete,
}
#[derive(Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub method: Option<Method>,
    pub uid: Option<String>,
    pub change: Change,
    pub response: Option<String>,
}
pub fn apply(
    stored: Option<&str>,
    message: &str,
    facts: &Facts,
    policy: &Policy,
    limits: &Limits,
) -> Decision {
    todo!()
}
