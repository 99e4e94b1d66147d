//! Stage 1, detection: the message parsed once ([`scan`], an `imipd-message` view that
//! every later stage borrows), and the headers that let the filter stage (and the user)
//! see what it is.
//!
//! Detection is fail-open: whatever goes wrong, the message is delivered; a part that
//! cannot be used only earns an `X-Imipd-Cal-Error` header that says why, never the
//! `X-ME-Cal-*` headers.

pub use imipd_message::{Invitation, MessageView, MimeLimits};

pub const METHOD_HEADER: &str = "X-ME-Cal-Method";
pub const UID_HEADER: &str = "X-ME-Cal-UID";
pub const EXISTS_HEADER: &str = "X-ME-Cal-Exists";
pub const MESSAGE_ID_HEADER: &str = "X-ME-Message-Id";
pub const ERROR_HEADER: &str = "X-Imipd-Cal-Error";

/// RFC 5322 section 2.1.1: a line is at most 998 octets without its CRLF.
const MAX_LINE: usize = 998;

/// Parses a message once for the whole delivery. `message` is what
/// [`imipd_message::normalize`] made of the bytes received. Never fails: problems end up in
/// the view's `calendar.error`.
pub fn scan<'m>(
    message: &'m [u8],
    mail_from: &str,
    mime: &MimeLimits,
    trusted_authserv_ids: &[String],
) -> MessageView<'m> {
    let mut view = MessageView::parse(message, mail_from, mime, trusted_authserv_ids);
    if view.calendar.invitation.is_some() {
        // The sender's References is rendered again by [`headers`], the thread id last.
        view.strip.extend(view.fields("References"));
        view.strip.sort_by_key(|r| r.start);
    }
    view
}

/// For an invitation: the sender's own `References` value, folding kept (several fields
/// joined); without one, the message ids of `In-Reply-To` (RFC 5322 section 3.6.4). The
/// rendered `References` keeps it in front of the event's thread id.
fn sender_references(view: &MessageView<'_>) -> Option<String> {
    let value = |r: &std::ops::Range<usize>| {
        let field = String::from_utf8_lossy(&view.raw()[r.clone()]);
        let value = field.split_once(':').map_or("", |(_, v)| v);
        value.trim_end_matches(['\r', '\n']).to_string()
    };
    let references = view.fields("References");
    if !references.is_empty() {
        return Some(references.iter().map(value).collect());
    }
    let ids: Vec<String> = view
        .fields("In-Reply-To")
        .iter()
        .map(value)
        .flat_map(|v| {
            v.split('<')
                .skip(1)
                .filter_map(|s| s.split_once('>'))
                .map(|(id, _)| format!(" <{}>", one_line_value(id.trim())))
                .collect::<Vec<_>>()
        })
        .collect();
    (!ids.is_empty()).then(|| ids.concat())
}

/// The headers to add for one recipient: `exists` is the calendar holding the UID, if any;
/// `error` replaces detection's own (a store that could not be asked).
pub fn headers(view: &MessageView<'_>, exists: Option<&str>, error: Option<&str>) -> String {
    let eol = if view.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        out.push_str(&one_line(name, value));
        out.push_str(eol);
    };
    if let Some(inv) = &view.calendar.invitation {
        field(&mut out, METHOD_HEADER, inv.method.as_lower());
        field(&mut out, UID_HEADER, &inv.uid);
        if let Some(id) = exists {
            field(&mut out, EXISTS_HEADER, id);
        }
        let thread = thread_message_id(&inv.uid);
        field(&mut out, MESSAGE_ID_HEADER, &thread);
        // Threading clients (and IMAP THREAD=REFERENCES) put every mail about the event
        // under one parent, however its sender threads it.
        match sender_references(view) {
            Some(own) if own.contains(&thread) => {
                out.push_str(&format!("References:{own}{eol}"));
            }
            Some(own) => out.push_str(&format!("References:{own}{eol} {thread}{eol}")),
            None => out.push_str(&format!("References: {thread}{eol}")),
        }
    }
    if let Some(error) = error.or(view.calendar.error.as_deref()) {
        field(&mut out, ERROR_HEADER, error);
    }
    out
}

/// A value with control characters replaced by spaces.
fn one_line_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `Name: value` on one line of at most [`MAX_LINE`] octets: control characters become
/// spaces and the value is cut at a character boundary. (The UID never needs cutting:
/// detection refuses UIDs that would not fit.)
fn one_line(name: &str, value: &str) -> String {
    let mut line = format!("{name}: ");
    for c in value.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if line.len() + c.len_utf8() > MAX_LINE {
            break;
        }
        line.push(c);
    }
    line
}

/// A Message-Id that depends only on the UID, so every mail about one event threads together.
pub fn thread_message_id(uid: &str) -> String {
    format!(
        "<{:016x}{:016x}@imipd.cal>",
        fnv1a(uid, 0xcbf2_9ce4_8422_2325),
        fnv1a(uid, 0x6c62_272e_07bb_0142)
    )
}

