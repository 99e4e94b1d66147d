//! The command line as an admin meets it: which commands may create a database, one
//! wording for an unknown user (naming the database), refusals that exit 1, calendars, and
//! `imipd auth check` speaking Dovecot's checkpassword protocol.

mod common;

use common::*;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

fn bob(dir: &Path) {
    must(
        dir,
        &[
            "user",
            "add",
            "bob@example.org",
            "--password",
            "s3cret",
            "--alias",
            "robert@example.org",
        ],
    );
    must(dir, &["user", "add", "nopass@example.org"]);
}

#[test]
fn only_serve_and_user_add_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("imipd.sqlite3");
    let read_only: &[&[&str]] = &[
        &["user", "list"],
        &["jobs", "list"],
        &["mail", "list"],
        &["events", "list", "bob@example.org"],
        &["contacts", "list", "bob@example.org"],
        &["calendars", "list", "bob@example.org"],
        &["prefs", "show", "bob@example.org"],
        &["sieve", "show", "bob@example.org"],
        &["contacts", "add", "bob@example.org", "alice@example.org"],
        &["contacts", "export", "bob@example.org"],
        &["contacts", "import", "bob@example.org", "book.vcf"],
    ];
    for args in read_only {
        let (code, _, err) = cli(&data, args);
        let expected = format!("no database at {}", db.display());
        assert!(
            code == 1 && err.contains(&expected),
            "imipd {args:?} without a database: expected exit 1 and {expected:?}, got {code}: {err}"
        );
        assert!(!data.exists(), "imipd {args:?} created {}", data.display());
    }
    must(&data, &["user", "add", "bob@example.org"]);
    assert!(db.is_file(), "user add creates the database");
}

#[test]
fn an_unknown_user_is_one_message_naming_the_database() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let expected = format!(
        "no such user nobody@example.org in {} (see `imipd user list`)",
        dir.path().join("imipd.sqlite3").display()
    );
    let cases: &[&[&str]] = &[
        &["user", "del", "nobody@example.org"],
        &["user", "alias-add", "nobody@example.org", "x@example.org"],
        &["user", "alias-del", "nobody@example.org", "x@example.org"],
        &["jobs", "list", "--user", "nobody@example.org"],
        &["events", "list", "nobody@example.org"],
        &["contacts", "add", "nobody@example.org", "alice@example.org"],
        &["contacts", "list", "nobody@example.org"],
        &["contacts", "del", "nobody@example.org", "alice@example.org"],
        &["contacts", "import", "nobody@example.org", "book.vcf"],
        &["contacts", "export", "nobody@example.org"],
        &["calendars", "list", "nobody@example.org"],
        &["calendars", "add", "nobody@example.org", "work"],
        &["calendars", "rename", "nobody@example.org", "work", "Work"],
        &["calendars", "default", "nobody@example.org", "work"],
        &["calendars", "del", "nobody@example.org", "work"],
        &["prefs", "show", "nobody@example.org"],
        &["sieve", "check", "nobody@example.org"],
        &["events", "rsvp", "nobody@example.org", "uid", "accepted"],
    ];
    for args in cases {
        let (code, out, err) = cli(dir.path(), args);
        assert!(
            code == 1 && err.trim() == format!("imipd: {expected}"),
            "imipd {args:?}: expected exit 1 and {expected:?}, got {code}: {out}{err}"
        );
    }
}

#[test]
fn refusals_exit_1_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    // (arguments, exit code, words of the output)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["user", "alias-del", "bob@example.org", "bob@example.org"],
            1,
            "bob@example.org is not an alias of bob@example.org (its aliases: robert@example.org); nothing removed",
        ),
        (
            &["user", "alias-del", "bob@example.org", "rob@example.org"],
            1,
            "not an alias",
        ),
        (
            &[
                "user",
                "alias-del",
                "ROBERT@example.org",
                "Robert@Example.org",
            ],
            0,
            "removed alias robert@example.org from bob@example.org",
        ),
        (
            &["user", "alias-del", "bob@example.org", "robert@example.org"],
            1,
            "(its aliases: none)",
        ),
        (
            &["jobs", "list", "--user", "BOB@example.org"],
            0,
            "no jobs for bob@example.org",
        ),
        (
            &["jobs", "list", "--state", "later"],
            1,
            "use held, queued, running, done, dead",
        ),
        (
            &["mail", "list", "--state", "held"],
            1,
            "use queued, running, done, dead",
        ),
    ];
    for &(args, code, words) in cases {
        let (got, out, err) = cli(dir.path(), args);
        assert!(
            got == code && (out.contains(words) || err.contains(words)),
            "imipd {args:?}: expected exit {code} and {words:?}, got {got}: {out}{err}"
        );
    }
}

