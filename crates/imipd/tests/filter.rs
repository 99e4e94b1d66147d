//! Stage 2 end to end: preferences and Sieve scripts over real deliveries (LMTP in,
//! Maildir out, queue rows and calendar contents checked through the CLI).

mod common;

use common::itip::Mail;
use common::*;
use std::path::Path;

const BOB: &str = "bob@example.org";

fn bob_knows_alice(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["contacts", "add", BOB, "alice@example.org"]);
}

fn bob_only(dir: &Path) {
    must(dir, &["user", "add", BOB]);
}

/// Delivers `mail` to Bob; returns the stored copy.
fn deliver(server: &Imipd, mail: &[u8], folder: &str) -> String {
    let before = messages(&server.maildir(BOB), folder).len();
    let (_, data) = server.connect().deliver("alice@example.org", &[BOB], mail);
    assert!(data[0].starts_with("250"), "{data:?}");
    let all = messages(&server.maildir(BOB), folder);
    assert_eq!(all.len(), before + 1, "one new message in {folder:?}");
    all.last().cloned().unwrap_or_default()
}

fn outcome(message: &str) -> String {
    header_values(message, "X-Imipd-Cal-Outcome")
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no X-Imipd-Cal-Outcome in:\n{message}"))
}

fn events(server: &Imipd) -> String {
    must(server.data(), &["events", "list", BOB])
}

fn wait_for_event(server: &Imipd, uid: &str) -> String {
    eventually(20, &format!("{uid} in bob's calendar"), || {
        let list = events(server);
        list.contains(uid).then_some(list)
    })
}

#[test]
fn defaults_add_invitations_from_contacts_and_apply_updates() {
    let server = Imipd::start(bob_knows_alice, &[]);
    let got = deliver(&server, &Mail::request("d-1@example.org").bytes(), "");
    assert!(outcome(&got).starts_with("added"), "{}", outcome(&got));
    let list = wait_for_event(&server, "d-1@example.org");
    assert!(list.contains("Planning 0"), "{list}");

    let update = Mail {
        sequence: 1,
        ..Mail::request("d-1@example.org")
    };
    let got = deliver(&server, &update.bytes(), "");
    assert_eq!(header_values(&got, "X-ME-Cal-Exists"), ["default"]);
    assert!(outcome(&got).starts_with("updated"), "{}", outcome(&got));
    eventually(20, "the update", || {
        events(&server).contains("Planning 1").then_some(())
    });

    let got = deliver(&server, &Mail::cancel("d-1@example.org", 2).bytes(), "");
    assert!(outcome(&got).starts_with("updated"), "{}", outcome(&got));
    eventually(20, "the cancellation", || {
        events(&server)
            .to_ascii_uppercase()
            .contains("CANCELLED")
            .then_some(())
    });
}

#[test]
fn invitations_from_strangers_wait_for_the_user() {
    let server = Imipd::start(bob_only, &[]);
    let got = deliver(&server, &Mail::request("s-1@example.org").bytes(), "");
    let o = outcome(&got);
    assert!(o.starts_with("no_action"), "{o}");
    assert!(o.contains("reason="), "{o}");
    let jobs = settled(&server);
    assert!(nothing_applied(&jobs), "{jobs}");
    assert!(!events(&server).contains("s-1@example.org"));
}

