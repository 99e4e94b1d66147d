//! A log stream that cannot be written (stderr a closed pipe, a full disk) costs log lines,
//! never the server: the real binary keeps storing mail and answering 250.

mod common;

use common::{bin, must};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn start(data: &Path, stderr: Stdio) -> (Child, SocketAddr, SocketAddr) {
    let (lmtp, http) = (free_port(), free_port());
    let child = Command::new(bin())
        .arg("serve")
        .env("IMIPD_DATA_DIR", data)
        .env("IMIPD_LMTP_LISTEN", lmtp.to_string())
        .env("IMIPD_HTTP_LISTEN", http.to_string())
        .env("IMIPD_HOSTNAME", "mx.test")
        .env("IMIPD_LOG", "debug")
        .env_remove("IMIPD_CONFIG")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn imipd serve");
    (child, lmtp, http)
}

/// Waits until `addr` accepts, failing at once if the server exited.
fn wait_listening(child: &mut Child, addr: SocketAddr, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{case}: imipd serve exited with {status} before listening");
        }
        assert!(Instant::now() < deadline, "{case}: not listening on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    response
}

/// Opens what the server's stderr will be.
type OpenStderr = fn() -> Stdio;

#[test]
fn a_failing_log_stream_never_stops_delivery() {
    // (case, what stderr is)
    let cases: [(&str, OpenStderr); 2] = [
        ("stderr a closed pipe", || {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            writer.into()
        }),
        ("stderr /dev/full", || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
                .into()
        }),
    ];
    for (case, stderr) in cases {
        let dir = tempfile::tempdir().unwrap();
        must(dir.path(), &["user", "add", "bob@example.org"]);
        let (mut child, lmtp, http) = start(dir.path(), stderr());
        wait_listening(&mut child, lmtp, case);
        for n in 1..=2 {
            let mut client = common::Lmtp::connect(lmtp);
            let message = format!("Subject: {n}\r\n\r\nhello\r\n");
            let (_, replies) = client.deliver(
                "alice@example.org",
                &["bob@example.org"],
                message.as_bytes(),
            );
            assert_eq!(replies.len(), 1, "{case}: {replies:?}");
            assert!(
                replies[0].starts_with("250 "),
                "{case}: message {n}: {replies:?}"
            );
            client.quit();
            let stored = common::messages(&dir.path().join("mail/bob@example.org/Maildir"), "");
            assert_eq!(stored.len(), n, "{case}: stored messages after {n}");
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{case}: imipd serve exited: {:?}",
            child.try_wait()
        );
        let health = get(http, "/healthz");
        assert!(health.starts_with("HTTP/1.1 200"), "{case}: {health}");
        let lost = health
            .split("\"log_lines_lost\":")
            .nth(1)
            .and_then(|rest| rest.split(['}', ',']).next())
            .and_then(|n| n.parse::<u64>().ok());
        assert!(
            lost.is_some_and(|n| n > 0),
            "{case}: the lost lines are counted: {health}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
