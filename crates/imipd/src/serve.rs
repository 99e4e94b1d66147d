//! `imipd serve`: the LMTP listener and the update stage, until SIGTERM or Ctrl-C.

use crate::commands::open_store;
use crate::config::{Config, SinkKind, TlsMode};
use crate::data_lock::DataDirLock;
use anyhow::{Context, Result, bail};
use imipd_delivery::downstream::LmtpClient;
use imipd_delivery::maildir::Maildir;
use imipd_delivery::{Pipeline, Sink};
use imipd_lmtp::server::{ServerConfig, serve};
use imipd_scheduling::ApplyConfig;
use imipd_store::{Node, Store};
use imipd_worker::outbound::{Dkim, LocalDelivery, OutboxConfig, RelayConfig, Tls, run_outbox};
use imipd_worker::{Backoff, HousekeepingConfig, WorkerConfig, run_housekeeping, run_worker};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub fn run(config: Config) -> Result<ExitCode> {
    // A client or the log reader hanging up must cost a write, never the process.
    crate::set_sigpipe(libc::SIG_IGN);
    crate::logging::init(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("imipd")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve_all(config))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve_all(config: Config) -> Result<()> {
    check_writable(&config)?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let store: Arc<dyn Store> = Arc::new(open_store(&config)?);
    for dir in [config.maildir_root(), config.spool_dir()] {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let sink = match config.delivery.sink {
        SinkKind::Maildir => Sink::Maildir(Maildir::new(config.maildir_root())),
        SinkKind::Lmtp => {
            let target = config.delivery.downstream.clone().unwrap_or_default();
            Sink::Lmtp(LmtpClient::new(&target, &config.hostname).with_context(|| {
                format!("delivery.downstream {target:?} is not host:port or a socket path")
            })?)
        }
    };
    let listener = TcpListener::bind(config.lmtp.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for LMTP on {} (in use? set lmtp.listen or IMIPD_LMTP_LISTEN)",
                config.lmtp.listen
            )
        })?;
    let http = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for HTTP on {} (in use? set http.listen or IMIPD_HTTP_LISTEN)",
                config.http.listen
            )
        })?;
    let tls = match (&config.http.tls_cert, &config.http.tls_key) {
        (Some(cert), Some(key)) => {
            let certificate = crate::http::tls::Certificate::load(cert, key)?;
            let acceptor = crate::http::tls::acceptor(&certificate)?;
            tokio::spawn(renew_certificate(certificate));
            Some(acceptor)
        }
        _ => None,
    };
    let dkim = load_dkim(&config)?.map(Arc::new);
    if let (Some(_), Some(selector)) = (&dkim, &config.smtp.dkim_selector) {
        info!("outgoing mail is DKIM-signed with selector {selector}");
    }
    let machine = crate::nodes::Machine::here();
    let node = Node::this_process(
        &config.hostname,
        machine.as_ref().and_then(|m| m.process(std::process::id())),
    );
    let workers: Vec<String> = (1..=config.worker.workers.max(1))
        .map(|i| node.worker(&format!("worker-{i}")))
        .chain([node.worker("outbox")])
        .collect();
    store
        .register_node(&node, &workers)
        .context("cannot register this process in the database")?;
    let housekeeping = HousekeepingConfig::new(
        node.clone(),
        workers,
        i64::from(config.worker.retention_days) * 86_400,
    );
    crate::nodes::release_dead(
        &*store,
        &node,
        machine.as_ref(),
        housekeeping.dead_after_secs,
    );
    let (stop, stopped) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let outbox_wake = Arc::new(Notify::new());
    let mut background = start_workers(&config, &node, &store, &wake, &stopped);
    let pipeline = Arc::new(Pipeline::new(
        config.delivery(),
        store.clone(),
        sink,
        wake,
        outbox_wake.clone(),
    ));
    let local = crate::local_delivery::Local {
        pipeline: pipeline.clone(),
        authserv_id: config
            .trusted_authserv_ids
            .first()
            .cloned()
            .unwrap_or_else(|| config.hostname.clone()),
    };
    background.push(start_outbox(
        &config,
        &node,
        &store,
        &outbox_wake,
        &stopped,
        dkim,
        Arc::new(local),
    ));
    background.push(tokio::spawn(run_housekeeping(
        store.clone(),
        housekeeping,
        stopped.clone(),
    )));
    let open_files = raise_open_files_limit();
    if open_files < crate::http::lmtp_reserve(config.lmtp.max_connections) {
        warn!(
            "only {open_files} file descriptors (RLIMIT_NOFILE) for lmtp.max_connections = {}: \
             raise the limit (LimitNOFILE= in the systemd unit) or lower lmtp.max_connections",
            config.lmtp.max_connections
        );
    }
    let http_connections = crate::http::connection_cap(open_files, config.lmtp.max_connections);
    let http_addr = http.local_addr()?;
    info!(
        "http listening on {http_addr}{}",
        if tls.is_some() { " (TLS)" } else { "" }
    );
    if let Some(warning) = crate::http::tls::plain_warning(http_addr, tls.is_some()) {
        warn!("{warning}");
    }
    let dav = imipd_dav_http::Config {
        max_request_bytes: config.http.max_request_bytes,
    };
    tokio::spawn(crate::http::serve(
        http,
        store.clone(),
        http_connections,
        dav,
        tls,
    ));
    let server_config = ServerConfig {
        hostname: config.hostname.clone(),
        max_message_size: config.limits.max_message_bytes,
        max_recipients: config.lmtp.max_recipients,
        max_connections: config.lmtp.max_connections,
        idle_timeout: Duration::from_secs(config.lmtp.idle_timeout_secs),
        spool_dir: config.spool_dir(),
        spool_memory_threshold: config.limits.spool_memory_bytes,
    };
    info!(
        "lmtp listening on {} (data {}, sink {:?})",
        listener.local_addr()?,
        config.data_dir.display(),
        config.delivery.sink
    );
    serve(listener, server_config, pipeline, shutdown_signal()).await;
    let _ = stop.send(true);
    for task in background {
        // A job in progress finishes or is left to its lease; either way nothing is lost.
        let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
    }
    // Leases still held (a job cut off) are released by the next start.
    if let Err(e) = store.unregister_node(&node.id) {
        warn!("cannot remove this process from the database's node list: {e}");
    }
    info!("stopped");
    Ok(())
}

