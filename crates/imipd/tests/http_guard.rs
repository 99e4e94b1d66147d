//! The HTTP side under attack, on the real binary: half-sent requests by the thousand, and
//! password guessing. Mail keeps flowing and the server comes back by itself.

mod common;

use common::{Lmtp, bin, must, wait_for_listen};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    lmtp: SocketAddr,
    http: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `imipd serve` with at most `open_files` descriptors, soft and hard, as a small systemd
/// unit or container would give it.
fn start(data: &Path, open_files: u64) -> Server {
    let log = data.join("serve.log");
    let mut command = Command::new(bin());
    command
        .arg("serve")
        .env("IMIPD_DATA_DIR", data)
        .env("IMIPD_LMTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HTTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HOSTNAME", "mx.test")
        .env("IMIPD_LOG", "info")
        .env_remove("IMIPD_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: open_files,
                rlim_max: open_files,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().expect("spawn imipd serve");
    let lmtp = wait_for_listen(&log, "lmtp listening on");
    let http = wait_for_listen(&log, "http listening on");
    Server {
        child,
        lmtp,
        http,
        log,
    }
}

/// This test process needs more than a thousand descriptors of its own.
fn raise_own_limit(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        assert!(
            limit.rlim_max >= needed,
            "this test needs {needed} descriptors, the hard limit is {}",
            limit.rlim_max
        );
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

/// One request on a new connection: (status, header section); status 0 when no answer came.
fn get(addr: SocketAddr, path: &str, basic: Option<(&str, &str)>) -> (u16, String) {
    use base64::Engine;
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = basic
        .map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Authorization: Basic {token}\r\n")
        })
        .unwrap_or_default();
    // A server over its connection cap may answer and close before the request is in.
    let _ = write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    );
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

