//! App passwords on the real binary: `imipd user app-password add|list|revoke`, and HTTP
//! Basic over real sockets taking the user's password or any of their app passwords, a
//! revoked one refused at the next request (cached sign-in or not), and failures with app
//! passwords counted in the same limits.

mod common;

use common::http::{Reply, request};
use common::*;
use std::net::SocketAddr;
use std::path::Path;

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
    must(
        dir,
        &["user", "add", "alice@example.org", "--password", "alice pw"],
    );
}

/// PROPFIND of the login's calendar home.
fn propfind(addr: SocketAddr, login: &str, password: &str) -> Reply {
    let body = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>"#;
    request(
        addr,
        Some((login, password)),
        "PROPFIND",
        &format!("/calendars/{}/", login.to_ascii_lowercase()),
        &[("Depth", "0")],
        body.as_bytes(),
    )
}

/// `imipd user app-password add`: the password on stdout, alone.
fn add(dir: &Path, user: &str, label: &str) -> String {
    let out = must(dir, &["user", "app-password", "add", user, label]);
    let password = out.trim().to_string();
    assert_eq!(out, format!("{password}\n"), "{out:?}");
    password
}

#[test]
fn add_list_and_revoke_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let phone = add(dir.path(), BOB, "phone");
    let laptop = add(dir.path(), "BOB@example.org", "Thunderbird at work");
    assert_ne!(phone, laptop);
    assert_eq!(phone.len(), 29, "{phone}");
    let listed = must(dir.path(), &["user", "app-password", "list", BOB]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with("Thunderbird at work\tcreated 20"),
        "{listed}"
    );
    assert!(lines[1].starts_with("phone\tcreated 20"), "{listed}");
    assert!(
        lines.iter().all(|l| l.ends_with("\tlast used never")),
        "{listed}"
    );
    assert!(
        !listed.contains(&phone) && !listed.contains(&laptop),
        "{listed}"
    );
    let empty = must(
        dir.path(),
        &["user", "app-password", "list", "alice@example.org"],
    );
    assert!(empty.contains("has no app passwords"), "{empty}");

    // (arguments, what the refusal says)
    let refusals: &[(&[&str], &str)] = &[
        (
            &["user", "app-password", "add", BOB, "phone"],
            "has an app password labelled \"phone\" already",
        ),
        (
            &["user", "app-password", "add", BOB, " "],
            "the label is empty",
        ),
        (
            &["user", "app-password", "revoke", BOB, "tablet"],
            "no app password labelled \"tablet\" (its app passwords: Thunderbird at work, phone)",
        ),
        (
            &["user", "app-password", "add", "nobody@example.org", "phone"],
            "no such user nobody@example.org",
        ),
    ];
    for (args, says) in refusals {
        let (code, out, err) = cli(dir.path(), args);
        assert!(
            code == 1 && err.contains(says),
            "imipd {args:?}: expected exit 1 and {says:?}, got {code}: {out}{err}"
        );
    }
    let revoked = must(
        dir.path(),
        &["user", "app-password", "revoke", BOB, "phone"],
    );
    assert_eq!(
        revoked,
        "revoked app password \"phone\" of bob@example.org\n"
    );
    let listed = must(dir.path(), &["user", "app-password", "list", BOB]);
    assert!(
        listed.starts_with("Thunderbird at work\t") && listed.lines().count() == 1,
        "{listed}"
    );
}

#[test]
fn an_app_password_signs_in_until_it_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let phone = add(dir.path(), BOB, "phone");
    let laptop = add(dir.path(), BOB, "laptop");
    let server = Imipd::start_in(dir, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let upper = phone.to_uppercase();
    // (login, password, expected status); the repeats are taken from the credential cache.
    let cases = [
        (BOB, PW, 207),
        (BOB, phone.as_str(), 207),
        (BOB, phone.as_str(), 207),
        ("BOB@example.org", upper.as_str(), 207),
        (BOB, laptop.as_str(), 207),
        // Another user's login with Bob's app password.
        ("alice@example.org", phone.as_str(), 401),
        (BOB, "zzzz-zzzz-zzzz-zzzz-zzzz-zzzz", 401),
    ];
    for (login, password, expected) in cases {
        let reply = propfind(addr, login, password);
        assert_eq!(
            reply.status, expected,
            "{login} / {password}: {}",
            reply.body
        );
    }
    let listed = must(server.data(), &["user", "app-password", "list", BOB]);
    assert!(
        listed.lines().all(|l| !l.ends_with("last used never")),
        "every app password was used: {listed}"
    );

    must(
        server.data(),
        &["user", "app-password", "revoke", BOB, "phone"],
    );
    // Right after the revocation in another process: the cached sign-in ends too.
    let cases = [
        (phone.as_str(), 401),
        (upper.as_str(), 401),
        (laptop.as_str(), 207),
        (PW, 207),
    ];
    for (password, expected) in cases {
        let reply = propfind(addr, BOB, password);
        assert_eq!(reply.status, expected, "{password}: {}", reply.body);
        if expected == 401 {
            assert!(
                reply.header("WWW-Authenticate").is_some(),
                "{:?}",
                reply.headers
            );
        }
    }
    // Changing the user's password leaves the other app passwords working.
    must(
        server.data(),
        &["user", "passwd", BOB, "--password", "new pass"],
    );
    assert_eq!(propfind(addr, BOB, laptop.as_str()).status, 207);
    assert_eq!(propfind(addr, BOB, PW).status, 401);
}

#[test]
fn wrong_app_passwords_count_in_the_sign_in_limits() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let phone = add(dir.path(), BOB, "phone");
    let server = Imipd::start_in(dir, &[]);
    let addr = wait_for_listen(&server.log, "http listening on");
    // Guesses shaped like app passwords: one with the real id and a wrong secret, others
    // with ids nobody has.
    let real_id_wrong_secret = format!("{}-zzzz-zzzz-zzzz-zzzz", &phone[..9]);
    let guesses: Vec<String> = (0..10)
        .map(|i| match i {
            0 => real_id_wrong_secret.clone(),
            _ => format!("zzzz-zzz{}-zzzz-zzzz-zzzz-zzzz", (b'a' + i as u8) as char),
        })
        .collect();
    for guess in &guesses {
        assert_eq!(propfind(addr, BOB, guess).status, 401, "{guess}");
    }
    // The address is locked now, for the real app password as for the password.
    for password in [phone.as_str(), PW] {
        let reply = propfind(addr, BOB, password);
        assert_eq!(reply.status, 429, "{password}: {}", reply.body);
        assert!(reply.header("Retry-After").is_some(), "{:?}", reply.headers);
    }
    assert_eq!(propfind(addr, "alice@example.org", "alice pw").status, 207);
}
