//! Shared test harness: runs the real `imipd` binary on a temporary data directory and
//! talks LMTP to it over a real socket.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Imipd {
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub lmtp: SocketAddr,
    pub log: PathBuf,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_imipd")
}

/// Runs an `imipd` subcommand against `data_dir`; returns (status, stdout, stderr).
pub fn cli(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    cli_env(data_dir, args, &[])
}

pub fn cli_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("IMIPD_DATA_DIR", data_dir)
        .env_remove("IMIPD_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("run imipd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `imipd.toml` in `dir` with the outbox relaying to `port` on this machine (no
/// TLS, retries every second) and returns its path, for `IMIPD_CONFIG`.
pub fn relay_config(dir: &Path, port: u16) -> String {
    let config = dir.join("imipd.toml");
    std::fs::write(
        &config,
        format!("[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nretry_secs = [1]\n"),
    )
    .unwrap();
    config.to_str().unwrap().to_string()
}

pub fn must(data_dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cli(data_dir, args);
    assert_eq!(code, 0, "imipd {args:?} failed: {err}");
    out
}

impl Imipd {
    /// Starts `imipd serve` with users already created by `setup`.
    pub fn start(setup: impl FnOnce(&Path), env: &[(&str, &str)]) -> Imipd {
        let dir = tempfile::tempdir().unwrap();
        setup(dir.path());
        Self::start_in(dir, env)
    }

    pub fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Imipd {
        let log = dir.path().join("imipd.log");
        let child = serve(dir.path(), &log, env);
        let lmtp = wait_for_listen(&log, "lmtp listening on");
        Imipd {
            dir,
            child,
            lmtp,
            log,
        }
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn connect(&self) -> Lmtp {
        Lmtp::connect(self.lmtp)
    }

    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.path().join("mail").join(user).join("Maildir")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`, then `imipd serve` again on the same data directory.
    pub fn restart(&mut self, env: &[(&str, &str)]) {
        self.kill9();
        let log = self.dir.path().join("imipd.log");
        self.child = serve(self.dir.path(), &log, env);
        self.lmtp = wait_for_listen(&log, "lmtp listening on");
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, log: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(bin())
        .arg("serve")
        .env("IMIPD_DATA_DIR", dir)
        .env("IMIPD_LMTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HTTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HOSTNAME", "mx.test")
        .env("IMIPD_LOG", "info")
        .env_remove("IMIPD_CONFIG")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn imipd serve")
}

impl Drop for Imipd {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Waits for a log line `<marker> ADDR` and returns ADDR.
pub fn wait_for_listen(log: &Path, marker: &str) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(addr) = text.lines().find_map(|l| {
            let at = l.find(marker)?;
            l[at + marker.len()..]
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        }) {
            return addr;
        }
        assert!(
            Instant::now() < deadline,
            "imipd did not start listening; log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal LMTP client.
pub struct Lmtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Lmtp {
    pub fn connect(addr: SocketAddr) -> Lmtp {
        let stream = TcpStream::connect(addr).expect("connect to LMTP");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut c = Lmtp {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let greeting = c.reply();
        assert!(greeting.starts_with("220"), "greeting: {greeting}");
        c
    }

    /// Reads one (possibly multi-line) reply.
    pub fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read reply");
            assert!(n > 0, "connection closed; so far: {all:?}");
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    pub fn cmd(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// A whole transaction; returns the RCPT replies and the per-recipient DATA replies.
    pub fn deliver(
        &mut self,
        from: &str,
        rcpts: &[&str],
        message: &[u8],
    ) -> (Vec<String>, Vec<String>) {
        let lhlo = self.cmd("LHLO client.test");
        assert!(lhlo.starts_with("250"), "{lhlo}");
        let mail = self.cmd(&format!("MAIL FROM:<{from}>"));
        assert!(mail.starts_with("250"), "{mail}");
        let rcpt_replies: Vec<String> = rcpts
            .iter()
            .map(|r| self.cmd(&format!("RCPT TO:<{r}>")))
            .collect();
        let accepted = rcpt_replies.iter().filter(|r| r.starts_with("250")).count();
        if accepted == 0 {
            self.cmd("RSET");
            return (rcpt_replies, Vec::new());
        }
        let data = self.cmd("DATA");
        assert!(data.starts_with("354"), "{data}");
        self.writer.write_all(&dot_stuff(message)).unwrap();
        self.writer.write_all(b".\r\n").unwrap();
        let replies = (0..accepted).map(|_| self.reply()).collect();
        (rcpt_replies, replies)
    }

    pub fn quit(mut self) {
        let _ = self.cmd("QUIT");
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
    }
}

pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// All messages in a Maildir folder (`""` = INBOX), oldest first, as text.
pub fn messages(maildir: &Path, folder: &str) -> Vec<String> {
    let base = if folder.is_empty() {
        maildir.to_path_buf()
    } else {
        maildir.join(format!(".{folder}"))
    };
    let mut files: Vec<PathBuf> = ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(base.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect()
}

/// The values of header `name` in the top-level header section of `message`.
pub fn header_values(message: &str, name: &str) -> Vec<String> {
    let head = message
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .split("\n\n")
        .next()
        .unwrap_or("");
    let unfolded = head
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("\n ", " ");
    unfolded
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .collect()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Waits until no job is queued or running, then returns `jobs list`.
pub fn settled(server: &Imipd) -> String {
    eventually(20, "the queue to drain", || {
        let jobs = must(server.data(), &["jobs", "list"]);
        (!jobs.contains("queued") && !jobs.contains("running")).then_some(jobs)
    })
}

/// Whether a `jobs list` shows nothing that applied: no jobs, or only finished ones whose
/// outcome is `no_action` (invitations no rule processed are kept for the decision log).
pub fn nothing_applied(jobs: &str) -> bool {
    jobs.trim() == "no jobs"
        || jobs
            .lines()
            .all(|l| l.contains(" done ") && l.contains("no_action;"))
}

/// Polls `f` until it returns Some or `secs` pass.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
pub mod clients;
pub mod http;
pub mod itip;
pub mod mta;
