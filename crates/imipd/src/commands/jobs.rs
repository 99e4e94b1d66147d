use super::require_user;
use crate::cli::{JobsCmd, MailCmd};
use anyhow::{Result, bail};
use imipd_scheduling::log::{by_hand, entries, summary};
use imipd_store::{JobFilter, JobState, Store};
use std::process::ExitCode;

pub fn run(store: &dyn Store, cmd: JobsCmd) -> Result<ExitCode> {
    match cmd {
        JobsCmd::List { state, user, limit } => {
            let state = parse_state(state.as_deref(), JOB_STATES)?;
            let user = user.map(|u| require_user(store, &u)).transpose()?;
            let jobs = store.jobs(&JobFilter {
                state,
                user: user.clone(),
                limit,
            })?;
            if jobs.is_empty() {
                match &user {
                    Some(user) => println!("no jobs for {user}"),
                    None => println!("no jobs"),
                }
            }
            for j in jobs {
                println!(
                    "{:>6}  {:<7}  {}  {}  uid={}  from={}  attempts={}  {}",
                    j.id,
                    j.state.as_str(),
                    queue_id(&j.queue_id),
                    j.user,
                    j.uid,
                    j.sender,
                    j.attempts,
                    summary(&j)
                );
            }
        }
        JobsCmd::Show { id } => {
            let Some(j) = store.job(id)? else {
                bail!("no job {id} (see `imipd jobs list`)");
            };
            println!("id:         {}", j.id);
            println!("queue id:   {}", queue_id(&j.queue_id));
            println!("state:      {}", j.state.as_str());
            println!("user:       {}", j.user);
            println!("uid:        {}", j.uid);
            println!("sender:     {}", j.sender);
            println!("attempts:   {}", j.attempts);
            println!("created:    {}", j.created);
            println!("updated:    {}", j.updated);
            println!("not before: {}", j.not_before);
            println!("key:        {}", j.idem_key);
            println!("spec:       {}", j.spec);
            let (decided, executed) = entries(&j);
            println!("decided:    {}", decided.as_deref().unwrap_or("-"));
            match executed {
                Some(Ok(e)) => {
                    println!("result:     {}", e.outcome);
                    if let Some(why) = &e.redecided {
                        println!("            decided again: {why}");
                    }
                }
                Some(Err(e)) => println!("result:     {e}"),
                None => println!("result:     -"),
            }
            if let Some((at, entry)) = by_hand(&j) {
                let at = at.map_or_else(|| "-".to_string(), |t| t.to_string());
                println!("by hand:    {at}  {entry}");
            }
            println!("last error: {}", j.last_error.as_deref().unwrap_or("-"));
            println!("message:    {} bytes", j.message.len());
        }
        JobsCmd::Retry { id } => {
            if !store.retry_job(id)? {
                bail!("job {id} is not dead or deferred (see `imipd jobs show {id}`)");
            }
            println!("job {id} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A queue id as listed: `-` for jobs and mail queued before queue ids were stored.
fn queue_id(id: &str) -> &str {
    if id.is_empty() { "-" } else { id }
}

/// The states a job can be in; outgoing mail is never held.
const JOB_STATES: &[JobState] = &[
    JobState::Held,
    JobState::Queued,
    JobState::Running,
    JobState::Done,
    JobState::Dead,
];
const MAIL_STATES: &[JobState] = &[
    JobState::Queued,
    JobState::Running,
    JobState::Done,
    JobState::Dead,
];

fn parse_state(state: Option<&str>, states: &[JobState]) -> Result<Option<JobState>> {
    let Some(s) = state else { return Ok(None) };
    match JobState::parse(s).filter(|parsed| states.contains(parsed)) {
        Some(parsed) => Ok(Some(parsed)),
        None => {
            let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
            bail!("unknown state {s:?}: use {}", names.join(", "))
        }
    }
}

/// `imipd mail …`: the outbox.
pub fn run_mail(store: &dyn Store, cmd: MailCmd) -> Result<ExitCode> {
    match cmd {
        MailCmd::List { state, limit } => {
            let state = parse_state(state.as_deref(), MAIL_STATES)?;
            let mails = store.mails(&JobFilter {
                state,
                user: None,
                limit,
            })?;
            if mails.is_empty() {
                println!("no outgoing mail");
            }
            for m in mails {
                println!(
                    "{:>6}  {:<7}  {}  {}  {}  to={}  attempts={}  {}",
                    m.id,
                    m.state.as_str(),
                    queue_id(&m.queue_id),
                    m.purpose,
                    m.mail_from,
                    m.rcpt_to.join(","),
                    m.attempts,
                    m.last_error.as_deref().unwrap_or("")
                );
            }
        }
        MailCmd::Retry { id } => {
            if !store.retry_mail(id)? {
                bail!("mail {id} is not dead or deferred (see `imipd mail list`)");
            }
            println!("mail {id} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}