/// FNV-1a: tiny, stable across releases and platforms (the id must never change).
fn fnv1a(s: &str, seed: u64) -> u64 {
    s.bytes().fold(seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use imipd_calendar::Method;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u-1@example.org\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn view(message: &[u8]) -> MessageView<'_> {
        scan(message, "", &MimeLimits::default(), &[])
    }

    #[test]
    fn forged_headers_are_found_with_their_continuations() {
        let msg = b"X-ME-Cal-Method: request\r\nSubject: hi\r\nx-imipd-cal-outcome: added;\r\n  reason=\"x\"\r\nX-ME-Message-Id: <a@b>\r\nFrom: a@b\r\n\r\nX-ME-Cal-UID: body\r\n";
        let kept: Vec<u8> = view(msg).kept().concat();
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "Subject: hi\r\nFrom: a@b\r\n\r\nX-ME-Cal-UID: body\r\n"
        );
    }

    #[test]
    fn thread_ids_are_stable_and_distinct() {
        assert_eq!(thread_message_id("a"), thread_message_id("a"));
        assert_ne!(thread_message_id("a"), thread_message_id("b"));
        // Pinned: changing it would break threading of mail already delivered.
        assert_eq!(
            thread_message_id("u-1@example.org"),
            "<f2100f73b4fb3298b9ae3d065d45187d@imipd.cal>"
        );
    }

    #[test]
    fn plain_calendar_part_is_detected() {
        let msg = format!(
            "From: a@example.org\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ICS}"
        );
        let s = view(msg.as_bytes());
        let inv = s.calendar.invitation.clone().unwrap();
        assert_eq!(
            (inv.method, inv.uid.as_str()),
            (Method::Request, "u-1@example.org")
        );
        assert!(s.crlf);
        assert_eq!(
            headers(&s, Some("default"), None),
            format!(
                "X-ME-Cal-Method: request\r\nX-ME-Cal-UID: u-1@example.org\r\nX-ME-Cal-Exists: default\r\nX-ME-Message-Id: {0}\r\nReferences: {0}\r\n",
                thread_message_id("u-1@example.org")
            )
        );
    }

    #[test]
    fn references_keep_the_senders_own_and_end_with_the_thread_id() {
        let thread = thread_message_id("u-1@example.org");
        let invitation = "Content-Type: text/calendar; method=REQUEST\r\n";
        // (sender's threading fields, calendar part?, the References we render, what of
        // the sender's fields stays in the message)
        let cases: &[(&str, bool, Option<String>, &str)] = &[
            ("", true, Some(format!("References: {thread}\r\n")), ""),
            (
                "References: <a@x>\r\n <b@x>\r\n",
                true,
                Some(format!("References: <a@x>\r\n <b@x>\r\n {thread}\r\n")),
                "",
            ),
            (
                "In-Reply-To: <a@x> (the last one)\r\n",
                true,
                Some(format!("References: <a@x>\r\n {thread}\r\n")),
                "In-Reply-To: <a@x> (the last one)\r\n",
            ),
            (
                "In-Reply-To: <a@x>\r\nReferences: <r@x>\r\n",
                true,
                Some(format!("References: <r@x>\r\n {thread}\r\n")),
                "In-Reply-To: <a@x>\r\n",
            ),
            (
                &format!("References: <a@x> {thread}\r\n"),
                true,
                Some(format!("References: <a@x> {thread}\r\n")),
                "",
            ),
            (
                "References: <a@x>\r\n",
                false,
                None,
                "References: <a@x>\r\n",
            ),
        ];
        for (fields, calendar, rendered, kept) in cases {
            let content = if *calendar { invitation } else { "" };
            let msg = format!("Subject: s\r\n{fields}{content}\r\n{ICS}");
            let s = view(msg.as_bytes());
            let added = headers(&s, None, None);
            // References is the last header rendered here (no error header).
            let got = added.find("References:").map(|at| added[at..].to_string());
            assert_eq!(&got, rendered, "{fields:?}: the References rendered");
            let left = String::from_utf8(s.kept().concat()).unwrap();
            let head = &left[..left.find("\r\n\r\n").unwrap() + 2];
            let left: String = head
                .split_inclusive("\r\n")
                .filter(|l| !l.starts_with("Subject") && !l.starts_with("Content-Type"))
                .collect();
            assert_eq!(left, *kept, "{fields:?}: what stays of the sender's fields");
        }
    }

    #[test]
    fn every_added_line_fits_in_998_octets() {
        let long = "é".repeat(2000);
        let line = one_line(ERROR_HEADER, &long);
        assert!(line.len() <= MAX_LINE, "{} octets", line.len());
        assert!(line.ends_with('é'), "cut at a character boundary");
        assert_eq!(one_line("X", "a\r\nb"), "X: a  b");
    }
}
