//! The author of a message: the one address of its one `From` header (RFC 5322 section
//! 3.6.2 allows a list, but only a single author can be tied to a DMARC result — RFC 7489
//! section 6.6.1 — and DMARC milters judge the first From while mail-parser reads the last).

use mail_parser::{Address, Header, HeaderName, HeaderValue};

/// The author's address, ASCII-lower-cased (never Unicode case folding: `\u{212A}ate` is
/// not `kate`), or why there is no single author.
pub fn author(headers: &[Header<'_>]) -> Result<String, String> {
    let from: Vec<&Header<'_>> = headers
        .iter()
        .filter(|h| h.name == HeaderName::From)
        .collect();
    let header = match from.as_slice() {
        [] => return Err("the message has no From header".into()),
        [one] => one,
        several => {
            return Err(format!(
                "the message has {} From headers; exactly one is allowed",
                several.len()
            ));
        }
    };
    let addresses: Vec<&str> = match &header.value {
        HeaderValue::Address(Address::List(list)) => {
            list.iter().filter_map(|a| a.address.as_deref()).collect()
        }
        HeaderValue::Address(Address::Group(_)) => {
            return Err("the From header is a group; exactly one address is allowed".into());
        }
        _ => Vec::new(),
    };
    match addresses.as_slice() {
        [] => Err("the From header has no address".into()),
        [one] => {
            let address = one.trim();
            match address.rsplit_once('@') {
                Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                    Ok(address.to_ascii_lowercase())
                }
                _ => Err(format!(
                    "the From address {:?} has no domain",
                    crate::facts::shown(address)
                )),
            }
        }
        several => Err(format!(
            "the From header has {} addresses; exactly one is allowed",
            several.len()
        )),
    }
}

/// The domain of an address returned by [`author`].
pub fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}
