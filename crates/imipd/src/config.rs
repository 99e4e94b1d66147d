//! Configuration: embedded defaults, then the TOML file, then environment variables.
//! Every setting has a default and one documented place (`examples/imipd.toml`).

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Holds the SQLite database, the Maildir tree and the spool.
    pub data_dir: PathBuf,
    /// Name used in the LMTP greeting and as the default trusted authserv-id.
    pub hostname: String,
    /// Authentication-Results headers are believed only from these authserv-ids.
    pub trusted_authserv_ids: Vec<String>,
    pub lmtp: Lmtp,
    pub http: Http,
    pub delivery: Delivery,
    pub limits: Limits,
    pub worker: Worker,
    pub smtp: Smtp,
    pub log: Log,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lmtp {
    #[serde(deserialize_with = "listen_address")]
    pub listen: SocketAddr,
    pub max_connections: usize,
    pub max_recipients: usize,
    pub idle_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    #[serde(deserialize_with = "listen_address")]
    pub listen: SocketAddr,
    /// The largest request body read (a calendar object, a REPORT); larger ones get 413.
    pub max_request_bytes: usize,
    /// PEM certificate chain (leaf first) and private key: with both, the listener speaks
    /// TLS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    Maildir,
    Lmtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    pub sink: SinkKind,
    /// Downstream LMTP server for `sink = "lmtp"`: `host:port` or a unix socket path.
    pub downstream: Option<String>,
    /// Where Maildirs live; default `<data_dir>/mail`.
    pub maildir_root: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub calendar_part_bytes: usize,
    pub mime_depth: usize,
    pub mime_parts: usize,
    /// Messages up to this size stay in memory while received; larger ones are spooled.
    pub spool_memory_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Worker {
    pub workers: usize,
    pub lease_secs: i64,
    pub max_attempts: u32,
    pub max_per_sender_per_hour: u64,
    /// Days finished jobs, sent mail and sync tombstones are kept.
    pub retention_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    None,
    Starttls,
    Implicit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Smtp {
    /// Outbound relay; without it, mail for users here is still delivered and the rest
    /// waits in the outbox.
    pub host: Option<String>,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    pub dkim_key: Option<PathBuf>,
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
    /// Seconds between delivery attempts to the relay; the last repeats until
    /// `max_attempts` is reached, after which the mail is dead (see `imipd jobs`).
    pub retry_secs: Vec<i64>,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// A tracing filter: `info`, `debug`, `imipd=debug,info` …
    pub level: String,
    pub format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        let hostname = system_hostname();
        Config {
            data_dir: PathBuf::from("./imipd-data"),
            trusted_authserv_ids: Vec::new(),
            hostname,
            lmtp: Lmtp::default(),
            http: Http::default(),
            delivery: Delivery::default(),
            limits: Limits::default(),
            worker: Worker::default(),
            smtp: Smtp::default(),
            log: Log::default(),
        }
    }
}

impl Default for Lmtp {
    fn default() -> Self {
        Lmtp {
            listen: SocketAddr::from(([127, 0, 0, 1], 2424)),
            max_connections: 256,
            max_recipients: 1000,
            idle_timeout_secs: 300,
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: SocketAddr::from(([127, 0, 0, 1], 8008)),
            max_request_bytes: 1024 * 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            sink: SinkKind::Maildir,
            downstream: None,
            maildir_root: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024 * 1024,
            calendar_part_bytes: 512 * 1024,
            mime_depth: 16,
            mime_parts: 256,
            spool_memory_bytes: 1024 * 1024,
        }
    }
}

impl Default for Worker {
    fn default() -> Self {
        Worker {
            workers: 2,
            lease_secs: 120,
            max_attempts: 8,
            max_per_sender_per_hour: 50,
            retention_days: 30,
        }
    }
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            host: None,
            port: 587,
            tls: TlsMode::Starttls,
            username: None,
            password: None,
            dkim_key: None,
            dkim_selector: None,
            dkim_domain: None,
            retry_secs: imipd_worker::Backoff::mail().delays,
            max_attempts: imipd_worker::Backoff::mail().max_attempts,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

impl Config {
    /// Loads the file (if given) and applies environment overrides from `env`.
    pub fn load(path: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("config file {}: {}", path.display(), e.to_string().trim())
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        // Unset means this host: the MTA in front of imipd usually stamps its own name.
        if config.trusted_authserv_ids.is_empty() {
            config.trusted_authserv_ids = vec![config.hostname.clone()];
        }
        config.check()?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        let addr = |name: &str, v: String| -> Result<SocketAddr> {
            parse_listen(&v).map_err(|e| anyhow::anyhow!("{name}: {e}"))
        };
        if let Some(v) = env("IMIPD_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = env("IMIPD_HOSTNAME") {
            self.hostname = v;
        }
        if let Some(v) = env("IMIPD_TRUSTED_AUTHSERV_IDS") {
            self.trusted_authserv_ids = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = env("IMIPD_LMTP_LISTEN") {
            self.lmtp.listen = addr("IMIPD_LMTP_LISTEN", v)?;
        }
        if let Some(v) = env("IMIPD_HTTP_LISTEN") {
            self.http.listen = addr("IMIPD_HTTP_LISTEN", v)?;
        }
        if let Some(v) = env("IMIPD_SINK") {
            self.delivery.sink = match v.as_str() {
                "maildir" => SinkKind::Maildir,
                "lmtp" => SinkKind::Lmtp,
                other => bail!("IMIPD_SINK={other:?}: expected maildir or lmtp"),
            };
        }
        if let Some(v) = env("IMIPD_DOWNSTREAM") {
            self.delivery.downstream = Some(v);
        }
        if let Some(v) = env("IMIPD_SMTP_HOST") {
            self.smtp.host = Some(v);
        }
        if let Some(v) = env("IMIPD_SMTP_PORT") {
            self.smtp.port = v
                .parse()
                .with_context(|| format!("IMIPD_SMTP_PORT={v:?} is not a port number"))?;
        }
        if let Some(v) = env("IMIPD_LOG") {
            self.log.level = v;
        }
        if let Some(v) = env("IMIPD_MAX_PER_SENDER_PER_HOUR") {
            self.worker.max_per_sender_per_hour = v.parse().with_context(|| {
                format!("IMIPD_MAX_PER_SENDER_PER_HOUR={v:?} is not a whole number")
            })?;
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        if self.delivery.sink == SinkKind::Lmtp && self.delivery.downstream.is_none() {
            bail!(
                "delivery.sink = \"lmtp\" needs delivery.downstream (e.g. \"127.0.0.1:24\" or \
                 \"/var/run/dovecot/lmtp\"), or IMIPD_DOWNSTREAM"
            );
        }
        match (&self.http.tls_cert, &self.http.tls_key) {
            (Some(_), None) => {
                bail!("http.tls_cert is set without http.tls_key: name both PEM files, or neither")
            }
            (None, Some(_)) => {
                bail!("http.tls_key is set without http.tls_cert: name both PEM files, or neither")
            }
            _ => {}
        }
        if self.limits.max_message_bytes < 1024 {
            bail!("limits.max_message_bytes must be at least 1024");
        }
        if self.smtp.retry_secs.is_empty() || self.smtp.retry_secs.iter().any(|s| *s < 1) {
            bail!("smtp.retry_secs must list at least one delay of 1 second or more");
        }
        if self.worker.workers == 0 {
            bail!("worker.workers must be at least 1");
        }
        // The per-sender limit counts the last hour's jobs, and a redelivered message is
        // recognised by its finished job.
        if self.worker.retention_days == 0 {
            bail!("worker.retention_days must be at least 1");
        }
        Ok(())
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("imipd.sqlite3")
    }

    pub fn maildir_root(&self) -> PathBuf {
        self.delivery
            .maildir_root
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mail"))
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    pub fn calendar_limits(&self) -> imipd_calendar::Limits {
        imipd_calendar::Limits {
            max_part_bytes: self.limits.calendar_part_bytes,
            ..imipd_calendar::Limits::default()
        }
    }

    /// What the delivery stage needs to know.
    pub fn delivery(&self) -> imipd_delivery::DeliveryConfig {
        imipd_delivery::DeliveryConfig {
            mime: imipd_message::MimeLimits {
                limits: self.calendar_limits(),
                max_mime_depth: self.limits.mime_depth,
                max_parts: self.limits.mime_parts,
            },
            limits: self.calendar_limits(),
            max_per_sender_per_hour: self.worker.max_per_sender_per_hour,
            trusted_authserv_ids: self.trusted_authserv_ids.clone(),
            default_script: crate::commands::default_script(),
            clock: crate::now,
        }
    }
}

/// A listening address: an IP address and a port. Host names are refused rather than
/// resolved, so the listener is bound to exactly the address the setting names ("localhost"
/// may mean ::1, 127.0.0.1 or both).
pub fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        let port = value
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| p.parse::<u16>().is_ok())
            .unwrap_or("2424");
        format!(
            "{value:?} is not an IP address and port: use an IP address such as \
             127.0.0.1:{port} or [::1]:{port} (host names are not resolved)"
        )
    })
}

fn listen_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let value = String::deserialize(d)?;
    parse_listen(&value).map_err(serde::de::Error::custom)
}