#[test]
fn serve_refuses_a_database_it_cannot_write_and_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let db = dir.path().join("imipd.sqlite3");
    let mut serve = Command::new(bin());
    serve
        .arg("serve")
        .env("IMIPD_DATA_DIR", dir.path())
        .env("IMIPD_LMTP_LISTEN", "127.0.0.1:0")
        .env("IMIPD_HTTP_LISTEN", "127.0.0.1:0")
        .env_remove("IMIPD_CONFIG");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // As root created it with `imipd user add`, served as the unprivileged user.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        serve.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&db, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    }
    let out = serve.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    for words in [
        "is not writable by this process".to_string(),
        format!("chown -R <that user>: {}", dir.path().display()),
    ] {
        assert!(
            out.status.code() == Some(1) && err.contains(&words),
            "expected exit 1 and {words:?}, got {:?}: {err}",
            out.status.code()
        );
    }
}

#[test]
fn calendars_are_listed_and_added() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let list = || must(dir.path(), &["calendars", "list", "robert@example.org"]);
    assert_eq!(list(), "default  \"Calendar\"  (default)\n");
    let out = must(
        dir.path(),
        &[
            "calendars",
            "add",
            "bob@example.org",
            "work",
            "--name",
            "Work",
        ],
    );
    assert!(
        out.contains("calendar \"work\" (\"Work\") created"),
        "{out}"
    );
    assert_eq!(list(), "default  \"Calendar\"  (default)\nwork  \"Work\"\n");
    // (arguments, words of the error)
    let cases: &[(&[&str], &str)] = &[
        (
            &["calendars", "add", "bob@example.org", "work"],
            "calendar \"work\" exists already",
        ),
        (
            &["calendars", "add", "bob@example.org", "no spaces"],
            "calendar ids are 1-64 characters",
        ),
    ];
    for &(args, words) in cases {
        let (code, _, err) = cli(dir.path(), args);
        assert!(
            code == 1 && err.contains(words),
            "imipd {args:?}: {code} {err}"
        );
    }
    // The new calendar is one preferences can name.
    must(
        dir.path(),
        &["prefs", "set", "bob@example.org", "calendar=work"],
    );
}

#[test]
fn calendars_are_renamed_made_default_and_deleted_with_their_events() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let list = || must(dir.path(), &["calendars", "list", "bob@example.org"]);
    must(
        dir.path(),
        &[
            "calendars",
            "add",
            "bob@example.org",
            "work",
            "--color",
            "#336699",
            "--timezone",
            "Europe/Berlin",
            "--components",
            "VEVENT",
        ],
    );
    // Two events in "work", one in the default calendar.
    let store = imipd_store::SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    let ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
    let writes = [("work", "w1"), ("work", "w2"), ("default", "d1")]
        .iter()
        .map(|(calendar, uid)| imipd_store::ObjectWrite::new_event(calendar, uid, ics))
        .collect();
    imipd_store::Store::commit(
        &store,
        &imipd_store::Batch {
            user: "bob@example.org".into(),
            writes,
            ..Default::default()
        },
    )
    .unwrap();
    let out = must(
        dir.path(),
        &[
            "calendars",
            "rename",
            "robert@example.org",
            "work",
            "Office",
        ],
    );
    assert_eq!(
        out,
        "bob@example.org: calendar \"work\" is now \"Office\"\n"
    );
    assert_eq!(
        list(),
        "default  \"Calendar\"  (default)\n\
         work  \"Office\"  color=#336699  timezone=Europe/Berlin  components=VEVENT\n"
    );
    must(
        dir.path(),
        &["prefs", "set", "bob@example.org", "calendar=work"],
    );
    // (arguments, words of the error)
    let refused: &[(&[&str], &str)] = &[
        (
            &["calendars", "del", "bob@example.org", "default"],
            "is the default calendar of bob@example.org, where new invitations go, and cannot \
             be deleted; make another calendar the default first (`imipd calendars default \
             bob@example.org ID`)",
        ),
        (
            &["calendars", "del", "bob@example.org", "work"],
            "file new invitations into calendar \"work\"; point them elsewhere first \
             (`imipd prefs set bob@example.org calendar=ID`",
        ),
        (
            &["calendars", "del", "bob@example.org", "nope"],
            "no such calendar \"nope\"",
        ),
        (
            &["calendars", "rename", "bob@example.org", "nope", "X"],
            "no such calendar \"nope\"",
        ),
        (
            &["calendars", "default", "bob@example.org", "nope"],
            "no such calendar \"nope\"",
        ),
        (
            &["calendars", "rename", "bob@example.org", "work", ""],
            "invalid calendar name",
        ),
        (
            &[
                "calendars",
                "add",
                "bob@example.org",
                "x",
                "--color",
                "blue",
            ],
            "use #RRGGBB or #RRGGBBAA",
        ),
    ];
    for &(args, words) in refused {
        let (code, out, err) = cli(dir.path(), args);
        assert!(
            code == 1 && err.contains(words),
            "imipd {args:?}: expected exit 1 and {words:?}, got {code}: {out}{err}"
        );
    }
    assert!(list().contains("work"), "refusals delete nothing");
    must(
        dir.path(),
        &["prefs", "set", "bob@example.org", "calendar="],
    );
    let out = must(dir.path(), &["calendars", "del", "bob@example.org", "work"]);
    assert_eq!(
        out,
        "bob@example.org: deleted calendar \"work\" (\"Office\") and the 2 events in it\n"
    );
    assert_eq!(list(), "default  \"Calendar\"  (default)\n");
    let events = must(dir.path(), &["events", "list", "bob@example.org"]);
    assert!(
        events.contains("d1") && !events.contains("w1") && !events.contains("w2"),
        "{events}"
    );
    // Another calendar as the default: the old one can go.
    must(dir.path(), &["calendars", "add", "bob@example.org", "home"]);
    let out = must(
        dir.path(),
        &["calendars", "default", "bob@example.org", "home"],
    );
    assert_eq!(
        out,
        "bob@example.org: new invitations go to calendar \"home\"\n"
    );
    let out = must(
        dir.path(),
        &["calendars", "del", "bob@example.org", "default"],
    );
    assert!(out.contains("and the 1 event in it"), "{out}");
    assert_eq!(list(), "home  \"home\"  (default)\n");
}

