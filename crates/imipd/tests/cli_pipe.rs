//! `imipd jobs list | head`: a command whose reader has gone ends quietly, as any Unix tool
//! does (SIGPIPE), never with a panic.

mod common;

use common::{bin, must};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn commands_end_quietly_when_stdout_is_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    must(dir.path(), &["user", "add", "bob@example.org"]);
    // (arguments) — each prints something, so it meets the closed pipe.
    let cases: &[&[&str]] = &[
        &["jobs", "list"],
        &["mail", "list"],
        &["user", "list"],
        &["sieve", "show", "bob@example.org"],
        &["prefs", "show", "bob@example.org"],
        &["events", "list", "bob@example.org"],
        &["--help"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(bin())
            .args(*args)
            .env("IMIPD_DATA_DIR", dir.path())
            .env_remove("IMIPD_CONFIG")
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run imipd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let quiet = out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE);
        assert!(
            quiet && stderr.is_empty(),
            "imipd {args:?} with stdout a closed pipe: expected status 0 or SIGPIPE and nothing \
             on stderr, got {:?} and {stderr:?}",
            out.status
        );
    }
}
