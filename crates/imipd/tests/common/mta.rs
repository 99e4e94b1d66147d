//! Real Postfix and Dovecot for end-to-end tests: each runs as its own instance (config,
//! queue, sockets and logs under a temporary directory, loopback only, ephemeral ports) on
//! the files in contrib/, and small SMTP and IMAP clients talk to them over sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A file of contrib/, as shipped.
pub fn contrib(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contrib")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// `text` with the site-specific values replaced; each must occur, so that the shipped
/// file cannot drift away from what the test runs.
pub fn subst(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in replacements {
        assert!(out.contains(from), "{from:?} not found in:\n{out}");
        out = out.replace(from, to);
    }
    out
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The system user imipd and Dovecot run as in the tests: (name, group, uid, gid).
pub fn system_user() -> (&'static str, &'static str, u32, u32) {
    ("nobody", "nogroup", 65534, 65534)
}

pub fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

pub fn wait_until(
    secs: u64,
    what: &str,
    mut ready: impl FnMut() -> bool,
    log: &dyn Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        assert!(Instant::now() < deadline, "{what}; log:\n{}", log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Postfix instance started with `postfix -c DIR start`.
pub struct Postfix {
    pub config_dir: PathBuf,
    pub smtp: SocketAddr,
    pub log: PathBuf,
}

impl Postfix {
    pub fn available() -> bool {
        Path::new("/usr/sbin/postfix").exists()
            && Path::new("/etc/postfix/master.cf.proto").exists()
    }

    /// `main` is appended to the instance's own settings (directories, log, loopback);
    /// `master` to Debian's master.cf with its smtp service on an ephemeral port;
    /// `files` are written into the config directory.
    pub fn start(dir: &Path, main: &str, master: &str, files: &[(&str, String)]) -> Postfix {
        let config_dir = dir.join("etc");
        let (queue, data, log) = (dir.join("queue"), dir.join("data"), dir.join("maillog"));
        for d in [&config_dir, &queue, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        let postfix_uid = uid_of("postfix");
        chown(&data, postfix_uid, postfix_uid);
        let port = free_port();
        let d = dir.display();
        let instance = format!(
            "# This test's own instance: nothing here touches the system's Postfix.\n\
             compatibility_level = 3.6\n\
             queue_directory = {d}/queue\ndata_directory = {d}/data\n\
             maillog_file = {d}/maillog\nmaillog_file_prefixes = {d}\n\
             inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n\
             # The test's SMTP client connects from 127.0.0.2: a host on the internet.\n\
             mynetworks = 127.0.0.1/32\n\
             myhostname = mx.test\nmydestination =\nalias_maps =\nalias_database =\n\
             # Address probes are answered in milliseconds here; poll for them sooner.\n\
             address_verify_poll_delay = 1s\n\n"
        );
        std::fs::write(config_dir.join("main.cf"), instance + main).unwrap();
        let proto = std::fs::read_to_string("/etc/postfix/master.cf.proto").unwrap();
        let services: String = proto
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if line.starts_with('#') || line.starts_with([' ', '\t']) || fields.len() < 8 {
                    return format!("{line}\n");
                }
                // Not chrooted: the instance's queue has no copy of /etc.
                let name = if fields[..2] == ["smtp", "inet"] {
                    format!("127.0.0.1:{port}")
                } else {
                    fields[0].to_string()
                };
                format!(
                    "{name} {} {} {} n {}\n",
                    fields[1],
                    fields[2],
                    fields[3],
                    fields[5..].join(" ")
                )
            })
            .collect();
        std::fs::write(config_dir.join("master.cf"), services + master).unwrap();
        for (name, text) in files {
            std::fs::write(config_dir.join(name), text).unwrap();
        }
        let postfix = Postfix {
            config_dir,
            smtp: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let out = postfix.command("start");
        assert!(
            out.status.success(),
            "postfix -c {} start: {}{}\nlog:\n{}",
            postfix.config_dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            postfix.log_text()
        );
        wait_until(
            30,
            "postfix did not listen",
            || TcpStream::connect(postfix.smtp).is_ok(),
            &|| postfix.log_text(),
        );
        postfix
    }

    fn command(&self, verb: &str) -> std::process::Output {
        Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(&self.config_dir)
            .arg(verb)
            .output()
            .expect("run postfix")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.command("stop");
    }
}

pub fn uid_of(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no system user {user}"))
}

/// A Dovecot instance in the foreground (`dovecot -F -c FILE`).
pub struct Dovecot {
    child: Child,
    port: u16,
    pub log: PathBuf,
}

impl Dovecot {
    pub fn available(services: &[&str]) -> bool {
        Command::new("dovecot")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
            && services
                .iter()
                .all(|s| Path::new("/usr/lib/dovecot").join(s).exists())
    }

    /// Starts Dovecot on `config` (with base_dir, state_dir and the log under `dir`
    /// appended) and waits for `port`.
    pub fn start(dir: &Path, config: &str, port: u16) -> Dovecot {
        let d = dir.display();
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let log = dir.join("dovecot.log");
        let conf = format!(
            "{config}\n# This test's own instance.\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n"
        );
        let path = dir.join("dovecot.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("dovecot.stderr")).unwrap())
            .spawn()
            .expect("start dovecot");
        let dovecot = Dovecot { child, port, log };
        let stderr = dir.join("dovecot.stderr");
        wait_until(
            20,
            &format!("dovecot did not listen on {port}"),
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            &|| {
                std::fs::read_to_string(&stderr).unwrap_or_default()
                    + &std::fs::read_to_string(&dovecot.log).unwrap_or_default()
            },
        );
        dovecot
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops Dovecot and waits until its port refuses connections (its children, which
    /// share the listening socket, follow the master within moments).
    pub fn stop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A line-based client for SMTP and IMAP.
pub struct Wire {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Wire {
    pub fn connect(addr: SocketAddr) -> Wire {
        Self::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    /// Connects from `source`, a loopback address other than the server's, so the server
    /// sees a client from elsewhere.
    pub fn connect_from(source: [u8; 4], addr: SocketAddr) -> Wire {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let stream = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::from((source, 0))).unwrap();
            socket.connect(addr).await.expect("connect")
        });
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        Self::from_stream(stream)
    }

    fn from_stream(stream: TcpStream) -> Wire {
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        Wire {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    pub fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read");
        assert!(n > 0, "connection closed");
        line
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// One SMTP reply, continuation lines included.
    pub fn smtp_reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let line = self.line();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    pub fn smtp(&mut self, command: &str) -> String {
        self.send(format!("{command}\r\n").as_bytes());
        self.smtp_reply()
    }

    /// Everything up to and including the tagged reply of `command`, literals read whole.
    pub fn imap(&mut self, tag: &str, command: &str) -> String {
        self.send(format!("{tag} {command}\r\n").as_bytes());
        let mut all = String::new();
        loop {
            let line = self.line();
            all.push_str(&line);
            if let Some(size) = literal_size(&line) {
                let mut literal = vec![0; size];
                self.reader.read_exact(&mut literal).unwrap();
                all.push_str(&String::from_utf8_lossy(&literal));
                continue;
            }
            if line.starts_with(&format!("{tag} ")) {
                return all;
            }
        }
    }
}

fn literal_size(line: &str) -> Option<usize> {
    let head = line.strip_suffix("}\r\n")?;
    head[head.rfind('{')? + 1..].parse().ok()
}

/// Sends one message over SMTP from 127.0.0.2; returns the reply to each RCPT and, when one
/// was accepted, the reply after the message. An empty message only asks the RCPTs.
pub fn smtp_send(
    server: SocketAddr,
    from: &str,
    rcpts: &[&str],
    message: &[u8],
) -> (Vec<String>, Option<String>) {
    let mut c = Wire::connect_from([127, 0, 0, 2], server);
    let greeting = c.smtp_reply();
    assert!(greeting.starts_with("220"), "{greeting}");
    assert!(c.smtp("EHLO client.example.net").starts_with("250"));
    let mail = c.smtp(&format!("MAIL FROM:<{from}>"));
    assert!(mail.starts_with("250"), "{mail}");
    let replies: Vec<String> = rcpts
        .iter()
        .map(|r| c.smtp(&format!("RCPT TO:<{r}>")))
        .collect();
    let mut queued = None;
    if !message.is_empty() && replies.iter().any(|r| r.starts_with("250")) {
        let data = c.smtp("DATA");
        assert!(data.starts_with("354"), "{data}");
        c.send(&super::dot_stuff(message));
        queued = Some(c.smtp("."));
    }
    let _ = c.smtp("QUIT");
    (replies, queued)
}