/// Runs `imipd auth check` as Dovecot does: the login on file descriptor 3, then the reply
/// program; here a shell that prints what Dovecot's checkpassword-reply would read.
fn auth_check(data: &Path, input: &[u8], env: &[(&str, &str)]) -> (i32, String) {
    let (reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(input).unwrap();
    drop(writer);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&reader);
    let mut command = Command::new(bin());
    command
        .args([
            "auth",
            "check",
            "/bin/sh",
            "-c",
            "echo \"USER=$USER AUTHORIZED=$AUTHORIZED\"",
        ])
        .env("IMIPD_DATA_DIR", data)
        .env_remove("IMIPD_CONFIG")
        .env_remove("AUTHORIZED")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: dup2 and fcntl are async-signal-safe; they only put the pipe on descriptor 3,
    // open across exec.
    unsafe {
        command.pre_exec(move || {
            let ok = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0) != -1
            } else {
                libc::dup2(fd, 3) != -1
            };
            if ok {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn auth_check_speaks_checkpassword_and_logs_aliases_in_as_the_user() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let ok = "USER=bob@example.org AUTHORIZED=";
    // (fd 3, environment, exit code, what the reply program saw)
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&[u8], Env, i32, &str)] = &[
        (b"bob@example.org\0s3cret\0", &[], 0, ok),
        (b"BOB@Example.ORG\0s3cret\0", &[], 0, ok),
        (b"robert@example.org\0s3cret\0", &[], 0, ok),
        (b"bob+imap@example.org\0s3cret\0", &[], 0, ok),
        (b"bob@example.org\0S3cret\0", &[], 1, ""),
        (b"bob@example.org\0\0", &[], 1, ""),
        (b"nobody@example.org\0s3cret\0", &[], 1, ""),
        (b"nopass@example.org\0\0", &[], 1, ""),
        (b"no-separator", &[], 2, ""),
        // A userdb lookup: no password, AUTHORIZED=1 asks whether the user exists.
        (
            b"robert@example.org\0\0",
            &[("AUTHORIZED", "1")],
            0,
            "USER=bob@example.org AUTHORIZED=2",
        ),
        (b"nobody@example.org\0\0", &[("AUTHORIZED", "1")], 3, ""),
        // Challenge-response needs the plain password, which imipd does not keep.
        (
            b"bob@example.org\0\0",
            &[("AUTHORIZED", "1"), ("CREDENTIALS_LOOKUP", "1")],
            1,
            "",
        ),
    ];
    for &(input, env, code, seen) in cases {
        let got = auth_check(dir.path(), input, env);
        assert_eq!(
            got,
            (code, seen.to_string()),
            "fd 3 {:?} with {env:?}",
            String::from_utf8_lossy(input)
        );
    }
    let missing = dir.path().join("elsewhere");
    let (code, _) = auth_check(&missing, b"bob@example.org\0s3cret\0", &[]);
    assert_eq!(code, 111, "no database is a temporary failure");
    assert!(!missing.exists(), "auth check never creates a database");
}