#[test]
fn spam_and_unauthenticated_senders_are_never_processed() {
    let server = Imipd::start(bob_knows_alice, &[]);
    must(
        server.data(),
        &["prefs", "set", BOB, "add_invitations=everyone"],
    );
    let cases = [
        (
            "spam@example.org",
            Mail {
                spam: true,
                ..Mail::request("spam@example.org")
            },
        ),
        (
            "noauth@example.org",
            Mail {
                auth: None,
                ..Mail::request("noauth@example.org")
            },
        ),
        (
            "untrusted@example.org",
            Mail {
                auth: Some(("evil.test", "pass")),
                ..Mail::request("untrusted@example.org")
            },
        ),
        (
            "dmarcfail@example.org",
            Mail {
                auth: Some(("mx.test", "fail")),
                ..Mail::request("dmarcfail@example.org")
            },
        ),
    ];
    for (uid, mail) in &cases {
        let got = deliver(&server, &mail.bytes(), "");
        let o = outcome(&got);
        assert!(o.starts_with("no_action"), "{uid}: {o}");
        let why = if mail.spam {
            "spam"
        } else {
            "not authenticated"
        };
        assert!(o.contains(why), "{uid}: {o}");
    }
    settled(&server);
    let list = events(&server);
    for (uid, _) in &cases {
        assert!(!list.contains(uid), "{uid} reached the calendar:\n{list}");
    }
}

#[test]
fn every_preference_combination() {
    let adds = ["contacts", "everyone", "never"];
    let updates = ["on", "off"];
    let server = Imipd::start(bob_knows_alice, &[]);
    let mut n = 0;
    for add in adds {
        for upd in updates {
            for from in ["alice@example.org", "stranger@example.org"] {
                n += 1;
                let uid = format!("p-{n}@example.org");
                must(
                    server.data(),
                    &[
                        "prefs",
                        "set",
                        BOB,
                        &format!("add_invitations={add}"),
                        &format!("apply_updates={upd}"),
                    ],
                );
                let invite = Mail {
                    from,
                    ..Mail::request(&uid)
                };
                let got = deliver(&server, &invite.bytes(), "");
                let should_add =
                    add == "everyone" || (add == "contacts" && from.starts_with("alice"));
                let o = outcome(&got);
                assert_eq!(
                    o.starts_with("added"),
                    should_add,
                    "{add}/{upd}/{from}: {o}"
                );
                settled(&server);
                assert_eq!(
                    events(&server).contains(&uid),
                    should_add,
                    "{add}/{upd}/{from}"
                );
                if !should_add {
                    continue;
                }
                let update = Mail {
                    sequence: 1,
                    ..invite
                };
                let got = deliver(&server, &update.bytes(), "");
                let o = outcome(&got);
                assert_eq!(
                    o.starts_with("updated"),
                    upd == "on",
                    "{add}/{upd}/{from} update: {o}"
                );
                settled(&server);
                let list = events(&server);
                let line = list.lines().find(|l| l.contains(&uid)).unwrap_or_default();
                assert_eq!(
                    line.contains("Planning 1"),
                    upd == "on",
                    "{add}/{upd}: {line}"
                );
            }
        }
    }
}

#[test]
fn processed_mail_is_filed_and_cancellations_delete_when_asked() {
    let server = Imipd::start(bob_knows_alice, &[]);
    must(
        server.data(),
        &[
            "prefs",
            "set",
            BOB,
            "file_into=Invitations",
            "delete_cancelled=on",
        ],
    );
    let shown = must(server.data(), &["prefs", "show", BOB]);
    assert!(shown.contains("file_into = Invitations"), "{shown}");
    assert!(shown.contains("delete_cancelled = on"), "{shown}");
    let got = deliver(
        &server,
        &Mail::request("f-1@example.org").bytes(),
        "Invitations",
    );
    assert!(outcome(&got).starts_with("added"));
    wait_for_event(&server, "f-1@example.org");
    deliver(
        &server,
        &Mail::cancel("f-1@example.org", 1).bytes(),
        "Invitations",
    );
    eventually(20, "the event to be deleted", || {
        (!events(&server).contains("f-1@example.org")).then_some(())
    });
    // Plain mail still goes to the inbox.
    let plain = b"From: alice@example.org\r\nSubject: hi\r\n\r\nhello\r\n";
    deliver(&server, plain, "");
}

