//! The README's "Run it for real", done as an admin does it: a real Postfix (contrib/postfix/)
//! hands mail to imipd over LMTP, imipd stores it in its Maildir, and a real Dovecot IMAP
//! (contrib/dovecot/) serves that Maildir to users who log in with their imipd password.
//! imipd and Dovecot run as one unprivileged system user, imipd from a config file, as the
//! systemd unit (contrib/imipd.service, checked with `systemd-analyze verify`) runs it.
//!
//! Needs root (Postfix and Dovecot start as root and drop privileges) and Debian's
//! `postfix` and `dovecot-imapd`; `scripts/test.sh` installs them. Under plain `cargo test`
//! without them the tests say so and skip.

mod common;

use common::itip::Mail;
use common::mta::*;
use common::*;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const PASSWORD: &str = "correct horse";
const FOLDER: &str = "Calendar/Invitations";
/// That folder in the Maildir++ tree (`messages` reads `.<name>`).
const FOLDER_DIR: &str = "Calendar.Invitations";

fn skip_reason() -> Option<&'static str> {
    if !is_root() {
        Some("needs root: Postfix and Dovecot start as root")
    } else if !Postfix::available() {
        Some("Postfix is not installed (Debian: postfix; scripts/test.sh installs it)")
    } else if !Dovecot::available(&["imap", "imap-login", "checkpassword-reply"]) {
        Some("Dovecot IMAP is not installed (Debian: dovecot-imapd; scripts/test.sh installs it)")
    } else if !Path::new("/etc/dovecot/private/dovecot.pem").exists() {
        Some("Dovecot's TLS certificate /etc/dovecot/private/dovecot.pem is missing")
    } else {
        None
    }
}

/// imipd as the admin runs it: from a config file, as the system user.
struct Imipd {
    config: PathBuf,
    data: PathBuf,
    lmtp: SocketAddr,
    serve: Option<Child>,
    log: PathBuf,
}

