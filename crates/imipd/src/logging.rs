//! Logs go to stderr (systemd's journal picks them up), one line per event.
//!
//! Logging must never take the server down. tracing-subscriber's fmt layer, as its builder
//! sets it up, reports a failed write with `eprintln!`, which panics when stderr itself is
//! what failed (a closed pipe, a full disk, `/dev/full`): a server could store a message and
//! die before its reply, and the MTA would deliver it again. So lines go through
//! [`LogStream`], which never fails: a line that cannot be written is counted and dropped,
//! and once writing works again one line says how many were lost. `/healthz` reports the
//! count as `log_lines_lost`.

use crate::config::{Config, LogFormat};
use anyhow::{Result, anyhow};
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Lines that could not be written since the start.
static LOST: AtomicU64 = AtomicU64::new(0);
/// Of those, the ones a later line has already told about.
static REPORTED: AtomicU64 = AtomicU64::new(0);

pub fn init(config: &Config) -> Result<()> {
    let filter = EnvFilter::try_new(&config.log.level).map_err(|e| {
        anyhow!(
            "log.level {:?} is not a valid filter ({e}); try \"info\" or \"debug\"",
            config.log.level
        )
    })?;
    let json = matches!(config.log.format, LogFormat::Json);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogStream { json })
        .log_internal_errors(false)
        // Colour codes only for a terminal: files and the journal get plain text.
        .with_ansi(io::stderr().is_terminal())
        .with_target(false);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow!("cannot set up logging: {e}"))
}

/// Log lines lost to write errors since the start.
pub fn lines_lost() -> u64 {
    LOST.load(Ordering::Relaxed)
}

/// Stderr for log lines; writing to it always succeeds, see the module docs.
#[derive(Clone, Copy)]
pub struct LogStream {
    json: bool,
}

impl<'a> MakeWriter<'a> for LogStream {
    type Writer = LogStream;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

impl Write for LogStream {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut stderr = io::stderr().lock();
        let lost = LOST.load(Ordering::Relaxed);
        let reported = REPORTED.load(Ordering::Relaxed);
        if lost > reported
            && stderr
                .write_all(self.lost_note(lost - reported).as_bytes())
                .is_ok()
        {
            REPORTED.fetch_add(lost - reported, Ordering::Relaxed);
        }
        if stderr.write_all(line).is_err() {
            LOST.fetch_add(1, Ordering::Relaxed);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Stderr is unbuffered; there is nothing to flush.
        Ok(())
    }
}

impl LogStream {
    fn lost_note(&self, lost: u64) -> String {
        let text = format!("{lost} log line(s) before this one could not be written to stderr");
        if self.json {
            format!(
                "{}\n",
                serde_json::json!({"level": "WARN", "fields": {"message": text}})
            )
        } else {
            format!("WARN {text}\n")
        }
    }
}