fn system_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(None, no_env).unwrap();
        assert_eq!(c.lmtp.listen.to_string(), "127.0.0.1:2424");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8008");
        assert_eq!(c.data_dir, PathBuf::from("./imipd-data"));
        assert_eq!(c.delivery.sink, SinkKind::Maildir);
        assert_eq!(c.trusted_authserv_ids, vec![c.hostname.clone()]);
    }

    #[test]
    fn the_example_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/imipd.toml");
        let c = Config::load(Some(&path), no_env).unwrap();
        assert_eq!(c.limits.calendar_part_bytes, 512 * 1024);
    }

    #[test]
    fn a_tls_certificate_needs_its_key_and_the_other_way_round() {
        let dir = tempfile::tempdir().unwrap();
        // (the [http] lines, the error's start when refused)
        let cases = [
            ("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"", None),
            ("", None),
            (
                "tls_cert = \"c.pem\"",
                Some("http.tls_cert is set without http.tls_key"),
            ),
            (
                "tls_key = \"k.pem\"",
                Some("http.tls_key is set without http.tls_cert"),
            ),
        ];
        for (lines, refused) in cases {
            let path = dir.path().join("imipd.toml");
            std::fs::write(&path, format!("[http]\n{lines}\n")).unwrap();
            let got = Config::load(Some(&path), no_env);
            match refused {
                None => assert!(got.is_ok(), "{lines}: {:?}", got.err()),
                Some(says) => {
                    let e = format!("{:#}", got.err().unwrap());
                    assert!(e.contains(says), "{lines}: {e}");
                }
            }
        }
    }

    #[test]
    fn env_overrides_the_file_and_bad_values_say_what_is_wrong() {
        let env = |k: &str| match k {
            "IMIPD_LMTP_LISTEN" => Some("127.0.0.1:9999".to_string()),
            "IMIPD_TRUSTED_AUTHSERV_IDS" => Some("mx1.example.org, mx2.example.org".to_string()),
            _ => None,
        };
        let c = Config::load(None, env).unwrap();
        assert_eq!(c.lmtp.listen.port(), 9999);
        assert_eq!(
            c.trusted_authserv_ids,
            ["mx1.example.org", "mx2.example.org"]
        );
        let err = Config::load(None, |k| (k == "IMIPD_SINK").then(|| "lmtp".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("delivery.downstream"), "{err}");
        let err = Config::load(None, |k| {
            (k == "IMIPD_LMTP_LISTEN").then(|| "nope".to_string())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("IMIPD_LMTP_LISTEN"), "{err}");
    }

    #[test]
    fn listen_addresses_must_be_ip_addresses_and_say_so() {
        // (setting in the file, expected listen address or words of the error)
        let cases = [
            ("127.0.0.1:12424", Ok("127.0.0.1:12424")),
            ("[::1]:24", Ok("[::1]:24")),
            (
                "localhost:12424",
                Err("use an IP address such as 127.0.0.1:12424"),
            ),
            (
                "mx.example.org:24",
                Err("use an IP address such as 127.0.0.1:24"),
            ),
            ("127.0.0.1", Err("use an IP address such as 127.0.0.1:2424")),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        for (value, expected) in cases {
            std::fs::write(&path, format!("[lmtp]\nlisten = {value:?}\n")).unwrap();
            let got = Config::load(Some(&path), no_env).map(|c| c.lmtp.listen.to_string());
            match (expected, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, want, "{value}"),
                (Err(words), Err(e)) => {
                    let e = format!("{e:#}");
                    assert!(e.contains(words) && e.contains("listen"), "{value}: {e}");
                }
                (expected, got) => panic!("{value}: expected {expected:?}, got {got:?}"),
            }
            let env = |k: &str| (k == "IMIPD_LMTP_LISTEN").then(|| value.to_string());
            let from_env = Config::load(None, env).map(|c| c.lmtp.listen.to_string());
            assert_eq!(
                from_env.map_err(|e| e.to_string().contains("IMIPD_LMTP_LISTEN")),
                expected.map(str::to_string).map_err(|_| true),
                "IMIPD_LMTP_LISTEN={value}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[lmtp]\nlisten = \"127.0.0.1:1\"\nmax_conections = 3\n",
        )
        .unwrap();
        let err = format!("{:#}", Config::load(Some(&path), no_env).unwrap_err());
        assert!(err.contains("max_conections"), "{err}");
    }
}
