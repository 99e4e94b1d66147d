//! `imipd itip apply`: the calendar core alone, on files, for an administrator.

mod common;

use common::*;

const REQUEST: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:REQUEST\r\n\
BEGIN:VEVENT\r\nUID:cli-1@example.org\r\nSEQUENCE:1\r\nDTSTAMP:20300101T090000Z\r\n\
DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:From the CLI\r\n\
ORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";

fn apply(dir: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let message = dir.join("msg.ics");
    std::fs::write(&message, REQUEST).unwrap();
    let mut args = vec![
        "itip",
        "apply",
        "--message",
        message.to_str().unwrap(),
        "--sender",
        "alice@example.org",
        "--recipient",
        "bob@example.org",
    ];
    args.extend_from_slice(extra);
    cli(dir, &args)
}

#[test]
fn a_new_invitation_is_added_and_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = apply(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("outcome: added"), "{err}");
    assert!(err.contains("outcome: added; reason=\""), "{err}");
    assert!(
        out.contains("UID:cli-1@example.org") && !out.contains("METHOD:"),
        "{out}"
    );
}

#[test]
fn refusals_exit_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, word) in [("--unauthenticated", "authenticat"), ("--spam", "spam")] {
        let (code, out, err) = apply(dir.path(), &[flag]);
        assert_eq!(code, 0, "{flag}: {err}");
        assert!(!err.contains("outcome: added"), "{flag}: {err}");
        assert!(err.to_lowercase().contains(word), "{flag}: {err}");
        assert!(out.is_empty(), "{flag}: {out}");
    }
    // An older SEQUENCE than stored changes nothing.
    let stored = dir.path().join("stored.ics");
    std::fs::write(
        &stored,
        REQUEST
            .replace("SEQUENCE:1", "SEQUENCE:5")
            .replace("METHOD:REQUEST\r\n", ""),
    )
    .unwrap();
    let (code, _, err) = apply(dir.path(), &["--stored", stored.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("outcome: no_action"), "{err}");
}

#[test]
fn unusable_arguments_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = cli(
        dir.path(),
        &[
            "itip",
            "apply",
            "--message",
            "/nonexistent.ics",
            "--sender",
            "a@x.org",
            "--recipient",
            "b@x.org",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent.ics"), "{err}");
    let (code, _, _) = cli(dir.path(), &["itip", "apply", "--sender", "a@x.org"]);
    assert_ne!(code, 0);
}