impl Imipd {
    fn new(root: &Path) -> Imipd {
        let (_, _, uid, gid) = system_user();
        let data = root.join("imipd");
        std::fs::create_dir_all(&data).unwrap();
        chown(&data, uid, gid);
        let lmtp = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = root.join("imipd.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nhostname = \"mx.test\"\n[lmtp]\nlisten = \"{lmtp}\"\n\
                 [http]\nlisten = \"127.0.0.1:{}\"\n",
                data.display().to_string(),
                free_port()
            ),
        )
        .unwrap();
        Imipd {
            config,
            data,
            lmtp,
            serve: None,
            log: root.join("imipd.log"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let (_, _, uid, gid) = system_user();
        let mut command = Command::new(bin());
        command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_clear()
            .uid(uid)
            .gid(gid);
        command
    }

    fn run(&self, args: &[&str], stdin: &str) -> String {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "imipd {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn serve(&mut self) {
        let child = self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&self.log).unwrap())
            .spawn()
            .unwrap();
        self.serve = Some(child);
        wait_for_listen(&self.log, "lmtp listening on");
    }

    fn maildir(&self, user: &str) -> PathBuf {
        self.data.join("mail").join(user).join("Maildir")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Imipd {
    fn drop(&mut self) {
        if let Some(child) = &mut self.serve {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Postfix with contrib/postfix/ added to its configuration, as the README says.
fn postfix(root: &Path, imipd: &Imipd) -> Postfix {
    let dir = root.join("postfix");
    let checks = dir.join("etc/imipd_header_checks");
    let stand_in = dir.join("etc/dmarc_stand_in");
    let main = subst(
        &contrib("postfix/main.cf"),
        &[
            ("127.0.0.1:2424", &imipd.lmtp.to_string()),
            (
                "regexp:/etc/postfix/imipd_header_checks",
                // The test's stand-in for a DMARC milter comes after the recipe's own table.
                &format!("regexp:{}, regexp:{}", checks.display(), stand_in.display()),
            ),
        ],
    );
    let checks_text = subst(
        &contrib("postfix/imipd_header_checks"),
        &[("mx\\.example\\.org", "mx\\.test")],
    );
    // What OpenDMARC would add after verifying alice@example.org's mail; nothing vouches
    // for anyone else.
    let dmarc = "/^From:.*<alice@example\\.org>/ PREPEND Authentication-Results: mx.test; \
                 dmarc=pass header.from=example.org\n"
        .to_string();
    Postfix::start(
        &dir,
        &main,
        &contrib("postfix/master.cf"),
        &[
            ("imipd_header_checks", checks_text),
            ("dmarc_stand_in", dmarc),
        ],
    )
}

/// Dovecot on contrib/dovecot/dovecot.conf, with this machine's paths, user and port.
fn dovecot(root: &Path, imipd: &Imipd) -> (Dovecot, SocketAddr) {
    let (user, group, _, _) = system_user();
    let port = free_port();
    let dir = root.join("dovecot");
    let data = imipd.data.display().to_string();
    let checker = format!("{} --config {}", bin(), imipd.config.display());
    let config = subst(
        &contrib("dovecot/dovecot.conf"),
        &[
            ("listen = *, ::", "listen = 127.0.0.1"),
            ("port = 143", &format!("port = {port}")),
            ("port = 993", "port = 0"),
            (
                "/usr/local/bin/imipd --config /etc/imipd/imipd.toml",
                &checker,
            ),
            ("uid=imipd gid=imipd", &format!("uid={user} gid={group}")),
            ("/var/lib/imipd", &data),
            ("user = imipd", &format!("user = {user}")),
        ],
    );
    let dovecot = Dovecot::start(&dir, &config, port);
    (dovecot, SocketAddr::from(([127, 0, 0, 1], port)))
}

struct Site {
    imipd: Imipd,
    postfix: Postfix,
    dovecot: Dovecot,
    imap: SocketAddr,
    _root: tempfile::TempDir,
}

impl Site {
    fn start() -> Site {
        let root = tempfile::tempdir().unwrap();
        // Postfix and the system user must reach their files below it.
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut imipd = Imipd::new(root.path());
        imipd.run(
            &[
                "user",
                "add",
                "bob@example.org",
                "--password-stdin",
                "--alias",
                "robert@example.org",
            ],
            &format!("{PASSWORD}\n"),
        );
        for contact in ["alice@example.org", "mallory@example.org"] {
            imipd.run(&["contacts", "add", "bob@example.org", contact], "");
        }
        imipd.run(
            &[
                "prefs",
                "set",
                "bob@example.org",
                &format!("file_into={FOLDER}"),
            ],
            "",
        );
        imipd.serve();
        let postfix = postfix(root.path(), &imipd);
        let (dovecot, imap) = dovecot(root.path(), &imipd);
        Site {
            imipd,
            postfix,
            dovecot,
            imap,
            _root: root,
        }
    }

    fn logs(&self) -> String {
        format!(
            "--- imipd\n{}\n--- postfix\n{}\n--- dovecot\n{}",
            self.imipd.log_text(),
            self.postfix.log_text(),
            self.dovecot.log_text()
        )
    }

    /// Sends through Postfix and waits until imipd has stored `count` messages in `folder`.
    fn send(&self, from: &str, to: &str, message: &[u8], folder: &str, count: usize) {
        let (rcpt, queued) = smtp_send(self.postfix.smtp, from, &[to], message);
        assert!(
            rcpt[0].starts_with("250") && queued.as_deref().is_some_and(|q| q.starts_with("250")),
            "Postfix refused mail to {to}: {rcpt:?} {queued:?}\n{}",
            self.logs()
        );
        let maildir = self.imipd.maildir("bob@example.org");
        wait_until(
            30,
            &format!("mail to {to} did not reach {folder:?}"),
            || messages(&maildir, folder).len() >= count,
            &|| self.logs(),
        );
    }

    fn events(&self) -> String {
        self.imipd.run(&["events", "list", "bob@example.org"], "")
    }
}

fn imap_login(site: &Site, login: &str, password: &str) -> (Wire, String) {
    let mut c = Wire::connect(site.imap);
    let greeting = c.line();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let reply = c.imap("a1", &format!("LOGIN \"{login}\" \"{password}\""));
    (c, reply)
}

/// The top-level groups of a THREAD answer: "((1)(2)(3))(4)" → ["(1)(2)(3)", "4"].
fn threads(answer: &str) -> Vec<String> {
    let line = answer
        .lines()
        .find_map(|l| l.strip_prefix("* THREAD "))
        .unwrap_or_else(|| panic!("no THREAD answer: {answer}"));
    let (mut groups, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in line.trim().chars() {
        match (c, depth) {
            ('(', 0) => depth = 1,
            (')', 1) => {
                depth = 0;
                groups.push(std::mem::take(&mut current));
            }
            ('(', _) => {
                depth += 1;
                current.push(c);
            }
            (')', _) => {
                depth -= 1;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    groups
}

fn uids_in(group: &str) -> Vec<u32> {
    group
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn postfix_imipd_maildir_dovecot_as_the_readme_sets_them_up() {
    if let Some(reason) = skip_reason() {
        println!("real Postfix + Dovecot test skipped: {reason}");
        return;
    }
    let site = Site::start();

    // 1. Postfix refuses unknown recipients at RCPT, asking imipd: no bounce to send later.
    let cases = [
        ("nobody@example.org", "550 5.1.1"),
        ("bob@example.org", "250"),
        ("ROBERT@Example.org", "250"),
        ("bob+lists@example.org", "250"),
        ("someone@elsewhere.example", "Relay access denied"),
    ];
    for (to, expected) in cases {
        let (rcpt, _) = smtp_send(site.postfix.smtp, "carol@example.net", &[to], b"");
        assert!(
            rcpt[0].starts_with(expected) || rcpt[0].contains(expected),
            "RCPT TO:<{to}>: expected {expected}, got {rcpt:?}\n{}",
            site.logs()
        );
    }
    assert!(
        !site.postfix.log_text().contains("status=bounced"),
        "nothing was accepted and bounced:\n{}",
        site.logs()
    );

    // 2. An invitation, its update and its cancellation as Google and Outlook send them:
    //    three Subjects, no References. They land in the folder bob's preferences name.
    let uid = "planning-2030@example.org";
    let sent = [
        ("Invitation: Planning @ Sat Jan 5, 2030", Mail::request(uid)),
        (
            "Updated invitation: Planning @ Sat Jan 5, 2030",
            Mail {
                sequence: 1,
                ..Mail::request(uid)
            },
        ),
        ("Canceled: Planning @ Sat Jan 5, 2030", Mail::cancel(uid, 2)),
    ];
    for (i, (subject, mail)) in sent.into_iter().enumerate() {
        let mail = Mail {
            subject: Some(subject),
            auth: None,
            ..mail
        };
        site.send(
            "alice@example.org",
            "bob@example.org",
            &mail.bytes(),
            FOLDER_DIR,
            i + 1,
        );
        // The next one waits until this one reached the calendar, as real mail would.
        let expected = if i < 2 {
            format!("Planning {}", mail.sequence)
        } else {
            "CANCELLED".into()
        };
        wait_until(
            30,
            &format!("{subject:?} did not reach the calendar"),
            || site.events().contains(&expected),
            &|| site.logs(),
        );
    }

    // 3. A forged Authentication-Results claiming this host: Postfix strips it, so the
    //    invitation of mallory (a contact, but not vouched for) is not applied.
    let forged = Mail {
        from: "mallory@example.org",
        ..Mail::request("forged@example.org")
    };
    assert!(
        String::from_utf8_lossy(&forged.bytes())
            .starts_with("Authentication-Results: mx.test; dmarc=pass"),
        "the forgery claims this host"
    );
    site.send(
        "mallory@example.org",
        "bob@example.org",
        &forged.bytes(),
        FOLDER_DIR,
        4,
    );
    let stored = messages(&site.imipd.maildir("bob@example.org"), FOLDER_DIR);
    let via_postfix = stored.last().unwrap();
    assert!(
        header_values(via_postfix, "Authentication-Results").is_empty(),
        "the forged header is gone: {via_postfix}"
    );
    let outcome = header_values(via_postfix, "X-Imipd-Cal-Outcome").join(" ");
    assert!(
        outcome.starts_with("no_action") && outcome.contains("not authenticated"),
        "{outcome}"
    );
    // The same forgery handed straight to imipd would have worked: the recipe is what stops it.
    let direct = Mail {
        from: "mallory@example.org",
        ..Mail::request("forged-direct@example.org")
    };
    let (_, data) = Lmtp::connect(site.imipd.lmtp).deliver(
        "mallory@example.org",
        &["bob@example.org"],
        &direct.bytes(),
    );
    assert!(data[0].starts_with("250"), "{data:?}");
    wait_until(
        30,
        "the control did not reach the calendar",
        || site.events().contains("forged-direct@"),
        &|| site.logs(),
    );
    assert!(
        !site.events().contains("forged@example.org"),
        "{}",
        site.events()
    );

    // 4. Plain mail to the alias, in INBOX with the address it was sent to.
    site.send(
        "carol@example.net",
        "robert@example.org",
        b"From: carol@example.net\r\nSubject: lunch?\r\n\r\nTomorrow?\r\n",
        "",
        1,
    );

    // 5. Dovecot IMAP: imipd's password, whatever address or case the login uses, opens
    //    bob's one Maildir; everything else is refused.
    let logins = [
        ("bob@example.org", PASSWORD, true),
        ("ROBERT@Example.org", PASSWORD, true),
        ("bob@example.org", "wrong", false),
        ("nobody@example.org", PASSWORD, false),
    ];
    for (login, password, ok) in logins {
        let (mut c, reply) = imap_login(&site, login, password);
        let tagged = reply.lines().last().unwrap_or_default();
        assert_eq!(
            tagged.starts_with("a1 OK"),
            ok,
            "LOGIN {login} / {password}: {reply}\n{}",
            site.logs()
        );
        if !ok {
            continue;
        }
        let inbox = c.imap("a2", "SELECT INBOX");
        assert!(inbox.contains("* 1 EXISTS"), "{login}: {inbox}");
        let fetched = c.imap(
            "a3",
            "FETCH 1 BODY.PEEK[HEADER.FIELDS (RETURN-PATH DELIVERED-TO SUBJECT)]",
        );
        for expected in [
            "Return-Path: <carol@example.net>",
            "Delivered-To: robert@example.org",
            "Subject: lunch?",
        ] {
            assert!(
                fetched.contains(expected),
                "{login}: FETCH lacks {expected:?}: {fetched}"
            );
        }
        // The folder imipd created for bob's preference is subscribed.
        let lsub = c.imap("a4", "LSUB \"\" \"*\"");
        let subscribed = c.imap("a5", "LIST (SUBSCRIBED) \"\" \"*\"");
        for answer in [&lsub, &subscribed] {
            assert!(
                answer.contains(&format!("\"/\" {FOLDER}\r\n")),
                "{login}: {answer}"
            );
        }
        let select = c.imap("a6", &format!("SELECT {FOLDER}"));
        assert!(select.contains("* 5 EXISTS"), "{login}: {select}");
        let thread = c.imap("a7", "UID THREAD REFERENCES UTF-8 ALL");
        let groups = threads(&thread);
        let with_uid: Vec<Vec<u32>> = groups.iter().map(|g| uids_in(g)).collect();
        assert_eq!(
            with_uid,
            [vec![1, 2, 3], vec![4], vec![5]],
            "{login}: invitation, update and cancellation form one thread, the other two their own: {thread}"
        );
        let _ = c.imap("a8", "LOGOUT");
    }
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    if !Path::new("/usr/bin/systemd-analyze").exists() {
        println!("systemd-analyze not found: contrib/imipd.service not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("imipd.service");
    let text = subst(
        &contrib("imipd.service"),
        &[("/usr/local/bin/imipd", bin())],
    );
    std::fs::write(&unit, text).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && complaints.trim().is_empty(),
        "systemd-analyze verify: {complaints}"
    );
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    assert!(
        security.status.success(),
        "exposure above 2.0 (of 10): {report}{}",
        String::from_utf8_lossy(&security.stderr)
    );
}