#[test]
fn preference_errors_name_the_key_and_the_values() {
    let dir = tempfile::tempdir().unwrap();
    bob_only(dir.path());
    let (code, _, err) = cli(
        dir.path(),
        &["prefs", "set", BOB, "add_invitations=sometimes"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("add_invitations") && err.contains("everyone"),
        "{err}"
    );
    let (code, _, err) = cli(dir.path(), &["prefs", "set", BOB, "calendar=nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) = cli(dir.path(), &["prefs", "set", BOB, "colour"]);
    assert_ne!(code, 0);
    assert!(err.contains("KEY=VALUE"), "{err}");
}

fn set_script(dir: &Path, script: &str) -> (i32, String, String) {
    let path = dir.join("own.sieve");
    std::fs::write(&path, script).unwrap();
    cli(dir, &["sieve", "set", BOB, path.to_str().unwrap()])
}

#[test]
fn compile_errors_name_line_and_column_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    bob_only(dir.path());
    let before = must(dir.path(), &["sieve", "show", BOB]);
    let (code, _, err) = set_script(
        dir.path(),
        "require \"fileinto\";\n\nfileinto \"x\"\nkeep;\n",
    );
    assert_ne!(code, 0, "a broken script was accepted");
    assert!(err.contains("line 4") || err.contains("line 3"), "{err}");
    assert!(err.contains("column"), "{err}");
    assert_eq!(must(dir.path(), &["sieve", "show", BOB]), before);
    let ok = must(dir.path(), &["sieve", "check", BOB]);
    assert!(ok.contains("compiles"), "{ok}");
}

#[test]
fn own_rules_survive_preference_changes() {
    let dir = tempfile::tempdir().unwrap();
    bob_only(dir.path());
    let rule = "require [\"fileinto\"];\nif header :contains \"subject\" \"report\" { fileinto \"Reports\"; }\n";
    let (code, _, err) = set_script(dir.path(), rule);
    assert_eq!(code, 0, "{err}");
    must(dir.path(), &["prefs", "set", BOB, "apply_updates=off"]);
    let shown = must(dir.path(), &["sieve", "show", BOB]);
    assert!(shown.contains("fileinto \"Reports\""), "{shown}");
    must(
        dir.path(),
        &["prefs", "set", BOB, "apply_updates=on", "file_into=Cal"],
    );
    let shown = must(dir.path(), &["sieve", "show", BOB]);
    assert!(shown.contains("fileinto \"Reports\""), "{shown}");
    assert_eq!(
        shown
            .matches("if header :contains \"subject\" \"report\"")
            .count(),
        1,
        "{shown}"
    );
}

#[test]
fn processcalendar_outcome_variables_drive_fileinto_and_flags() {
    let server = Imipd::start(bob_only, &[]);
    let script = r#"require ["processcalendar", "variables", "fileinto", "mailbox", "imap4flags"];
if exists "X-ME-Cal-Method" {
  processcalendar :allowpublic :outcome "cal" :reason "why";
  addflag "calendar-${cal}";
  fileinto :create "cal-${cal}";
  stop;
}
"#;
    let (code, _, err) = set_script(server.data(), script);
    assert_eq!(code, 0, "{err}");
    // A user's own processcalendar applies to strangers too: no contacts rule here.
    let invite = Mail {
        from: "stranger@example.org",
        ..Mail::request("v-1@example.org")
    };
    let got = deliver(&server, &invite.bytes(), "cal-added");
    assert!(outcome(&got).starts_with("added"));
    wait_for_event(&server, "v-1@example.org");
    // The same again (a repeated delivery): known, same SEQUENCE, nothing to do.
    let again = deliver(&server, &invite.bytes(), "cal-no_action");
    assert!(
        outcome(&again).starts_with("no_action"),
        "{}",
        outcome(&again)
    );
}

#[test]
fn processcalendar_arguments() {
    let server = Imipd::start(bob_knows_alice, &[]);
    // Only the rules under test: the generated section would add Alice's invitations.
    must(
        server.data(),
        &["prefs", "set", BOB, "add_invitations=never"],
    );
    must(
        server.data(),
        &["contacts", "add", BOB, "carol@example.org"],
    );
    let script = r#"require ["processcalendar", "extlists", "variables", "fileinto"];
if header :is "subject" "only-updates" {
  processcalendar :updatesonly :outcome "o";
} elsif header :is "subject" "organizers" {
  processcalendar :organizers ":addrbook:Default" :outcome "o";
} elsif header :is "subject" "addresses" {
  processcalendar :addresses ["someone-else@example.org"] :outcome "o";
} elsif header :is "subject" "calendarid" {
  processcalendar :calendarid "nope" :outcome "o";
}
"#;
    let (code, _, err) = set_script(server.data(), script);
    assert_eq!(code, 0, "{err}");
    let with_subject = |mail: &Mail, subject: &str| {
        let text = String::from_utf8(mail.bytes()).unwrap();
        let old = format!("Subject: {} {}", mail.method, mail.uid);
        text.replacen(&old, &format!("Subject: {subject}"), 1)
            .into_bytes()
    };
    let cases = [
        ("only-updates", "alice@example.org", "no_action"),
        ("organizers", "alice@example.org", "added"),
        ("organizers", "stranger@example.org", "no_action"),
        ("addresses", "alice@example.org", "no_action"),
        ("calendarid", "alice@example.org", "error"),
    ];
    for (i, (subject, from, want)) in cases.iter().enumerate() {
        let uid = format!("a-{i}@example.org");
        let mail = Mail {
            from,
            ..Mail::request(&uid)
        };
        let got = deliver(&server, &with_subject(&mail, subject), "");
        let o = outcome(&got);
        assert!(
            o.starts_with(want),
            "{subject}/{from}: want {want}, got {o}"
        );
    }
    settled(&server);
    let list = events(&server);
    assert!(list.contains("a-1@example.org"), "{list}");
    for uid in ["a-0@", "a-2@", "a-3@", "a-4@"] {
        assert!(!list.contains(uid), "{uid}: {list}");
    }
}

#[test]
fn notify_addcal_and_updatecal_in_both_syntaxes() {
    let server = Imipd::start(bob_only, &[]);
    let dir = server.data();
    let store = imipd_store::SqliteStore::open(dir.join("imipd.sqlite3")).unwrap();
    imipd_store::Store::create_calendar(
        &store,
        BOB,
        "work",
        &imipd_store::CalendarProps::named("Work"),
    )
    .unwrap();
    let script = r#"require ["enotify"];
if header :is "subject" "plain" {
  notify :method "addcal" :options ["calendarId", "work"];
} elsif header :is "subject" "uri" {
  notify "addcal:" ;
} elsif header :is "subject" "update-plain" {
  notify :method "updatecal";
} elsif header :is "subject" "update-uri" {
  notify "updatecal:";
}
"#;
    let (code, _, err) = set_script(dir, script);
    assert_eq!(code, 0, "{err}");
    let subject = |mail: &Mail, s: &str| {
        let text = String::from_utf8(mail.bytes()).unwrap();
        text.replacen(
            &format!("Subject: {} {}", mail.method, mail.uid),
            &format!("Subject: {s}"),
            1,
        )
        .into_bytes()
    };
    deliver(
        &server,
        &subject(&Mail::request("n-1@example.org"), "plain"),
        "",
    );
    deliver(
        &server,
        &subject(&Mail::request("n-2@example.org"), "uri"),
        "",
    );
    // updatecal never adds: n-3 is unknown.
    deliver(
        &server,
        &subject(&Mail::request("n-3@example.org"), "update-plain"),
        "",
    );
    settled(&server);
    let list = events(&server);
    let line = |uid: &str| list.lines().find(|l| l.contains(uid)).map(str::to_string);
    assert!(
        line("n-1@").is_some_and(|l| l.starts_with("work")),
        "{list}"
    );
    assert!(
        line("n-2@").is_some_and(|l| l.starts_with("default")),
        "{list}"
    );
    assert!(line("n-3@").is_none(), "{list}");
    for (uid, s) in [
        ("n-1@example.org", "update-plain"),
        ("n-2@example.org", "update-uri"),
    ] {
        let update = Mail {
            sequence: 1,
            ..Mail::request(uid)
        };
        deliver(&server, &subject(&update, s), "");
    }
    settled(&server);
    let list = events(&server);
    for uid in ["n-1@", "n-2@"] {
        let l = list.lines().find(|l| l.contains(uid)).unwrap_or_default();
        assert!(l.contains("Planning 1"), "{uid}: {list}");
    }
}

#[test]
fn explain_tells_why_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    bob_only(dir.path());
    let mail = dir.path().join("invite.eml");
    std::fs::write(&mail, Mail::request("e-1@example.org").bytes()).unwrap();
    let (code, out, err) = cli_env(
        dir.path(),
        &["itip", "explain", mail.to_str().unwrap(), "--user", BOB],
        &[("IMIPD_HOSTNAME", "mx.test")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("authenticated: yes"), "{err}");
    assert!(err.contains("UID e-1@example.org"), "{err}");
    assert!(
        out.is_empty(),
        "a stranger's invitation is not applied by default: {out}"
    );
    must(dir.path(), &["contacts", "add", BOB, "alice@example.org"]);
    let (code, out, err) = cli_env(
        dir.path(),
        &["itip", "explain", mail.to_str().unwrap(), "--user", BOB],
        &[("IMIPD_HOSTNAME", "mx.test")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("outcome: added"), "{err}");
    assert!(
        out.contains("BEGIN:VCALENDAR") && out.contains("e-1@example.org"),
        "{out}"
    );
    assert!(
        !must(dir.path(), &["events", "list", BOB]).contains("e-1@"),
        "explain wrote"
    );
}

#[test]
fn redirect_goes_to_the_outbox_and_keep_still_stores() {
    let server = Imipd::start(bob_only, &[]);
    let script = "require [\"copy\"];\nif header :contains \"subject\" \"fwd\" { redirect :copy \"carol@example.net\"; }\n";
    let (code, _, err) = set_script(server.data(), script);
    assert_eq!(code, 0, "{err}");
    deliver(
        &server,
        b"From: alice@example.org\r\nSubject: fwd this\r\n\r\nhello\r\n",
        "",
    );
    deliver(
        &server,
        b"From: alice@example.org\r\nSubject: other\r\n\r\nhello\r\n",
        "",
    );
    let store = imipd_store::SqliteStore::open(server.data().join("imipd.sqlite3")).unwrap();
    let filter = imipd_store::JobFilter {
        limit: 10,
        ..Default::default()
    };
    let mails = imipd_store::Store::mails(&store, &filter).unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_to, ["carol@example.net"]);
    assert_eq!(mails[0].purpose, "redirect");
    let data = String::from_utf8_lossy(&mails[0].data);
    assert!(data.contains("Subject: fwd this"), "{data}");
}

#[test]
fn a_folder_name_maildir_cannot_hold_falls_back_to_the_inbox() {
    let server = Imipd::start(bob_only, &[]);
    let script = "require [\"fileinto\", \"mailbox\"];\nfileinto :create \"../../escape\";\n";
    let (code, _, err) = set_script(server.data(), script);
    assert_eq!(code, 0, "{err}");
    deliver(
        &server,
        b"From: alice@example.org\r\nSubject: hi\r\n\r\nhello\r\n",
        "",
    );
    assert!(!server.data().join("mail/escape").exists());
    assert!(
        server.log_text().contains("delivering to INBOX"),
        "{}",
        server.log_text()
    );
}
