//! `sink = "lmtp"` against a real Dovecot LMTP server: Dovecot's own replies reach the MTA,
//! the copy Dovecot stores carries imipd's headers, and a Dovecot that is down means 4xx.
//! Needs Dovecot's LMTP server (Debian: dovecot-lmtpd) and root, because Dovecot switches
//! to the mail user. `scripts/test.sh` installs it; under plain `cargo test` without it the
//! test says so and skips.

mod common;

use common::itip::Mail;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn dovecot_available() -> bool {
    Command::new("dovecot")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/lib/dovecot/lmtp").exists()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

struct Dovecot {
    child: Child,
    port: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_dovecot(dir: &Path) -> Dovecot {
    let port = free_port();
    for sub in ["mail", "run"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let conf = format!(
        "protocols = lmtp\nbase_dir = {d}/run\nlog_path = {d}/dovecot.log\nssl = no\n\
         mail_location = maildir:{d}/mail/%n/Maildir\nmail_fsync = always\n\
         default_internal_user = root\ndefault_login_user = root\ndefault_internal_group = root\n\
         first_valid_uid = 1\n\
         passdb {{\n  driver = static\n  args = nopassword=y\n}}\n\
         userdb {{\n  driver = static\n  args = uid=mail gid=mail home={d}/mail/%n\n}}\n\
         service lmtp {{\n  inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n}}\n\
         service anvil {{\n  chroot =\n}}\n"
    );
    // Dovecot delivers as the mail user, never as root.
    let owned = Command::new("chown")
        .args(["-R", "mail:mail"])
        .arg(dir.join("mail"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(owned, "cannot chown {} to mail:mail", dir.display());
    let conf_path = dir.join("dovecot.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new("dovecot")
        .args(["-F", "-c"])
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dovecot");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "dovecot did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Dovecot { child, port }
}

#[test]
fn dovecot_stores_the_copy_and_its_replies_are_relayed() {
    if !is_root() || !dovecot_available() {
        println!(
            "Dovecot LMTP not available (needs root and Debian's dovecot-lmtpd, which \
             scripts/test.sh installs) — real-Dovecot downstream test skipped"
        );
        return;
    }
    let dovecot_dir = tempfile::tempdir().unwrap();
    let dovecot = start_dovecot(dovecot_dir.path());
    let downstream = format!("127.0.0.1:{}", dovecot.port);
    let server = Imipd::start(
        |dir| {
            must(dir, &["user", "add", "bob@example.org"]);
        },
        &[("IMIPD_SINK", "lmtp"), ("IMIPD_DOWNSTREAM", &downstream)],
    );
    let mut lmtp = server.connect();
    let (rcpt, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org", "nobody@example.org"],
        &Mail::request("dove-1@example.org").bytes(),
    );
    assert!(
        rcpt[1].starts_with("550"),
        "imipd refuses unknown users itself: {rcpt:?}"
    );
    assert_eq!(data.len(), 1);
    assert!(data[0].starts_with("250"), "Dovecot's reply: {data:?}");
    let stored = messages(&dovecot_dir.path().join("mail/bob/Maildir"), "");
    assert_eq!(stored.len(), 1, "Dovecot stored the copy");
    assert_eq!(
        header_values(&stored[0], "X-ME-Cal-UID"),
        ["dove-1@example.org"]
    );
    assert_eq!(header_values(&stored[0], "X-ME-Cal-Method"), ["request"]);

    drop(dovecot);
    let (_, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org"],
        &Mail::request("dove-2@example.org").bytes(),
    );
    assert!(data[0].starts_with("451 4.4.1"), "Dovecot down: {data:?}");
}
