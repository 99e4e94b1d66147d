//! DMARC checks: only an Authentication-Results header from a trusted server counts.

use imipd_message::sender_auth;

fn with_auth(headers: &str) -> Vec<u8> {
    format!("{headers}From: a@example.net\r\nSubject: x\r\n\r\nAuthentication-Results: mx.example.org; dmarc=pass\r\n")
        .into_bytes()
}

#[test]
fn sender_auth_trusts_only_listed_servers() {
    let trusted = vec!["mx.example.org".to_string()];
    let cases = [
        (
            "Authentication-Results: mx.example.org; spf=pass; dmarc=pass header.from=example.net\r\n",
            true,
        ),
        (
            "Authentication-Results: MX.example.ORG 1; dkim=pass (good)\r\n dmarc = pass (p=reject)\r\n",
            false,
        ),
        (
            "Authentication-Results: mx.example.org (comment);\r\n dkim=pass;\r\n dmarc=pass (p=none) header.from=example.net\r\n",
            true,
        ),
        (
            "Authentication-Results: evil.example.com; dmarc=pass\r\n",
            false,
        ),
        (
            "Authentication-Results: mx.example.org; dmarc=fail\r\n",
            false,
        ),
        (
            "Authentication-Results: mx.example.org; dmarc=passed\r\n",
            false,
        ),
        ("Authentication-Results: mx.example.org; none\r\n", false),
        (
            "Authentication-Results: mx.example.org; spf=pass (dmarc=pass)\r\n",
            false,
        ),
        ("", false),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            sender_auth(&with_auth(headers), &trusted),
            expected,
            "{headers:?}"
        );
    }
    let folded_pass = "Authentication-Results: mx.example.org 1; dkim=pass;\r\n\tdmarc=pass\r\n";
    assert!(sender_auth(&with_auth(folded_pass), &trusted));
    assert!(!sender_auth(&with_auth(folded_pass), &[]));
}
