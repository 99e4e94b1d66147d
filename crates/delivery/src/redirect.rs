//! Sieve `redirect` (RFC 5228 section 4.2): the original message goes to another address
//! unchanged, with one trace header on top.
//!
//! The envelope sender is the user, not the original sender. Without SRS, relaying with
//! the original sender fails SPF for the sender's domain, and any bounce would go to
//! whoever the (possibly forged) sender claims to be: backscatter. With the user as
//! envelope sender, SPF checks the user's own domain and bounces return to the user who
//! set up the redirect. The header From is untouched, so the original DKIM signature
//! still verifies (adding a header on top does not break it).

use imipd_scheduling::imip::{is_valid_address, one_line};
use imipd_store::NewMail;
use mail_builder::headers::date::Date;

/// More trace headers than any sane path has: the message is looping.
const MAX_RECEIVED: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("redirect address {0:?} is not a plain local@domain address")]
    BadTarget(String),
    #[error("user address {0:?} cannot be an envelope sender")]
    BadUser(String),
    #[error("message has {0} Received headers: it is looping, not redirected again")]
    Loop(usize),
}

/// The outbox entry that redirects `original` to `to` on behalf of `user`; `queue_id` is
/// the original's, named in the trace header too.
pub fn redirect_mail(
    user: &str,
    original: &[u8],
    to: &str,
    now: i64,
    queue_id: &str,
) -> Result<NewMail, RedirectError> {
    if !is_valid_address(to) {
        return Err(RedirectError::BadTarget(one_line(to, 100)));
    }
    if !is_valid_address(user) {
        return Err(RedirectError::BadUser(one_line(user, 100)));
    }
    let message = crlf(original);
    let received = count_received(&message);
    if received > MAX_RECEIVED {
        return Err(RedirectError::Loop(received));
    }
    let mut data = format!(
        "Received: by imipd (Sieve redirect from <{user}>) id {queue_id}\r\n\tfor <{to}>; {}\r\n",
        Date::new(now).to_rfc822()
    )
    .into_bytes();
    data.extend_from_slice(&message);
    Ok(NewMail {
        user: user.to_string(),
        mail_from: user.to_string(),
        rcpt_to: vec![to.to_string()],
        data,
        purpose: "redirect".into(),
        idem_key: Some(idem_key(user, to, original)),
        queue_id: queue_id.to_string(),
    })
}

/// The same message redirected by the same user to the same address is one mail, however
/// often the MTA retries the delivery that queued it. A digest, not the Message-ID, which
/// a sender could reuse to suppress the redirect of another message.
fn idem_key(user: &str, to: &str, original: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(user.as_bytes())
        .chain_update([0])
        .chain_update(to.as_bytes())
        .chain_update([0])
        .chain_update(original)
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("redirect:{hex}")
}

/// SMTP wants CRLF line ends; a message stored with bare LF (or CR) gets them.
fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 32);
    let mut bytes = message.iter().peekable();
    while let Some(&b) = bytes.next() {
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
    }
    out
}

/// Counts Received fields in the header section (which ends at the first empty line).
fn count_received(message: &[u8]) -> usize {
    message
        .split(|&b| b == b'\n')
        .take_while(|line| !matches!(line, [] | [b'\r']))
        .filter(|line| line.len() >= 9 && line[..9].eq_ignore_ascii_case(b"received:"))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] = b"From: a@example.com\nTo: bob@example.org\nSubject: hi\n\nbody\n.\n";

    #[test]
    fn keeps_the_message_and_adds_a_trace_header() {
        let mail = redirect_mail(
            "bob@example.org",
            ORIGINAL,
            "bob@elsewhere.example",
            0,
            "06H37AWPKZ5D0CR4JP",
        )
        .unwrap();
        assert_eq!(mail.mail_from, "bob@example.org");
        assert_eq!(mail.rcpt_to, vec!["bob@elsewhere.example".to_string()]);
        assert_eq!(mail.purpose, "redirect");
        assert_eq!(mail.queue_id, "06H37AWPKZ5D0CR4JP");
        let text = String::from_utf8(mail.data).unwrap();
        let (trace, rest) = text.split_once("\r\nFrom:").unwrap();
        assert!(trace.starts_with(
            "Received: by imipd (Sieve redirect from <bob@example.org>) id 06H37AWPKZ5D0CR4JP"
        ));
        assert!(trace.contains("for <bob@elsewhere.example>; Thu, 1 Jan 1970 00:00:00 +0000"));
        assert_eq!(
            format!("From:{rest}"),
            "From: a@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nbody\r\n.\r\n"
        );
    }

    #[test]
    fn refuses_what_it_must() {
        let looping: Vec<u8> = [b"Received: x\r\n".repeat(51), ORIGINAL.to_vec()].concat();
        let cases: [(&str, &[u8], &str, RedirectError); 3] = [
            (
                "bob@example.org",
                ORIGINAL,
                "x@y.example>\r\nRCPT TO:<z@w.example",
                RedirectError::BadTarget("x@y.example> RCPT TO:<z@w.example".into()),
            ),
            (
                "bob",
                ORIGINAL,
                "x@y.example",
                RedirectError::BadUser("bob".into()),
            ),
            (
                "bob@example.org",
                &looping,
                "x@y.example",
                RedirectError::Loop(51),
            ),
        ];
        for (user, original, to, want) in cases {
            assert_eq!(
                redirect_mail(user, original, to, 0, "Q"),
                Err(want.clone()),
                "{user} → {to}"
            );
        }
    }
}
