use crate::cli::ItipApply;
use anyhow::{Context, Result};
use imipd_calendar::{Change, Facts, Limits, Policy, apply};
use std::process::ExitCode;

/// `imipd itip apply`: the calendar core alone, on files.
pub fn apply_files(args: ItipApply) -> Result<ExitCode> {
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let message = read(&args.message)?;
    let stored = args.stored.as_deref().map(read).transpose()?;
    let facts = Facts {
        recipient: args.recipient.clone(),
        user_addresses: vec![args.recipient.clone()],
        sender: args.sender.clone(),
        authenticated: !args.unauthenticated,
        spam: args.spam,
    };
    let policy = Policy {
        allow_publish: args.allow_public,
        delete_cancelled: args.delete_cancelled,
        now: crate::now(),
        ..Policy::default()
    };
    let decision = apply(
        stored.as_deref(),
        &message,
        &facts,
        &policy,
        &Limits::default(),
    );
    eprintln!("outcome: {}", decision.outcome);
    match decision.change {
        Change::Put(ics) => print!("{ics}"),
        Change::None => {
            if let Some(stored) = stored {
                print!("{stored}");
            }
        }
        Change::Delete => eprintln!("result: the stored object is deleted"),
    }
    if let Some(response) = decision.response {
        eprintln!(
            "response: an iTIP message to send back ({} bytes):",
            response.len()
        );
        eprint!("{response}");
    }
    Ok(ExitCode::SUCCESS)
}
