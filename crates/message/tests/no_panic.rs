//! Issue 14 item 9: no input may panic. Arbitrary bytes, and messages assembled from the
//! pieces attackers use (header fields, folding, junk lines, multi-byte characters,
//! Authentication-Results syntax), through the one parse, the header facts, the
//! calendar-part rule and the Sieve view.

use imipd_message::{MessageView, MimeLimits, SieveView, authres, header, normalize};
use proptest::prelude::*;

fn exercise(bytes: &[u8]) {
    let normalized = normalize(bytes);
    let section = header::section(&normalized);
    assert!(
        !section.ended_by_junk,
        "normalize leaves no junk in the header section"
    );
    let view = MessageView::parse(
        &normalized,
        "a@example.org",
        &MimeLimits::default(),
        &["mx.example.org".to_string()],
    );
    assert_eq!(
        view.facts.authenticated,
        view.facts.unauthenticated.is_none(),
        "{:?}",
        view.facts
    );
    let kept: usize = view.kept().iter().map(|p| p.len()).sum();
    assert!(kept <= normalized.len());
    let mut sieve = SieveView::new(&view);
    for headers in ["X-ME-Cal-Method: request\r\n", ""] {
        sieve.lend(headers, |m| ((), m));
    }
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("From: alice@example.org\r\n".to_string()),
        Just("From: a@x, b@y\r\n".to_string()),
        Just("Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n".to_string()),
        Just("Authentication-Results: mx.example.org; dmarc=pass (unterminated\r\n".to_string()),
        Just("Authentication-Results: \"mx.example.org\" 1; a=b c.d=\"x;y\" e.f=@g\r\n".to_string()),
        Just("X-Spam-Status: a\u{20ac}\r\n".to_string()),
        Just("X-Spam-Score: \u{20ac}1e999\r\n".to_string()),
        Just("X-ME-Cal-UID: forged\r\n".to_string()),
        Just(" folded continuation\r\n".to_string()),
        Just("junk without a colon\r\n".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("Content-Type: multipart/mixed; boundary=\"b\"\r\n".to_string()),
        Just("Content-Type: text/calendar; method=CANCEL\r\n".to_string()),
        Just("--b\r\n".to_string()),
        Just("--b--\r\n".to_string()),
        Just("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20261345T000000Z\r\n".to_string()),
        Just("END:VEVENT\r\nEND:VCALENDAR\r\n".to_string()),
        "[ -~\u{e9}\u{20ac}\u{212a}\r\n:;=\"()\\\\]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn assembled_messages_never_panic(pieces in prop::collection::vec(piece(), 0..24)) {
        exercise(pieces.concat().as_bytes());
    }

    #[test]
    fn authentication_results_never_panic(value in "[ -~\u{e9}\u{20ac}\r\n\t]{0,200}") {
        let _ = authres::parse(&value);
    }
}