/// Refuses to serve on a database this user cannot write (typically created by root with
/// `imipd user add` before the first start as the service user): otherwise every delivery
/// would log "readonly database" and answer with an error outcome. SQLite needs the file,
/// its -wal and -shm files and the directory (it creates them) writable.
fn check_writable(config: &Config) -> Result<()> {
    let db = config.database_path();
    let mut paths = vec![config.data_dir.clone(), db.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        paths.push(name.into());
    }
    for path in paths.iter().filter(|p| p.exists()) {
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .context("a data path contains a NUL byte")?;
        // SAFETY: access(2) reads the NUL-terminated path and nothing else.
        if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } != 0 {
            let error = std::io::Error::last_os_error();
            // SAFETY: geteuid has no preconditions.
            let uid = unsafe { libc::geteuid() };
            bail!(
                "{} is not writable by this process (uid {uid}): {error}. The database and \
                 everything in {} must belong to the user imipd runs as: \
                 `chown -R <that user>: {}`, and run imipd's commands as that user \
                 (e.g. `runuser -u imipd -- imipd …`)",
                path.display(),
                config.data_dir.display(),
                config.data_dir.display()
            );
        }
    }
    Ok(())
}

/// Raises the soft descriptor limit to the hard one (systemd's default soft limit is 1,024,
/// the hard one far higher); returns the limit now in force.
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write only the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// The update stage: `worker.workers` loops, each with its own lease identity.
fn start_workers(
    config: &Config,
    node: &Node,
    store: &Arc<dyn Store>,
    wake: &Arc<Notify>,
    stopped: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (1..=config.worker.workers.max(1))
        .map(|i| {
            let cfg = WorkerConfig {
                // Unique per process: a restarted imipd must not mistake a dead one's
                // leases for its own.
                worker_id: node.worker(&format!("worker-{i}")),
                lease_secs: config.worker.lease_secs,
                backoff: Backoff {
                    max_attempts: config.worker.max_attempts,
                    ..Backoff::jobs()
                },
                apply: ApplyConfig {
                    max_per_sender_per_hour: config.worker.max_per_sender_per_hour,
                    limits: config.calendar_limits(),
                },
                ..WorkerConfig::default()
            };
            tokio::spawn(run_worker(
                store.clone(),
                cfg,
                wake.clone(),
                stopped.clone(),
            ))
        })
        .collect()
}

