use anyhow::{Result, bail};
use std::sync::Arc;

const INVITE_ICS: &str = "BEGIN:VCALENDAR\r\nPRODID:-//bench//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n\
BEGIN:VEVENT\r\nUID:UIDTOKEN\r\nSEQUENCE:0\r\nDTSTAMP:20261120T090000Z\r\n\
DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Bench meeting\r\n\
ORGANIZER;CN=Alice:mailto:alice@example.org\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn headers(subject: &str, ctype: &str, n: usize) -> String {
    format!(
        "AUTHTOKENFrom: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: {subject} {n}\r\n\
         Date: Fri, 20 Nov 2026 09:00:00 +0000\r\nMessage-ID: <bench-{n}@example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n"
    )
}

fn plain(size: usize, n: usize) -> Vec<u8> {
    let mut m = headers("Plain", "text/plain; charset=utf-8", n).into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    while m.len() < size {
        m.extend_from_slice(line);
    }
    m
}

/// An invitation whose text part is padded to about `size` bytes.
fn invite(size: usize, n: usize) -> Vec<u8> {
    let ics = INVITE_ICS.to_string();
    let mut text = String::from("You are invited.\r\n");
    while text.len() < size {
        text.push_str("Agenda: the quick brown fox jumps over the lazy dog, again and again.\r\n");
    }
    format!(
        "{}--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{ics}\r\n--b--\r\n",
        headers("Invitation", "multipart/alternative; boundary=\"b\"", n)
    )
    .into_bytes()
}

/// Where a message gets its per-send UID, so every invitation sent is a new event.
const UID_TOKEN: &[u8] = b"UIDTOKEN";

/// 64 messages of the chosen kind. `authserv_id`: stamp an Authentication-Results header
/// (DMARC pass) as a trusted MTA would, so the server processes the invitations.
pub fn build(kind: &str, authserv_id: Option<&str>) -> Result<Arc<Vec<Vec<u8>>>> {
    let messages = (0..64)
        .map(|n| match kind {
            "plain-2k" => Ok(plain(2 * 1024, n)),
            "plain-100k" => Ok(plain(100 * 1024, n)),
            "invite" => Ok(invite(0, n)),
            "invite-100k" => Ok(invite(100 * 1024, n)),
            "mixed" if n % 2 == 0 => Ok(plain(2 * 1024, n)),
            "mixed" => Ok(invite(0, n)),
            other => bail!(
                "unknown corpus {other:?}: plain-2k, plain-100k, invite, invite-100k or mixed"
            ),
        })
        .collect::<Result<Vec<_>>>()?;
    let auth = authserv_id
        .map(|id| format!("Authentication-Results: {id}; dmarc=pass header.from=example.org\r\n"))
        .unwrap_or_default();
    let messages = messages
        .into_iter()
        .map(|m| replace(&m, b"AUTHTOKEN", auth.as_bytes()))
        .collect();
    Ok(Arc::new(messages))
}

/// Message `i` of run `run`: the template with a UID no other send uses.
pub fn instantiate(template: &[u8], run: u64, i: usize) -> Vec<u8> {
    replace(
        template,
        UID_TOKEN,
        format!("bench-{run}-{i}@example.org").as_bytes(),
    )
}

fn replace(haystack: &[u8], token: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len() + with.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(token.len()).position(|w| w == token) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + token.len()..];
    }
    out.extend_from_slice(rest);
    out
}
