//! `sink = "lmtp"` against a real Dovecot LMTP server: Dovecot's own replies reach the MTA,
//! the copy Dovecot stores carries imipd's headers, mail to an alias reaches the user's
//! mailbox, a Dovecot that is down means 4xx, and a calendar changes only for a recipient
//! whose copy Dovecot accepted.
//! Needs Dovecot's LMTP server (Debian: dovecot-lmtpd) and root, because Dovecot switches
//! to the mail user. `scripts/test.sh` installs it; under plain `cargo test` without it the
//! test says so and skips.

mod common;

use common::itip::Mail;
use common::mta::{Dovecot, free_port, is_root, uid_of};
use common::*;
use std::path::Path;

/// Dovecot's LMTP on an ephemeral port, storing mail for the users of a passwd-file.
fn start_dovecot(dir: &Path) -> (Dovecot, u16) {
    let port = free_port();
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let d = dir.display();
    let conf = format!(
        "protocols = lmtp\nssl = no\n\
         mail_location = maildir:{d}/mail/%n/Maildir\nmail_fsync = always\n\
         default_internal_user = root\ndefault_login_user = root\ndefault_internal_group = root\n\
         first_valid_uid = 1\n\
         passdb {{\n  driver = static\n  args = nopassword=y\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = {d}/users\n}}\n\
         service lmtp {{\n  inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n}}\n\
         service anvil {{\n  chroot =\n}}\n"
    );
    // Dovecot delivers as the mail user, never as root; it knows bob only: carol, an imipd
    // user, has no mailbox there.
    let mail = uid_of("mail");
    common::mta::chown(&dir.join("mail"), mail, mail);
    std::fs::write(
        dir.join("users"),
        format!("bob@example.org::{mail}:{mail}::{d}/mail/bob::\n"),
    )
    .unwrap();
    (Dovecot::start(dir, &conf, port), port)
}

fn jobs(server: &Imipd, user: &str) -> String {
    must(server.data(), &["jobs", "list", "--user", user])
}

#[test]
fn dovecot_stores_the_copy_and_its_replies_are_relayed() {
    if !is_root() || !Dovecot::available(&["lmtp"]) {
        println!(
            "Dovecot LMTP not available (needs root and Debian's dovecot-lmtpd, which \
             scripts/test.sh installs) — real-Dovecot downstream test skipped"
        );
        return;
    }
    let dovecot_dir = tempfile::tempdir().unwrap();
    let (dovecot, port) = start_dovecot(dovecot_dir.path());
    let downstream = format!("127.0.0.1:{port}");
    let server = Imipd::start(
        |dir| {
            must(
                dir,
                &[
                    "user",
                    "add",
                    "bob@example.org",
                    "--alias",
                    "robert@example.org",
                ],
            );
            must(dir, &["user", "add", "carol@example.org"]);
            for user in ["bob@example.org", "carol@example.org"] {
                must(dir, &["contacts", "add", user, "alice@example.org"]);
            }
        },
        &[("IMIPD_SINK", "lmtp"), ("IMIPD_DOWNSTREAM", &downstream)],
    );
    let events = |user: &str| must(server.data(), &["events", "list", user]);
    let mut lmtp = server.connect();
    let (rcpt, data) = lmtp.deliver(
        "alice@example.org",
        &[
            "robert@example.org",
            "nobody@example.org",
            "carol@example.org",
        ],
        &Mail::request("dove-1@example.org").bytes(),
    );
    assert!(
        rcpt[1].starts_with("550"),
        "imipd refuses unknown users itself: {rcpt:?}"
    );
    assert_eq!(data.len(), 2, "{data:?}");
    // (recipient, Dovecot's word on it)
    let expected = [("robert@example.org", "250"), ("carol@example.org", "550")];
    for ((to, code), reply) in expected.iter().zip(&data) {
        assert!(
            reply.starts_with(code),
            "{to}: expected Dovecot's {code}, got {reply:?}"
        );
    }

    // The alias reached bob's mailbox downstream, keeping the address it was sent to.
    let stored = messages(&dovecot_dir.path().join("mail/bob/Maildir"), "");
    assert_eq!(stored.len(), 1, "Dovecot stored bob's copy");
    assert_eq!(
        header_values(&stored[0], "Delivered-To"),
        ["bob@example.org", "robert@example.org"],
        "Dovecot's trace for the user, imipd's for the address given: {}",
        stored[0]
    );
    assert_eq!(
        header_values(&stored[0], "X-ME-Cal-UID"),
        ["dove-1@example.org"]
    );
    eventually(20, "bob's calendar", || {
        events("bob@example.org").contains("dove-1@").then_some(())
    });
    // Dovecot refused carol's copy: her calendar never hears of the invitation.
    assert!(
        jobs(&server, "carol@example.org").starts_with("no jobs"),
        "{}",
        jobs(&server, "carol@example.org")
    );
    assert!(events("carol@example.org").contains("has no events"));

    drop(dovecot);
    let before = jobs(&server, "bob@example.org");
    let (_, data) = lmtp.deliver(
        "alice@example.org",
        &["bob@example.org"],
        &Mail::request("dove-2@example.org").bytes(),
    );
    assert!(data[0].starts_with("451 4.4.1"), "Dovecot down: {data:?}");
    assert_eq!(
        jobs(&server, "bob@example.org"),
        before,
        "no job queued (or left held) for mail Dovecot did not take"
    );
    assert!(!events("bob@example.org").contains("dove-2@"));
}
