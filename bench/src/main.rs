//! `imipd-bench`: pushes a corpus of messages over LMTP on several connections and reports
//! messages per second and per-message latency. Works against any LMTP server, so the same
//! command measures imipd and its peers (Dovecot LMTP, Cyrus).

mod corpus;
mod health;
mod lmtp;

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// LMTP server address.
    #[arg(long, default_value = "127.0.0.1:2424")]
    server: SocketAddr,
    /// Recipient address (must exist on the server).
    #[arg(long, default_value = "bob@example.org")]
    rcpt: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Messages in total.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// plain-2k, plain-100k, invite, invite-100k or mixed (half plain-2k, half invite).
    #[arg(long, default_value = "mixed")]
    corpus: String,
    /// Stamp `Authentication-Results: ID; dmarc=pass` on every message, as the trusted MTA in
    /// front of the server would (imipd processes invitations only from authenticated senders).
    #[arg(long)]
    authserv_id: Option<String>,
    /// After sending, poll this imipd health URL (http://127.0.0.1:8008/healthz) until the
    /// update queue is empty, and report calendar jobs applied per second end to end.
    #[arg(long)]
    until_applied: Option<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let corpus = corpus::build(&args.corpus, args.authserv_id.as_deref())?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if args.connections == 0 || args.messages == 0 {
        bail!("--connections and --messages must be at least 1");
    }
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.messages)));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (next, latencies, failures, corpus) = (
                next.clone(),
                latencies.clone(),
                failures.clone(),
                corpus.clone(),
            );
            let (server, rcpt, total) = (args.server, args.rcpt.clone(), args.messages);
            std::thread::spawn(move || -> Result<()> {
                let mut conn = lmtp::Conn::open(server)
                    .with_context(|| format!("cannot connect to {server}"))?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return conn.quit();
                    }
                    let message = corpus::instantiate(&corpus[i % corpus.len()], run, i);
                    let t = Instant::now();
                    let ok = conn.send("bench@example.net", &rcpt, &message)?;
                    let elapsed = t.elapsed();
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    latencies
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .push(elapsed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a connection thread panicked"))??;
    }
    let wall = started.elapsed();
    let mut lat = latencies
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "corpus={} messages={} connections={} failures={} wall={:.2}s rate={:.0} msgs/s \
         latency p50={:.2}ms p90={:.2}ms p99={:.2}ms",
        args.corpus,
        args.messages,
        args.connections,
        failures.load(Ordering::Relaxed),
        wall.as_secs_f64(),
        args.messages as f64 / wall.as_secs_f64(),
        ms(pct(0.5)),
        ms(pct(0.9)),
        ms(pct(0.99)),
    );
    let invites = corpus
        .iter()
        .filter(|m| m.windows(8).any(|w| w == b"UIDTOKEN"))
        .count();
    if let Some(url) = args.until_applied.as_ref().filter(|_| invites > 0) {
        health::wait_until_applied(url)?;
        let wall = started.elapsed();
        let jobs = args.messages * invites / corpus.len();
        println!(
            "end to end: {jobs} invitations applied in {:.2}s = {:.0} jobs/s (LMTP in -> calendar written)",
            wall.as_secs_f64(),
            jobs as f64 / wall.as_secs_f64()
        );
    }
    Ok(())
}
