//! Header facts: who wrote the message and whether a trusted server vouches for it
//! (issue 14 items 3, 4, 5 and 9), read from the one parse of the message.

use imipd_message::{HeaderFacts, MessageView, MimeLimits, normalize};

const TRUSTED: &str = "mx.example.org";

fn facts(message: &str) -> HeaderFacts {
    let normalized = normalize(message.as_bytes());
    let view = MessageView::parse(
        &normalized,
        "bounce@example.org",
        &MimeLimits::default(),
        &[TRUSTED.to_string()],
    );
    view.facts
}

/// `Ok(from)`: authenticated as `from`; `Err(the reason)`.
fn verdict(f: &HeaderFacts) -> Result<String, String> {
    match (&f.unauthenticated, f.authenticated) {
        (None, true) => Ok(f.from.clone().unwrap_or_default()),
        (Some(why), false) => Err(why.clone()),
        other => panic!("authenticated and its reason disagree: {other:?}"),
    }
}

#[test]
fn the_author_must_be_one_address_aligned_with_a_trusted_dmarc_pass() {
    let pass = "Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n";
    // (case, header lines, expected verdict: Ok(author) or Err(part of the reason))
    let cases: Vec<(&str, String, Result<&str, &str>)> = vec![
        (
            "one From, aligned",
            format!("{pass}From: Alice <alice@example.org>\r\n"),
            Ok("alice@example.org"),
        ),
        (
            "domains compare ASCII case-insensitively",
            "Authentication-Results: MX.example.ORG 1; dmarc=pass header.from=EXAMPLE.org\r\n\
             From: Alice@Example.Org\r\n"
                .into(),
            Ok("alice@example.org"),
        ),
        (
            "header.from of another domain",
            "Authentication-Results: mx.example.org; dmarc=pass header.from=evil.example\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("DMARC passed for evil.example but the From address is alice@example.org"),
        ),
        (
            "two From headers",
            format!("{pass}From: alice@example.org\r\nFrom: mallory@evil.example\r\n"),
            Err("2 From headers"),
        ),
        (
            "a From with two addresses",
            format!("{pass}From: mallory@evil.example, alice@example.org\r\n"),
            Err("the From header has 2 addresses"),
        ),
        (
            "a group",
            format!("{pass}From: friends: alice@example.org;\r\n"),
            Err("group"),
        ),
        ("no From", pass.to_string(), Err("no From header")),
        (
            "From without an address",
            format!("{pass}From: Alice\r\n"),
            Err("no address"),
        ),
        (
            "dmarc=pass without header.from",
            "Authentication-Results: mx.example.org; dmarc=pass\r\nFrom: alice@example.org\r\n"
                .into(),
            Err("without header.from"),
        ),
        (
            "a trusted fail before a trusted pass",
            format!(
                "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org\r\n\
                 {pass}From: alice@example.org\r\n"
            ),
            Err("DMARC result fail"),
        ),
        (
            "a trusted pass before a trusted fail",
            format!(
                "{pass}Authentication-Results: mx.example.org; dmarc=fail header.from=example.org\r\n\
                 From: alice@example.org\r\n"
            ),
            Err("DMARC result fail"),
        ),
        (
            "none is not pass",
            "Authentication-Results: mx.example.org; dmarc=none header.from=example.org\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("DMARC result none"),
        ),
        (
            "dmarc=pass inside a quoted value",
            "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=\"a@example.org;dmarc=pass \"\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("no DMARC result"),
        ),
        (
            "dmarc=pass inside a comment",
            "Authentication-Results: mx.example.org; spf=pass (dmarc=pass header.from=example.org) smtp.mailfrom=example.org\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("no DMARC result"),
        ),
        (
            "folded, with comments",
            "Authentication-Results: mx.example.org (our MX);\r\n\tdkim=pass header.d=example.org;\r\n \
             dmarc=pass (p=none dis=none) header.from=example.org\r\nFrom: alice@example.org\r\n"
                .into(),
            Ok("alice@example.org"),
        ),
        (
            "an untrusted server",
            "Authentication-Results: evil.example.com; dmarc=pass header.from=example.org\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("no Authentication-Results header from a trusted server (mx.example.org)"),
        ),
        (
            "a trusted header that does not parse",
            "Authentication-Results: mx.example.org; dkim=pass (good)\r\n dmarc = pass header.from=example.org\r\n\
             From: alice@example.org\r\n"
                .into(),
            Err("does not follow RFC 8601"),
        ),
        (
            "an untrusted header that does not parse is ignored",
            format!(
                "Authentication-Results: evil.example; dmarc\r\n{pass}From: alice@example.org\r\n"
            ),
            Ok("alice@example.org"),
        ),
        (
            "a trusted header after a line that is not a header field is body",
            "From: alice@example.org\r\nthis line is not a header field\r\n\
             Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n"
                .into(),
            Err("no Authentication-Results header from a trusted server"),
        ),
        (
            "a Kelvin sign is not a K",
            format!("{pass}From: \u{212A}ate@example.org\r\n"),
            Ok("\u{212A}ate@example.org"),
        ),
    ];
    for (case, headers, want) in cases {
        let message = format!("{headers}Subject: x\r\n\r\nbody\r\n");
        let got = verdict(&facts(&message));
        let ok = match (&got, want) {
            (Ok(from), Ok(w)) => from == w,
            (Err(why), Err(w)) => why.contains(w),
            _ => false,
        };
        assert!(
            ok,
            "case {case}\n  message: {message:?}\n  expected: {want:?}\n  got: {got:?}"
        );
    }
}

#[test]
fn a_header_after_the_empty_line_is_body() {
    let message = "From: alice@example.org\r\nSubject: x\r\n\r\n\
                   Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n";
    let got = facts(message);
    assert!(!got.authenticated, "{got:?}");
}

#[test]
fn spam_verdicts() {
    // (header lines, spam, score)
    let cases: [(&str, bool, Option<f64>); 8] = [
        ("X-Spam-Flag: YES\r\n", true, None),
        ("X-Spam-Status: Yes, score=12.1\r\n", true, None),
        (
            "X-Spam-Status: No, score=0.1\r\nX-Spam-Score: 0.1\r\n",
            false,
            Some(0.1),
        ),
        ("X-Spam: yes\r\n", true, None),
        // Issue 14 item 9: a byte slice inside a character used to panic here.
        ("X-Spam-Status: a\u{20ac}\r\n", false, None),
        ("X-Spam-Status: \u{20ac}\r\n", false, None),
        ("X-Spam-Score: NaN\r\n", false, None),
        ("X-Spam-Score: 3\r\nX-Spam-Score: inf\r\n", false, Some(3.0)),
    ];
    for (headers, spam, score) in cases {
        let got = facts(&format!("From: a@example.org\r\n{headers}\r\nbody\r\n"));
        assert_eq!(
            (got.spam, got.spam_score),
            (spam, score),
            "headers {headers:?}"
        );
    }
}
