//! One decision per invitation: what the delivered mail's `X-Imipd-Cal-Outcome` says is
//! what its job records, however many invitations one sender sends.

mod common;

use common::itip::Mail;
use common::*;
use std::collections::HashMap;
use std::path::Path;

const BOB: &str = "bob@example.org";

fn bob(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
}

/// The outcome each job shows in `imipd jobs list`, by UID.
fn job_outcomes(list: &str) -> HashMap<String, String> {
    list.lines()
        .filter_map(|line| {
            let uid = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("uid="))?;
            let (_, summary) = line.split_once("attempts=")?;
            let (_, summary) = summary.split_once("  ")?;
            Some((uid.to_string(), summary.trim().to_string()))
        })
        .collect()
}

#[test]
fn past_the_sender_limit_the_mail_says_what_the_job_does() {
    let server = Imipd::start(bob, &[]);
    // 55 invitations over 5 connections at once: deliveries agree on the limit however
    // they interleave.
    std::thread::scope(|s| {
        for connection in 0..5 {
            let server = &server;
            s.spawn(move || {
                let mut lmtp = server.connect();
                for i in 0..11 {
                    let uid = format!("rl-{connection}-{i}@example.org");
                    let mail = Mail::request(&uid).bytes();
                    let (_, data) = lmtp.deliver("alice@example.org", &[BOB], &mail);
                    assert!(data[0].starts_with("250"), "{data:?}");
                }
                lmtp.quit();
            });
        }
    });
    settled(&server);
    let jobs = job_outcomes(&must(server.data(), &["jobs", "list", "--limit", "1000"]));
    let mut limited = 0;
    for mail in messages(&server.maildir(BOB), "") {
        let uid = header_values(&mail, "X-ME-Cal-UID").join(" ");
        let header = header_values(&mail, "X-Imipd-Cal-Outcome").join(" ");
        let job = jobs
            .get(&uid)
            .unwrap_or_else(|| panic!("no job for {uid}: {jobs:?}"));
        assert_eq!(&header, job, "{uid}: the header and the job disagree");
        limited += usize::from(header.starts_with("no_action") && header.contains("rate limit"));
    }
    assert_eq!(limited, 5, "{jobs:?}");
    let events = must(server.data(), &["events", "list", BOB]);
    assert_eq!(
        events.lines().filter(|l| l.contains("rl-")).count(),
        50,
        "{events}"
    );
}
