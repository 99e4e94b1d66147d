//! `sink = "lmtp"`: imipd forwards to a downstream LMTP server and relays *its* replies.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A downstream LMTP peer: rejects `reject@` at RCPT, tempfails `busy@` after DATA,
/// accepts the rest and records what it received.
fn downstream() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut rcpts: Vec<String> = Vec::new();
                out.write_all(b"220 downstream LMTP ready\r\n").unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    let cmd = line.trim_end().to_string();
                    line.clear();
                    let upper = cmd.to_ascii_uppercase();
                    if upper.starts_with("LHLO") {
                        out.write_all(
                            b"250-downstream\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n",
                        )
                        .unwrap();
                    } else if upper.starts_with("MAIL")
                        || upper.starts_with("RSET")
                        || upper.starts_with("NOOP")
                    {
                        rcpts.clear();
                        out.write_all(b"250 2.1.0 ok\r\n").unwrap();
                    } else if upper.starts_with("RCPT") {
                        if upper.contains("REJECT@") {
                            out.write_all(b"550 5.1.1 no such mailbox downstream\r\n")
                                .unwrap();
                        } else {
                            rcpts.push(cmd.clone());
                            out.write_all(b"250 2.1.5 ok\r\n").unwrap();
                        }
                    } else if upper == "DATA" {
                        out.write_all(b"354 go ahead\r\n").unwrap();
                        let mut body = String::new();
                        loop {
                            let mut l = String::new();
                            if reader.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            body.push_str(&l);
                        }
                        for r in &rcpts {
                            if r.to_ascii_uppercase().contains("BUSY@") {
                                out.write_all(b"452 4.2.2 mailbox full, try later\r\n")
                                    .unwrap();
                            } else {
                                log.lock().unwrap().push(body.clone());
                                out.write_all(b"250 2.0.0 stored downstream\r\n").unwrap();
                            }
                        }
                    } else if upper == "QUIT" {
                        out.write_all(b"221 bye\r\n").unwrap();
                        return;
                    } else {
                        out.write_all(b"500 5.5.2 what\r\n").unwrap();
                    }
                }
            });
        }
    });
    (addr, received)
}

fn users(dir: &std::path::Path) {
    for u in ["bob@example.org", "reject@example.org", "busy@example.org"] {
        must(dir, &["user", "add", u]);
    }
}

#[test]
fn replies_are_the_downstream_servers_own() {
    let (addr, received) = downstream();
    let server = Imipd::start(
        users,
        &[
            ("IMIPD_SINK", "lmtp"),
            ("IMIPD_DOWNSTREAM", &addr.to_string()),
        ],
    );
    let mut lmtp = server.connect();
    let (rcpt, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org", "reject@example.org", "busy@example.org"],
        &fixture("outlook-request-base64.eml"),
    );
    assert!(
        rcpt.iter().all(|r| r.starts_with("250")),
        "imipd knows all three: {rcpt:?}"
    );
    assert_eq!(data.len(), 3);
    assert!(data[0].starts_with("250"), "{data:?}");
    assert!(
        data[1].starts_with("550"),
        "downstream rejected reject@: {data:?}"
    );
    assert!(
        data[2].starts_with("452"),
        "downstream tempfailed busy@: {data:?}"
    );
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "only bob's copy was stored downstream");
    assert_eq!(header_values(&got[0], "X-ME-Cal-Method"), ["request"]);
    assert!(
        messages(&server.maildir("bob@example.org"), "").is_empty(),
        "nothing in the local Maildir"
    );
}

#[test]
fn downstream_down_means_tempfail_never_250() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = Imipd::start(
        users,
        &[
            ("IMIPD_SINK", "lmtp"),
            ("IMIPD_DOWNSTREAM", &free.to_string()),
        ],
    );
    let mut lmtp = server.connect();
    let (_, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org"],
        &fixture("plain.eml"),
    );
    assert_eq!(data.len(), 1);
    assert!(
        data[0].starts_with("4"),
        "downstream down must be 4xx: {data:?}"
    );
}

/// Issue 14 item 16: Sieve queues a redirect while the message is being delivered; when the
/// downstream then tempfails, the MTA delivers the same message again, and again. The
/// redirect goes out once.
#[test]
fn a_redirect_is_queued_once_however_often_the_mta_retries() {
    let (addr, _) = downstream();
    let server = Imipd::start(
        |dir| {
            users(dir);
            let script = dir.join("redirect.sieve");
            std::fs::write(
                &script,
                "require \"copy\";\nredirect :copy \"carol@example.net\";\n",
            )
            .unwrap();
            must(
                dir,
                &["sieve", "set", "busy@example.org", script.to_str().unwrap()],
            );
        },
        &[
            ("IMIPD_SINK", "lmtp"),
            ("IMIPD_DOWNSTREAM", &addr.to_string()),
        ],
    );
    for attempt in 0..3 {
        let (_, data) = server.connect().deliver(
            "alice@example.org",
            &["busy@example.org"],
            &fixture("plain.eml"),
        );
        assert!(data[0].starts_with("452"), "attempt {attempt}: {data:?}");
    }
    let outbox = must(server.data(), &["mail", "list"]);
    let redirects = outbox
        .lines()
        .filter(|l| l.contains("carol@example.net"))
        .count();
    assert_eq!(redirects, 1, "{outbox}");
    // Another message is another redirect.
    server.connect().deliver(
        "alice@example.org",
        &["busy@example.org"],
        &fixture("outlook-request-base64.eml"),
    );
    let outbox = must(server.data(), &["mail", "list"]);
    let redirects = outbox
        .lines()
        .filter(|l| l.contains("carol@example.net"))
        .count();
    assert_eq!(redirects, 2, "{outbox}");
}
