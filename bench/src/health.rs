//! Waiting for imipd's update stage to drain, through its health endpoint.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Polls `url` (`http://host:port/healthz`) until no job is queued or running.
pub fn wait_until_applied(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs are supported"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut stream =
            TcpStream::connect(host).with_context(|| format!("cannot connect to {host}"))?;
        write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
        let mut body = String::new();
        stream.read_to_string(&mut body)?;
        if body.contains("\"jobs_queued\":0,\"jobs_running\":0,") {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the update queue did not drain within 10 minutes: {body}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
