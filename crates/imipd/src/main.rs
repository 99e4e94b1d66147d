//! The `imipd` binary: configuration, the command line, and the wiring of the pipeline
//! stages (lmtp → delivery: detect → filter → sink; worker → scheduling: update; outbox)
//! into one service.

mod cli;
mod commands;
mod config;
mod data_lock;
mod http;
mod local_delivery;
mod logging;
mod nodes;
mod serve;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A command whose output goes into `head` ends quietly, by SIGPIPE, as any Unix tool
    // does, instead of panicking in `println!`. `imipd serve` ignores the signal again.
    set_sigpipe(libc::SIG_DFL);
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "imipd: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Sets what SIGPIPE does: `libc::SIG_DFL` (end the process) or `libc::SIG_IGN` (a write
/// to a closed pipe or socket fails with EPIPE).
pub fn set_sigpipe(action: libc::sighandler_t) {
    // SAFETY: signal(2) with SIG_DFL or SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, action);
    }
}

/// Unix seconds now; the calendar core takes the clock as an argument.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