/// The outbox sender: mail for users here is delivered here; without a relay, mail for
/// others waits in the outbox.
fn start_outbox(
    config: &Config,
    node: &Node,
    store: &Arc<dyn Store>,
    wake: &Arc<Notify>,
    stopped: &watch::Receiver<bool>,
    dkim: Option<Arc<Dkim>>,
    local: Arc<dyn LocalDelivery>,
) -> JoinHandle<()> {
    let relay = config.smtp.host.clone().map(|host| RelayConfig {
        host,
        port: config.smtp.port,
        tls: match config.smtp.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => Tls::StartTls,
            TlsMode::Implicit => Tls::Implicit,
        },
        username: config.smtp.username.clone(),
        password: config.smtp.password.clone(),
        timeout: Duration::from_secs(60),
        hostname: config.hostname.clone(),
    });
    let cfg = OutboxConfig {
        worker_id: node.worker("outbox"),
        backoff: Backoff {
            delays: config.smtp.retry_secs.clone(),
            max_attempts: config.smtp.max_attempts,
        },
        dkim,
        local: Some(local),
        ..OutboxConfig::default()
    };
    tokio::spawn(run_outbox(
        store.clone(),
        relay,
        cfg,
        wake.clone(),
        stopped.clone(),
    ))
}

/// The DKIM key from the config, when one is set; a half-set key is an error.
pub fn load_dkim(config: &Config) -> Result<Option<Dkim>> {
    let s = &config.smtp;
    match (&s.dkim_key, &s.dkim_selector, &s.dkim_domain) {
        (None, None, None) => Ok(None),
        (Some(key), Some(selector), Some(domain)) => Ok(Some(
            Dkim::load(key, selector, domain)
                .with_context(|| format!("smtp.dkim_key {}", key.display()))?,
        )),
        _ => bail!(
            "smtp.dkim_key, smtp.dkim_selector and smtp.dkim_domain go together: set all three or none"
        ),
    }
}

/// Reads the TLS certificate again on SIGHUP (a renewal's deploy hook) and whenever its
/// files change, so a renewed certificate is served without a restart.
async fn renew_certificate(certificate: Arc<crate::http::tls::Certificate>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(
                "no SIGHUP handler ({e}): the TLS certificate is read again only when its files change"
            );
            None
        }
    };
    let mut every = tokio::time::interval(crate::http::tls::CHECK_EVERY);
    every.tick().await;
    loop {
        let force = tokio::select! {
            Some(()) = async { match &mut hangup { Some(h) => h.recv().await, None => None } } => true,
            _ = every.tick() => false,
        };
        let c = certificate.clone();
        match tokio::task::spawn_blocking(move || c.refresh(force)).await {
            Ok(Ok(true)) => info!(
                "http: TLS certificate read again from {}",
                certificate.cert_path().display()
            ),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                warn!("http: TLS certificate not renewed, the one read before is served: {e:#}")
            }
            Err(e) => warn!("http: TLS certificate check failed: {e}"),
        }
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    info!("shutting down: finishing transactions in progress");
}
