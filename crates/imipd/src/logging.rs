use crate::config::{Config, LogFormat};
use anyhow::{Result, anyhow};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Logs go to stderr (systemd's journal picks them up), one line per event.
pub fn init(config: &Config) -> Result<()> {
    let filter = EnvFilter::try_new(&config.log.level).map_err(|e| {
        anyhow!(
            "log.level {:?} is not a valid filter ({e}); try \"info\" or \"debug\"",
            config.log.level
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: files and the journal get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let result = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| anyhow!("cannot set up logging: {e}"))
}
