//! What the filter and update stages know about a message beyond its calendar part: who
//! wrote it, whether a trusted server vouched for that, and the spam verdict. Read from
//! the header section of the one parse ([`crate::MessageView`]).
//!
//! The sender is authenticated when, in order:
//! 1. the message has exactly one From header with exactly one address ([`crate::author`]);
//! 2. at least one `Authentication-Results` header names a trusted authserv-id, and every
//!    such header parses (RFC 8601);
//! 3. they hold at least one `dmarc` result, and every one of them is `pass` (a `fail`
//!    anywhere wins over a `pass` elsewhere: an MTA should remove inbound copies of its own
//!    id, but a forged copy must not outvote the real one);
//! 4. every `dmarc=pass` names `header.from`, and it is the From address's domain (RFC 7489
//!    identifier alignment), compared ASCII case-insensitively.
//!
//! Otherwise the sender is unauthenticated, and [`HeaderFacts::unauthenticated`] says
//! which rule failed.

use crate::author::{author, domain};
use crate::authres;
use mail_parser::Header;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderFacts {
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The author's address (ASCII-lower-cased), when the message has exactly one.
    pub from: Option<String>,
    pub spam: bool,
    pub spam_score: Option<f64>,
    /// A trusted server says the author passed DMARC (see the module text).
    pub authenticated: bool,
    /// Why the sender is not authenticated; `None` when it is.
    pub unauthenticated: Option<String>,
}

impl HeaderFacts {
    /// Reads the facts from the top-level header fields; `raw` is the message they were
    /// parsed from (field values are read from it as written).
    pub fn read(
        headers: &[Header<'_>],
        raw: &[u8],
        mail_from: &str,
        trusted_authserv_ids: &[String],
    ) -> Self {
        let (spam, spam_score) = spam_verdict(headers, raw);
        let from = author(headers);
        let verdict = from
            .as_ref()
            .map_err(|why| format!("no single author: {why}"))
            .and_then(|from| dmarc_verdict(headers, raw, from, trusted_authserv_ids));
        HeaderFacts {
            mail_from: mail_from.to_string(),
            from: from.ok(),
            spam,
            spam_score,
            authenticated: verdict.is_ok(),
            unauthenticated: verdict.err(),
        }
    }

    /// For a message whose headers cannot be read: nothing vouched for, nothing processed.
    pub fn unknown(mail_from: &str) -> Self {
        HeaderFacts {
            mail_from: mail_from.to_string(),
            unauthenticated: Some("the message headers cannot be read".into()),
            ..Self::default()
        }
    }
}

/// A field's value as written: the bytes after the colon.
fn raw_value<'r>(header: &Header<'_>, raw: &'r [u8]) -> std::borrow::Cow<'r, str> {
    let value = raw
        .get(header.offset_start as usize..header.offset_end as usize)
        .unwrap_or_default();
    String::from_utf8_lossy(value)
}

fn named<'h, 'x>(
    headers: &'h [Header<'x>],
    name: &'h str,
) -> impl Iterator<Item = &'h Header<'x>> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.as_str().eq_ignore_ascii_case(name))
}

/// Rules 2–4 of the module text for the author `from`.
fn dmarc_verdict(
    headers: &[Header<'_>],
    raw: &[u8],
    from: &str,
    trusted: &[String],
) -> Result<(), String> {
    let is_trusted = |id: &str| trusted.iter().any(|t| t.eq_ignore_ascii_case(id));
    let mut dmarc = Vec::new();
    let mut any_trusted = false;
    for header in named(headers, "Authentication-Results") {
        match authres::parse(&raw_value(header, raw)) {
            Ok(parsed) if is_trusted(&parsed.authserv_id) => {
                any_trusted = true;
                dmarc.extend(parsed.results.into_iter().filter(|r| r.method == "dmarc"));
            }
            Err(authres::Malformed {
                authserv_id: Some(id),
            }) if is_trusted(&id) => {
                return Err(format!(
                    "the Authentication-Results header of trusted server {} does not follow \
                     RFC 8601",
                    shown(&id)
                ));
            }
            _ => {}
        }
    }
    if !any_trusted {
        return Err(format!(
            "no Authentication-Results header from a trusted server ({})",
            trusted.join(", ")
        ));
    }
    if dmarc.is_empty() {
        return Err("the trusted Authentication-Results header has no DMARC result".into());
    }
    if let Some(other) = dmarc.iter().find(|r| r.result != "pass") {
        return Err(format!(
            "DMARC result {} in a trusted Authentication-Results header",
            shown(&other.result)
        ));
    }
    let author_domain = domain(from).trim_end_matches('.');
    for result in &dmarc {
        let Some(header_from) = result.property("header.from") else {
            return Err(
                "dmarc=pass without header.from: it cannot be tied to the From address".into(),
            );
        };
        let passed = domain_of(header_from).trim_end_matches('.');
        if !passed.eq_ignore_ascii_case(author_domain) {
            return Err(format!(
                "DMARC passed for {} but the From address is {} (RFC 7489 alignment)",
                shown(passed),
                shown(from)
            ));
        }
    }
    Ok(())
}

/// `header.from` is a domain; tolerate `user@domain` and `@domain`.
fn domain_of(value: &str) -> &str {
    value.rsplit_once('@').map_or(value, |(_, d)| d)
}

/// SpamAssassin, Rspamd and most filters mark spam with one of these.
fn spam_verdict(headers: &[Header<'_>], raw: &[u8]) -> (bool, Option<f64>) {
    let mut spam = false;
    for name in ["X-Spam-Flag", "X-Spam", "X-Spam-Status"] {
        for header in named(headers, name) {
            let value = raw_value(header, raw);
            // `get`, not indexing: the value may start with a multi-byte character.
            spam |= value
                .trim()
                .get(..3)
                .is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        }
    }
    let spam_score = named(headers, "X-Spam-Score")
        .filter_map(|h| raw_value(h, raw).trim().parse::<f64>().ok())
        .filter(|score| score.is_finite())
        .last();
    (spam, spam_score)
}

/// A value from the message, safe to put in a reason: control characters replaced and
/// at most 100 characters.
pub(crate) fn shown(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect()
}
