//! Compares keep/fileinto/discard/redirect decisions with Dovecot Pigeonhole's
//! `sieve-test` on standard scripts, when it is installed.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const SCRIPTS: &[&str] = &[
    "keep;",
    "discard;",
    "stop;",
    "require \"fileinto\";\nif header :contains \"Subject\" \"report\" { fileinto \"Reports\"; stop; }\nfileinto \"Other\";",
    "redirect \"alice@example.com\";",
    "require \"copy\";\nredirect :copy \"alice@example.com\";",
    "require \"fileinto\";\nif address :domain :is \"From\" \"example.net\" { fileinto \"Net\"; }\n\
     elsif address :domain :is \"From\" \"example.com\" { fileinto \"Com\"; }\nelse { discard; }",
    "require \"fileinto\";\nfileinto \"A\";\nfileinto \"A\";\nkeep;",
    "require \"fileinto\";\ndiscard;\nfileinto \"Kept\";",
    "require \"fileinto\";\nif size :over 100K { fileinto \"Big\"; } else { fileinto \"Small\"; }",
    "require [\"fileinto\", \"body\"];\nif body :contains \"lunch\" { fileinto \"Food\"; }",
    "require [\"fileinto\", \"variables\"];\nif header :matches \"Subject\" \"*: *\" { fileinto \"Tag/${1}\"; }",
    "require [\"fileinto\", \"imap4flags\"];\naddflag \"\\\\Seen\";",
    "require [\"fileinto\", \"imap4flags\"];\nsetflag [\"$A\", \"$B\"];\nremoveflag \"$A\";\n\
     fileinto \"F\";\nfileinto :flags \"$Own\" \"G\";\nkeep :flags \"$K\";",
    "if not exists \"X-Nothing\" { discard; }",
    "require \"fileinto\";\nif anyof (header :is \"To\" \"nobody@example.org\", not header :contains \"Subject\" \"\") { fileinto \"X\"; }",
    "require [\"fileinto\", \"variables\"];\nif true { set \"x\" \"Set\"; }\nfileinto \"In-${x}\";",
    "require [\"fileinto\", \"mailbox\"];\nif not mailboxexists \"Nope\" { fileinto :create \"Made\"; }",
    "require \"enotify\";\nnotify :message \"hi\" \"mailto:alice@example.com\";\nkeep;",
];

fn messages() -> Vec<Vec<u8>> {
    vec![
        plain("someone@example.net", "Weekly report", ""),
        plain("other@example.com", "news: lunch menu", ""),
        format!(
            "From: x@example.org\r\nTo: bob@example.org\r\nSubject: big\r\n\r\n{}\r\n",
            "lunch ".repeat(30_000)
        )
        .into_bytes(),
    ]
}

type Stores = BTreeMap<String, BTreeSet<String>>;

/// Folders stored into (INBOX included) with their flags, and redirect addresses, from
/// sieve-test output.
fn dovecot_decisions(output: &str) -> (Stores, BTreeSet<String>) {
    let mut stores = Stores::new();
    let mut redirects = BTreeSet::new();
    let mut last = None;
    for line in output.lines() {
        let line = line.trim_start_matches([' ', '*']).trim();
        if let Some(folder) = line.strip_prefix("store message in folder: ") {
            stores.entry(folder.to_string()).or_default();
            last = Some(folder.to_string());
        } else if let Some(flags) = line.strip_prefix("+ add IMAP flags: ") {
            if let Some(folder) = &last {
                let set = stores.entry(folder.clone()).or_default();
                set.extend(flags.split_whitespace().map(str::to_ascii_lowercase));
            }
        } else if let Some(to) = line.strip_prefix("redirect message to: ") {
            redirects.insert(to.trim_matches(['<', '>']).to_string());
        }
    }
    (stores, redirects)
}

fn sieve_test(dir: &Path, script: &Path, message: &Path) -> Option<String> {
    let attempts: [&[&str]; 2] = [&["-o", "mail_uid=65534", "-o", "mail_gid=65534"], &[]];
    attempts.iter().find_map(|opts| {
        let out = Command::new("sieve-test")
            .current_dir(dir)
            .args(*opts)
            .args(["-f", "friend@example.org", "-r", "bob@example.org"])
            .arg(script)
            .arg(message)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        text.contains("final result: success").then_some(text)
    })
}

fn have_sieve_test() -> bool {
    Command::new("sieve-test").arg("-?").output().is_ok()
}

#[test]
fn same_decisions_as_dovecot() {
    if !have_sieve_test() {
        println!(
            "sieve-test not found (Debian's dovecot-sieve, which scripts/test.sh installs) — \
             comparison with Dovecot Pigeonhole skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let host = FakeHost::default();
    let mut compared = 0;
    for (m, message) in messages().iter().enumerate() {
        let mail = dir.path().join(format!("m{m}.eml"));
        std::fs::write(&mail, message).expect("write mail");
        std::fs::set_permissions(&mail, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        for (s, source) in SCRIPTS.iter().enumerate() {
            let path = dir.path().join(format!("s{s}.sieve"));
            std::fs::write(&path, source).expect("write script");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let Some(output) = sieve_test(dir.path(), &path, &mail) else {
                panic!("sieve-test failed on {source:?}");
            };
            let (want_stores, want_redirects) = dovecot_decisions(&output);
            let r = run_with(source, message, &facts(), &host);
            assert_eq!(r.errors, Vec::<String>::new(), "{source}");
            let got_stores: Stores = r
                .deliveries
                .iter()
                .map(|d| {
                    let folder = d.folder.clone().unwrap_or_else(|| "INBOX".into());
                    // IMAP flags compare case-insensitively; Dovecot prints them lower-case.
                    (
                        folder,
                        d.flags.iter().map(|f| f.to_ascii_lowercase()).collect(),
                    )
                })
                .collect();
            let got_redirects: BTreeSet<String> = r.redirects.iter().cloned().collect();
            assert_eq!(
                got_stores, want_stores,
                "message {m}, script:\n{source}\n{output}"
            );
            assert_eq!(
                got_redirects, want_redirects,
                "message {m}, script:\n{source}"
            );
            compared += 1;
        }
    }
    println!("{compared} decisions compared with sieve-test");
}
