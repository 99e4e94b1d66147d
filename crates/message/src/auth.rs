//! Whether a trusted server says the sender passed DMARC.

/// Largest header section read, in bytes.
const MAX_HEADER_BYTES: usize = 256 * 1024;

/// True iff an `Authentication-Results` header whose authserv-id is in
/// `trusted_authserv_ids` (case-insensitive) says `dmarc=pass`. Headers from any other
/// server are ignored: anyone can write one.
pub fn sender_auth(message: &[u8], trusted_authserv_ids: &[String]) -> bool {
    let head = &message[..message.len().min(MAX_HEADER_BYTES)];
    let head = String::from_utf8_lossy(head);
    headers(&head)
        .filter_map(|(name, value)| {
            name.trim()
                .eq_ignore_ascii_case("Authentication-Results")
                .then_some(value)
        })
        .any(|value| says_dmarc_pass(&value, trusted_authserv_ids))
}

/// Unfolded (name, value) pairs of the header section.
fn headers(head: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            fields.push((name.to_string(), value.trim().to_string()));
        }
    }
    fields.into_iter()
}

/// RFC 8601: `authserv-id [version] ; method=result … ; …`, with comments in parentheses.
fn says_dmarc_pass(value: &str, trusted: &[String]) -> bool {
    let value = strip_comments(value);
    let mut parts = value.split(';');
    let Some(id) = parts.next().and_then(|p| p.split_whitespace().next()) else {
        return false;
    };
    if !trusted.iter().any(|t| t.eq_ignore_ascii_case(id)) {
        return false;
    }
    parts.any(|resinfo| {
        let resinfo = resinfo.trim();
        let Some((method, rest)) = resinfo.split_once('=') else {
            return false;
        };
        let result = rest.split_whitespace().next().unwrap_or_default();
        method.trim().eq_ignore_ascii_case("dmarc") && result.eq_ignore_ascii_case("pass")
    })
}

fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if depth > 0 => escaped = true,
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
