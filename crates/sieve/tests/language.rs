//! The Sieve language as imipd runs it: actions, tests, notify, limits, errors.

mod common;

use common::*;
use imipd_sieve::{CalendarJob, Delivery, compile, run};

fn plain_msg() -> Vec<u8> {
    plain(
        "someone@example.net",
        "Weekly report",
        "X-Spam-Flag: NO\r\n",
    )
}

#[test]
fn no_script_is_implicit_keep() {
    let r = run(
        None,
        &plain_msg(),
        &envelope(),
        &facts(),
        &FakeHost::default(),
    );
    assert_eq!(folders(&r), ["INBOX"]);
    assert!(r.redirects.is_empty() && r.calendar_jobs.is_empty() && r.outcome.is_none());
}

#[test]
fn keep_discard_stop_and_if_chains() {
    let host = FakeHost::default();
    let msg = plain_msg();
    let f = facts();
    assert_eq!(folders(&run_with("keep;", &msg, &f, &host)), ["INBOX"]);
    assert!(run_with("discard;", &msg, &f, &host).deliveries.is_empty());
    assert_eq!(
        folders(&run_with("stop; discard;", &msg, &f, &host)),
        ["INBOX"]
    );
    let chain = "require \"fileinto\";\n\
                 if header :is \"Subject\" \"nope\" { fileinto \"A\"; }\n\
                 elsif anyof (false, header :contains \"subject\" \"REPORT\") { fileinto \"B\"; }\n\
                 else { fileinto \"C\"; }\n";
    assert_eq!(folders(&run_with(chain, &msg, &f, &host)), ["B"]);
    let octet = "require [\"fileinto\", \"comparator-i;octet\"];\n\
                 if header :contains :comparator \"i;octet\" \"Subject\" \"REPORT\" { fileinto \"X\"; }\n";
    assert_eq!(folders(&run_with(octet, &msg, &f, &host)), ["INBOX"]);
}

#[test]
fn match_types_address_envelope_exists_size_body() {
    let host = FakeHost::default();
    let msg = plain_msg();
    let f = facts();
    let cases = [
        ("address :domain :is \"From\" \"example.net\"", true),
        ("address :localpart :matches \"From\" \"some*\"", true),
        ("envelope :all :is \"to\" \"bob@example.org\"", true),
        ("envelope :domain :is \"from\" \"example.org\"", true),
        ("exists [\"Subject\", \"To\"]", true),
        ("exists \"X-Nope\"", false),
        ("size :under 10K", true),
        ("size :over 10K", false),
        ("body :contains \"hello there\"", true),
        ("not true", false),
        ("allof (true, false)", false),
        ("header :matches \"Subject\" \"*report\"", true),
        (
            "header :count \"ge\" :comparator \"i;ascii-numeric\" \"Subject\" \"1\"",
            true,
        ),
    ];
    for (test, expected) in cases {
        let source = format!(
            "require [\"fileinto\", \"envelope\", \"body\", \"relational\", \"comparator-i;ascii-numeric\"];\n\
             if {test} {{ fileinto \"Hit\"; }}\n"
        );
        let hit = folders(&run_with(&source, &msg, &f, &host)) == ["Hit"];
        assert_eq!(hit, expected, "{test}");
    }
}

