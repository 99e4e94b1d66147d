//! The data directory belongs to one running server, and the database it opened stays the
//! one it writes to: a second `serve`, a deleted or swapped database file are refused
//! instead of quietly losing acknowledged mail.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

const BOB: &str = "bob@example.org";

fn with_bob(dir: &std::path::Path) {
    must(dir, &["user", "add", BOB]);
}

fn health(server: &Imipd) -> String {
    let http: SocketAddr = wait_for_listen(&server.log, "http listening on");
    let mut conn = TcpStream::connect(http).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

fn rcpt(server: &Imipd) -> String {
    let mut lmtp = server.connect();
    assert!(lmtp.cmd("LHLO client.test").starts_with("250"));
    assert!(lmtp.cmd("MAIL FROM:<alice@example.org>").starts_with("250"));
    lmtp.cmd(&format!("RCPT TO:<{BOB}>"))
}

#[test]
fn a_second_serve_on_the_same_data_dir_is_refused_and_the_first_keeps_its_spool() {
    let server = Imipd::start(with_bob, &[]);
    let in_flight = server.data().join("spool").join("imipd-lmtp-in-flight");
    std::fs::write(&in_flight, b"a message being received").unwrap();
    let log = server.data().join("second.log");
    let mut second = Command::new(bin())
        .arg("serve")
        .env("IMIPD_DATA_DIR", server.data())
        .env("IMIPD_LMTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HTTP_LISTEN", "127.0.0.1:0")
        .env_remove("IMIPD_CONFIG")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let status = eventually(20, "the second serve to exit", || {
        second.try_wait().unwrap()
    });
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "second serve: {err}");
    assert!(err.contains("is in use by imipd pid"), "{err}");
    assert!(
        err.contains(&server.child.id().to_string()),
        "names the running one: {err}"
    );
    assert!(
        in_flight.exists(),
        "the running server's spool file was removed"
    );
    assert!(
        rcpt(&server).starts_with("250"),
        "the first one still serves"
    );
}

#[test]
fn a_restart_after_kill_9_is_not_blocked_by_the_lock_file() {
    let mut server = Imipd::start(with_bob, &[]);
    server.kill9();
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    let again = Imipd::start_in(dir, &[]);
    assert!(rcpt(&again).starts_with("250"));
}

#[test]
fn a_deleted_database_answers_4xx_and_health_says_so() {
    let server = Imipd::start(with_bob, &[]);
    assert!(health(&server).starts_with("HTTP/1.1 200"));
    std::fs::remove_file(server.data().join("imipd.sqlite3")).unwrap();
    let reply = rcpt(&server);
    assert!(reply.starts_with("451"), "{reply}");
    let answer = health(&server);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("was deleted"), "{answer}");
    assert!(server.log_text().contains("imipd.sqlite3 was deleted"));
}

#[test]
fn a_database_swapped_underneath_answers_4xx() {
    let server = Imipd::start(with_bob, &[]);
    let db = server.data().join("imipd.sqlite3");
    let copy = server.data().join("copy.sqlite3");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::rename(&copy, &db).unwrap();
    let reply = rcpt(&server);
    assert!(reply.starts_with("451"), "{reply}");
    assert!(health(&server).contains("was replaced by another file"));
}