fn deliver_ok(server: &Server, n: usize, data: &Path) {
    let mut client = Lmtp::connect(server.lmtp);
    let message = format!("Subject: during the flood {n}\r\n\r\nhi\r\n");
    let (_, replies) = client.deliver(
        "alice@example.org",
        &["bob@example.org"],
        message.as_bytes(),
    );
    assert!(
        replies.len() == 1 && replies[0].starts_with("250 "),
        "delivery {n} during the flood: {replies:?}"
    );
    client.quit();
    let stored = common::messages(&data.join("mail/bob@example.org/Maildir"), "");
    assert!(
        stored
            .iter()
            .any(|m| m.contains(&format!("during the flood {n}"))),
        "message {n} not stored"
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn half_sent_requests_by_the_thousand_do_not_stop_mail() {
    const HALF_SENT: usize = 1010;
    raise_own_limit(HALF_SENT as u64 + 200);
    let dir = tempfile::tempdir().unwrap();
    must(dir.path(), &["user", "add", "bob@example.org"]);
    let mut server = start(dir.path(), 1024);
    let mut held = Vec::with_capacity(HALF_SENT);
    for _ in 0..HALF_SENT {
        let Ok(mut conn) = TcpStream::connect_timeout(&server.http, Duration::from_secs(5)) else {
            continue;
        };
        // A request line and one header, never the blank line that ends them.
        let _ = conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
        held.push(conn);
    }
    for n in 0..3 {
        deliver_ok(&server, n, dir.path());
    }
    // Over the cap, connections were refused at once rather than kept.
    std::thread::sleep(Duration::from_secs(1));
    let refused = held
        .iter()
        .filter(|conn| {
            conn.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 64];
            let read = (&mut &**conn).read(&mut buf);
            !matches!(read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count();
    assert!(
        refused >= HALF_SENT - 512,
        "{refused} of {HALF_SENT} half-sent connections refused: the server holds at most \
         half its 1,024 descriptors for HTTP"
    );
    // While those are still open, the slots come back as their header time runs out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, head) = get(server.http, "/healthz", None);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "HTTP did not recover: last answer {head:?}; log:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    deliver_ok(&server, 3, dir.path());
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "imipd serve exited"
    );
    drop(held);
}

#[test]
fn password_guessing_is_limited_and_costs_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let guessed: Vec<String> = (0..8).map(|i| format!("u{i}@example.org")).collect();
    let others = [
        "bob@example.org".to_string(),
        "carol@example.org".to_string(),
    ];
    for user in guessed.iter().chain(&others) {
        let mut add = Command::new(bin())
            .args(["user", "add", user, "--password-stdin"])
            .env("IMIPD_DATA_DIR", dir.path())
            .env_remove("IMIPD_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        add.stdin.take().unwrap().write_all(b"right\n").unwrap();
        assert!(add.wait().unwrap().success());
    }
    let server = start(dir.path(), 4096);
    let before = rss_kib(server.child.id());
    // Two rounds of sixteen wrong passwords at once, four per user, all under the limits:
    // each costs an Argon2 check of 19 MiB. (Freed 19 MiB blocks raise glibc's mmap
    // threshold, so from the second round on, memory allocated per check stays with the
    // allocator.) Half the CPUs' worth run at once, in memory kept for reuse.
    for round in 0..2 {
        let guessers: Vec<_> = (0..16)
            .map(|i| {
                let (http, user) = (server.http, guessed[round * 4 + i % 4].clone());
                std::thread::spawn(move || get(http, "/events", Some((&user, "wrong"))).0)
            })
            .collect();
        let answers: Vec<u16> = guessers.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            answers.iter().all(|&s| s == 401),
            "round {round}: {answers:?}"
        );
    }
    let checks_at_once = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
    let after = rss_kib(server.child.id());
    let bound = before + checks_at_once as u64 * 20 * 1024 + 48 * 1024;
    assert!(
        after < bound,
        "RSS grew from {before} KiB to {after} KiB after 32 password checks, 16 at a time \
         (expected under {bound} KiB: {checks_at_once} check(s) at once)"
    );
    // (login, password, expected status) in order, all from one client address.
    let cases: Vec<(&str, &str, u16)> = [
        vec![("bob@example.org", "right", 200)],
        vec![("bob@example.org", "wrong", 401); 10],
        vec![
            ("bob@example.org", "wrong", 429),
            // The right password does not get through a locked address either: a guesser
            // must not learn that it was right.
            ("bob@example.org", "right", 429),
            ("BOB@example.org", "right", 429),
            ("carol@example.org", "right", 200),
            ("nobody@example.org", "right", 401),
        ],
    ]
    .concat();
    for (i, (login, password, expected)) in cases.into_iter().enumerate() {
        // A 200 is the push stream, which stays open: `get` reads its header only.
        let (status, head) = get(server.http, "/events", Some((login, password)));
        assert_eq!(
            status, expected,
            "attempt {i}: {login} / {password}: {head}"
        );
        if status == 429 {
            assert!(
                head.to_ascii_lowercase().contains("retry-after: "),
                "attempt {i}: {head}"
            );
        }
    }
}

/// `imipd user ARGS...` with `password` on standard input.
fn user_command(data: &Path, args: &[&str], password: &str) {
    let mut command = Command::new(bin())
        .arg("user")
        .args(args)
        .arg("--password-stdin")
        .env("IMIPD_DATA_DIR", data)
        .env_remove("IMIPD_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(command.stdin.take().unwrap(), "{password}").unwrap();
    assert!(command.wait().unwrap().success(), "imipd user {args:?}");
}

#[test]
fn a_password_changed_or_a_user_deleted_while_serving_stops_the_old_sign_in_at_once() {
    let dir = tempfile::tempdir().unwrap();
    user_command(dir.path(), &["add", "bob@example.org"], "old");
    let server = start(dir.path(), 4096);
    // The second and third sign-ins come from the cache of verified passwords.
    for attempt in 0..3 {
        let (status, head) = get(server.http, "/events", Some(("bob@example.org", "old")));
        assert_eq!(status, 200, "attempt {attempt}: {head}");
    }
    user_command(dir.path(), &["passwd", "bob@example.org"], "new");
    // (password, expected status) in order, right after the change in another process
    let cases = [("old", 401), ("new", 200), ("new", 200), ("old", 401)];
    for (password, expected) in cases {
        let (status, head) = get(server.http, "/events", Some(("bob@example.org", password)));
        assert_eq!(status, expected, "{password}: {head}");
    }
    must(dir.path(), &["user", "del", "bob@example.org"]);
    let (status, head) = get(server.http, "/events", Some(("bob@example.org", "new")));
    assert_eq!(status, 401, "after the user was deleted: {head}");
}