#[test]
fn date_and_variables_with_match_groups() {
    let host = FakeHost::default();
    let msg = plain(
        "someone@example.net",
        "list-x: news",
        "Date: Tue, 06 Jan 2026 10:00:00 +0000\r\n",
    );
    let r = run_with(
        "require [\"fileinto\", \"variables\", \"date\"];\n\
         if header :matches \"Subject\" \"*: *\" { set :upper \"tag\" \"${1}\"; }\n\
         if date :is \"Date\" \"year\" \"2026\" { fileinto \"Lists/${tag}\"; }\n",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(folders(&r), ["Lists/LIST-X"]);
}

#[test]
fn fileinto_create_and_mailboxexists() {
    let host = FakeHost::default();
    let msg = plain_msg();
    let r = run_with(
        "require [\"fileinto\", \"mailbox\"];\nfileinto :create \"New/Folder\";\n",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(
        r.deliveries,
        [Delivery {
            folder: Some("New/Folder".into()),
            flags: vec![],
            create: true
        }]
    );
    let source = "require [\"fileinto\", \"mailbox\"];\n\
                  if mailboxexists \"Archive\" { fileinto \"Archive\"; }\n\
                  if mailboxexists [\"Archive\", \"Missing\"] { fileinto \"Wrong\"; }\n";
    assert_eq!(
        folders(&run_with(source, &msg, &facts(), &host)),
        ["Archive"]
    );
    let inbox = "require \"fileinto\";\nfileinto \"inbox\";";
    assert_eq!(folders(&run_with(inbox, &msg, &facts(), &host)), ["INBOX"]);
}

#[test]
fn imap4flags_on_keep_fileinto_and_global() {
    let host = FakeHost::default();
    let msg = plain_msg();
    let r = run_with(
        "require [\"fileinto\", \"imap4flags\"];\n\
         setflag \"\\\\Seen\";\naddflag [\"$Work\", \"\\\\Flagged\"];\nremoveflag \"\\\\Flagged\";\n\
         fileinto :flags \"$Own\" \"Reports\";\nkeep;\n",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(
        r.deliveries,
        [
            Delivery {
                folder: Some("Reports".into()),
                flags: vec!["$Own".into()],
                create: false
            },
            Delivery {
                folder: None,
                flags: vec!["\\Seen".into(), "$Work".into()],
                create: false
            },
        ]
    );
    let r = run_with(
        "require \"imap4flags\";\nkeep :flags [\"a\", \"b\"];",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(r.deliveries[0].flags, ["a", "b"]);
}

#[test]
fn redirect_cancels_keep_and_copy_does_not() {
    let host = FakeHost::default();
    let msg = plain_msg();
    let r = run_with("redirect \"alice@example.com\";", &msg, &facts(), &host);
    assert_eq!(r.redirects, ["alice@example.com"]);
    assert!(r.deliveries.is_empty());
    let r = run_with(
        "require \"copy\";\nredirect :copy \"alice@example.com\";",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(r.redirects, ["alice@example.com"]);
    assert_eq!(folders(&r), ["INBOX"]);
}

#[test]
fn redirect_of_mail_with_many_received_headers() {
    let received =
        "Received: from relay.example.net by mx.example.org; Tue, 6 Jan 2026 10:00:00 +0000\r\n"
            .repeat(15);
    let msg = plain("someone@example.net", "hops", &received);
    let r = run_with(
        "redirect \"alice@example.com\";",
        &msg,
        &facts(),
        &FakeHost::default(),
    );
    assert_eq!(r.redirects, ["alice@example.com"]);
}

#[test]
fn redirects_are_capped() {
    let host = FakeHost::default();
    let source: String = (0..8)
        .map(|i| format!("redirect :copy \"r{i}@example.com\";\n"))
        .collect();
    let r = run_with(
        &format!("require \"copy\";\n{source}"),
        &plain_msg(),
        &facts(),
        &host,
    );
    assert_eq!(r.redirects.len(), imipd_sieve::MAX_REDIRECTS);
}

#[test]
fn notify_addcal_and_updatecal_in_both_syntaxes() {
    let host = FakeHost::default();
    let msg = invitation("friend@example.org", "Auto-Submitted: auto-generated\r\n");
    let cases = [
        (
            "notify :method \"addcal\" :options [\"calendarId\", \"work\"];",
            CalendarJob::AddCal {
                calendar_id: Some("work".into()),
            },
        ),
        (
            "notify \"addcal:\";",
            CalendarJob::AddCal { calendar_id: None },
        ),
        (
            "notify :options [\"calendarId=work\"] \"ADDCAL:\";",
            CalendarJob::AddCal {
                calendar_id: Some("work".into()),
            },
        ),
        (
            "notify \"addcal:?calendarId=default\";",
            CalendarJob::AddCal {
                calendar_id: Some("default".into()),
            },
        ),
        ("notify :method \"updatecal\";", CalendarJob::UpdateCal),
        ("notify \"updatecal:\";", CalendarJob::UpdateCal),
    ];
    for (command, job) in cases {
        let r = run_with(
            &format!("require \"enotify\";\n{command}\n"),
            &msg,
            &facts(),
            &host,
        );
        assert_eq!(r.errors, Vec::<String>::new(), "{command}");
        assert_eq!(r.calendar_jobs, [job], "{command}");
        assert_eq!(folders(&r), ["INBOX"], "{command}");
    }
}

#[test]
fn notify_with_variable_method_and_unknown_calendar() {
    let host = FakeHost::default();
    let msg = invitation("friend@example.org", "");
    let r = run_with(
        "require [\"enotify\", \"variables\"];\nset \"m\" \"updatecal\";\nnotify :method \"${m}:\";\n",
        &msg,
        &facts(),
        &host,
    );
    assert_eq!(r.calendar_jobs, [CalendarJob::UpdateCal]);
    let r = run_with(
        "require \"enotify\";\nnotify :method \"addcal\" :options [\"calendarId\", \"nope\"];",
        &msg,
        &facts(),
        &host,
    );
    assert!(r.calendar_jobs.is_empty());
    let outcome = r.outcome.expect("an error outcome");
    assert!(outcome.reason.contains("nope"), "{}", outcome.reason);
}

#[test]
fn other_notify_methods_are_skipped() {
    let host = FakeHost::default();
    let r = run_with(
        "require \"enotify\";\nnotify :message \"hi\" \"mailto:alice@example.com\";\n\
         notify \"xmpp:alice@example.com\";\n",
        &plain_msg(),
        &facts(),
        &host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert!(r.redirects.is_empty() && r.calendar_jobs.is_empty());
    assert_eq!(folders(&r), ["INBOX"]);
}

#[test]
fn extlists_contacts() {
    let host = FakeHost::default();
    let source = "require [\"fileinto\", \"extlists\"];\n\
                  if address :all :list \"From\" \":addrbook:Default\" { fileinto \"Friends\"; }\n";
    let friend = plain("Friend <friend@example.org>", "hi", "");
    let stranger = plain("stranger@example.net", "hi", "");
    assert_eq!(
        folders(&run_with(source, &friend, &facts(), &host)),
        ["Friends"]
    );
    assert_eq!(
        folders(&run_with(source, &stranger, &facts(), &host)),
        ["INBOX"]
    );
    let short = source.replace(":addrbook:Default", "addrbook:Default");
    assert_eq!(
        folders(&run_with(&short, &friend, &facts(), &host)),
        ["Friends"]
    );
}

#[test]
fn spamtest_and_environment_reflect_the_facts() {
    let host = FakeHost::default();
    let source = "require [\"fileinto\", \"spamtest\", \"relational\", \"comparator-i;ascii-numeric\", \"environment\"];\n\
                  if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"10\" { fileinto \"Junk\"; stop; }\n\
                  if environment :is \"vnd.imipd.sender-authenticated\" \"no\" { fileinto \"Unverified\"; }\n";
    let msg = plain_msg();
    let mut f = facts();
    assert_eq!(folders(&run_with(source, &msg, &f, &host)), ["INBOX"]);
    f.spam = true;
    assert_eq!(folders(&run_with(source, &msg, &f, &host)), ["Junk"]);
    f.spam = false;
    f.authenticated = false;
    assert_eq!(folders(&run_with(source, &msg, &f, &host)), ["Unverified"]);
}

#[test]
fn runtime_error_means_inbox_only() {
    let host = FakeHost::default();
    let mut source =
        String::from("require \"fileinto\";\nredirect \"x@example.com\";\nfileinto \"A\";\n");
    for _ in 0..imipd_sieve::MAX_INSTRUCTIONS {
        source.push_str("keep;\n");
    }
    let r = run_with(&source, &plain_msg(), &facts(), &host);
    assert!(
        !r.errors.is_empty(),
        "the instruction limit must stop the run"
    );
    assert_eq!(folders(&r), ["INBOX"]);
    assert!(r.redirects.is_empty());
}

#[test]
fn compile_errors_name_line_and_column() {
    let cases: [(&str, (usize, usize), &str); 6] = [
        ("keep;\n  frobnicate;\n", (2, 3), "frobnicate"),
        ("if true {\n  keep;\n", (1, 7), "nterminated"),
        ("require \"vacation\";\nkeep;", (1, 9), "not supported"),
        ("keep;\nfileinto \"x\";", (2, 1), "fileinto"),
        (
            "require \"enotify\";\n\n   notify :method \"addcal\" :options [\"a\" 5];",
            (3, 42),
            "expected ',' or ']'",
        ),
        (
            "require \"fileinto\";\nif header :is \"Subject\" \"a\" {\n  fileinto;\n}",
            (3, 11),
            "",
        ),
    ];
    let cases = cases.into_iter().chain([
        ("# café ☕\nkeep; frobnicate;", (2, 7), "frobnicate"),
        (
            "require \"fileinto\";\nfileinto \"Büro\"; fileinto 7;",
            (2, 27),
            "",
        ),
    ]);
    for (source, (line, column), needle) in cases {
        let e = compile(source).expect_err(source);
        assert_eq!((e.line, e.column), (line, column), "{source:?}: {e}");
        assert!(e.message.contains(needle), "{source:?}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("line {line}, column {column}: "))
        );
    }
}

#[test]
fn internal_extensions_are_not_for_users() {
    let e = compile("require \"vnd.stalwart.expressions\";\nlet \"x\" \"imipd_outcome()\";")
        .unwrap_err();
    assert_eq!((e.line, e.column), (1, 9));
}

#[test]
fn script_is_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<imipd_sieve::Script>();
    let s = std::sync::Arc::new(script("keep;"));
    let t = std::thread::spawn(move || {
        run(
            Some(&s),
            b"Subject: x\r\n\r\nbody",
            &envelope(),
            &facts(),
            &FakeHost::default(),
        )
    });
    assert_eq!(folders(&t.join().expect("thread")), ["INBOX"]);
}

#[test]
fn garbage_messages_do_not_panic() {
    let host = FakeHost::default();
    let s = script(
        "require [\"body\", \"fileinto\"];\nif body :contains \"x\" { fileinto \"X\"; }\n\
         if header :contains \"From\" \"a\" { keep; }",
    );
    for msg in [
        &b""[..],
        b"\0\0\xff\xfe",
        b"From: \r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x",
    ] {
        let r = run(Some(&s), msg, &envelope(), &facts(), &host);
        assert!(!r.deliveries.is_empty());
    }
}
