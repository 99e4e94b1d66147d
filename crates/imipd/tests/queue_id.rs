//! The queue id a message gets at the end of DATA is in each recipient's reply and in every
//! log line about the message, so an MTA's log line leads to ours.

mod common;

use common::{Imipd, must};

/// The id in a reply that ends in `(queued as ID)`.
fn queue_id(reply: &str) -> Option<&str> {
    reply
        .trim_end()
        .strip_suffix(')')?
        .rsplit_once("(queued as ")
        .map(|(_, id)| id)
}

#[test]
fn replies_and_log_lines_carry_the_queue_id() {
    let server = Imipd::start(
        |dir| {
            must(dir, &["user", "add", "bob@example.org"]);
            must(dir, &["user", "add", "carol@example.org"]);
        },
        &[],
    );
    let mut ids = Vec::new();
    for subject in ["one", "two"] {
        let mut client = server.connect();
        let message = format!("Subject: {subject}\r\n\r\nhello\r\n");
        let (_, replies) = client.deliver(
            "alice@example.org",
            &["bob@example.org", "carol@example.org"],
            message.as_bytes(),
        );
        client.quit();
        let found: Vec<Option<&str>> = replies.iter().map(|r| queue_id(r)).collect();
        assert!(
            replies.iter().all(|r| r.starts_with("250 ")) && found.iter().all(Option::is_some),
            "{replies:?}"
        );
        assert!(
            found[0] == found[1],
            "one id for both recipients: {replies:?}"
        );
        ids.push(found[0].unwrap_or_default().to_string());
    }
    assert_ne!(ids[0], ids[1]);
    let log = common::eventually(10, "delivery log lines", || {
        let text = server.log_text();
        text.contains(&format!("queue_id={}", ids[1]))
            .then_some(text)
    });
    for id in &ids {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(id.as_str())).collect();
        // (what a line says, how many lines say it for this message)
        let expected = [
            ("message received", 1),
            ("bob@example.org", 1),
            ("carol@example.org", 1),
        ];
        for (text, count) in expected {
            let got = lines.iter().filter(|l| l.contains(text)).count();
            assert_eq!(
                got,
                count,
                "lines with queue id {id} saying {text:?}; lines with the id:\n{}\nwhole log:\n{log}",
                lines.join("\n")
            );
        }
    }
}
