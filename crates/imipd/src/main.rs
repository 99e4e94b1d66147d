//! The `imipd` binary: configuration, the command line, and the wiring of the pipeline
//! stages (lmtp → delivery: detect → filter → sink; worker → scheduling: update; outbox)
//! into one service.

mod cli;
mod commands;
mod config;
mod http;
mod logging;
mod serve;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("imipd: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Unix seconds now; the calendar core takes the clock as an argument.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
