//! The web page end to end in a real browser: a real imipd (LMTP and HTTP on real sockets,
//! the outbox sending to an SMTP sink) and headless Chromium driven by
//! `tests/browser/run.mjs` (playwright-core, axe-core). The script asks this test to
//! deliver mail and to look at what reached the sink; it writes the README's screenshots to
//! `docs/screenshots/`. Skips, saying why, without Node, the npm packages or Chromium
//! (`scripts/test.sh` installs them).

mod common;
#[allow(dead_code)]
#[path = "../../worker/tests/common/smtp_sink.rs"]
mod smtp_sink;

use common::itip::Mail;
use common::*;
use smtp_sink::{Mode, SmtpSink};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BOB: &str = "bob@example.org";
const PASSWORD: &str = "correct horse battery";
const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Some(format!(
            "no node_modules in {} (run `npm ci` there, or scripts/test.sh)",
            browser_dir().display()
        ));
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_in_a_real_browser() {
    if let Some(why) = missing() {
        eprintln!("skipping the browser test: {why}");
        return;
    }
    let sink = SmtpSink::start(Mode::Up).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("imipd.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nretry_secs = [1]\n",
            sink.addr.port()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let env = [("IMIPD_CONFIG", config.as_str())];
    let run = |data: &Path, args: &[&str]| {
        let (code, out, err) = cli_env(data, args, &env);
        assert_eq!(code, 0, "imipd {args:?}: {err}");
        out
    };
    run(dir.path(), &["user", "add", BOB, "--password", PASSWORD]);
    run(dir.path(), &["contacts", "add", BOB, "alice@example.org"]);
    let server = Imipd::start_in(dir, &env);
    let http = wait_for_listen(&server.log, "http listening on");
    let data = server.data().to_path_buf();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");

    let mut script = Command::new("node")
        .arg("run.mjs")
        .current_dir(browser_dir())
        .env("IMIPD_WEB", format!("http://{http}"))
        .env("IMIPD_LOGIN", BOB)
        .env("IMIPD_PASSWORD", PASSWORD)
        .env("IMIPD_SCREENSHOTS", &shots)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node");
    let mut answers = script.stdin.take().unwrap();
    let lines = BufReader::new(script.stdout.take().unwrap()).lines();
    let mut done = false;
    for line in lines {
        let line = line.unwrap();
        println!("browser: {line}");
        if line == "done" {
            done = true;
        }
        let Some(question) = line.strip_prefix("ask: ") else {
            continue;
        };
        let answer = match question {
            "deliver contact" => {
                deliver(&server, &Mail::request("web-contact@example.org").bytes())
            }
            "reply accepted" => reply_accepted(&sink),
            "deliver stranger" => deliver(
                &server,
                &Mail {
                    from: "stranger@example.org",
                    sequence: 1,
                    ..Mail::request("web-stranger@example.org")
                }
                .bytes(),
            ),
            "stranger in calendar" => {
                let list = run(&data, &["events", "list", BOB]);
                if list.contains("web-stranger@example.org") {
                    Ok(())
                } else {
                    Err(format!("not in `imipd events list`: {list}"))
                }
            }
            "deliver series" => {
                let mail = String::from_utf8(Mail::request("web-series@example.org").bytes())
                    .unwrap()
                    .replace("SUMMARY:Planning 0", "SUMMARY:Weekly 0")
                    .replace(
                        "DTEND:20300105T110000Z\r\n",
                        "DTEND:20300105T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n",
                    );
                deliver(&server, mail.as_bytes())
            }
            "reply declined instance" => reply_declined_instance(&sink),
            "deliver script" => {
                let mail = String::from_utf8(Mail::request("web-script@example.org").bytes())
                    .unwrap()
                    .replace("SUMMARY:Planning 0", "SUMMARY:<script>alert(1)</script>")
                    .replace(
                        "STATUS:CONFIRMED",
                        "STATUS:CONFIRMED\r\nDESCRIPTION:agenda at https://example.org/<b>x</b>",
                    );
                deliver(&server, mail.as_bytes())
            }
            other => Err(format!("unknown question {other:?}")),
        };
        let text = match answer {
            Ok(()) => "ok".to_string(),
            Err(why) => format!("fail: {why}"),
        };
        writeln!(answers, "{text}").unwrap();
    }
    let status = script.wait().unwrap();
    assert!(
        status.success() && done,
        "the browser script failed ({status}); see its output above"
    );
}

fn deliver(server: &Imipd, mail: &[u8]) -> Result<(), String> {
    let (_, replies) = server.connect().deliver("mailer@example.org", &[BOB], mail);
    match replies.first() {
        Some(r) if r.starts_with("250") => Ok(()),
        other => Err(format!("LMTP said {other:?}")),
    }
}

/// A REPLY at the sink declines the series' first instance alone.
fn reply_declined_instance(sink: &SmtpSink) -> Result<(), String> {
    let mail = eventually(20, "the instance's REPLY at the SMTP sink", || {
        sink.received().into_iter().find(|m| {
            let text = String::from_utf8_lossy(&m.data);
            text.contains("METHOD:REPLY") && text.contains("UID:web-series@example.org")
        })
    });
    let text = String::from_utf8_lossy(&mail.data).replace("\r\n ", "");
    if !text.lines().any(|l| l == "RECURRENCE-ID:20300105T100000Z") {
        return Err(format!("the REPLY names no instance: {text}"));
    }
    let declined = text.lines().any(|l| {
        l.starts_with("ATTENDEE")
            && l.contains("PARTSTAT=DECLINED")
            && l.ends_with(":mailto:bob@example.org")
    });
    if !declined {
        return Err(format!("the REPLY does not decline for Bob: {text}"));
    }
    Ok(())
}

/// The REPLY at the sink answers for Bob, ACCEPTED, to the organizer.
fn reply_accepted(sink: &SmtpSink) -> Result<(), String> {
    let mail = eventually(20, "the REPLY at the SMTP sink", || {
        sink.received()
            .into_iter()
            .find(|m| String::from_utf8_lossy(&m.data).contains("METHOD:REPLY"))
    });
    let text = String::from_utf8_lossy(&mail.data).replace("\r\n ", "");
    let attendee = text
        .lines()
        .find(|l| l.starts_with("ATTENDEE"))
        .ok_or_else(|| format!("no ATTENDEE line in the REPLY: {text}"))?;
    if !attendee.contains("PARTSTAT=ACCEPTED") || !attendee.ends_with(":mailto:bob@example.org") {
        return Err(format!("the REPLY's ATTENDEE line is {attendee:?}"));
    }
    if mail.rcpt_to != ["alice@example.org"] {
        return Err(format!("the REPLY went to {:?}", mail.rcpt_to));
    }
    Ok(())
}
