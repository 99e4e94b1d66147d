//! Builds iMIP mail (RFC 6047): a readable text and HTML part that say what the message
//! means and when and where the event is, the iTIP data as `text/calendar; method=…`, and
//! the same data as an `invite.ics` attachment, which many clients look for.
//!
//! Every string that comes from calendar data (SUMMARY, LOCATION, CN …) is hostile: it is
//! reduced to one line before it reaches a header and HTML-escaped before it reaches HTML.

use super::address::{Mailbox, is_valid_address, one_line};
use imipd_calendar::Method;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::mime::MimePart;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the human-readable parts say about the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventText {
    pub title: String,
    /// The time, already formatted for the reader.
    pub when: Option<String>,
    pub location: Option<String>,
    /// A conference (video call) link.
    pub conference: Option<String>,
    pub organizer: Option<String>,
    /// What the message means, one sentence: "Bob accepted your invitation."
    pub note: String,
    /// Replaces the default subject ("Invitation: …", "Cancelled: …").
    pub subject: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("sender address {0:?} is not a plain local@domain address")]
    BadFrom(String),
    #[error("no valid recipient address (refused: {0})")]
    NoRecipients(String),
}

/// A composed message and the envelope it goes out with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub data: Vec<u8>,
    pub mail_from: String,
    /// The recipients that were usable; invalid addresses from calendar data are dropped.
    pub rcpt_to: Vec<String>,
}

/// Builds an iMIP message from `from` (the user's own address) to `to`.
pub fn compose_itip(
    from: &Mailbox,
    to: &[Mailbox],
    method: Method,
    ics: &str,
    text: &EventText,
    now: i64,
) -> Result<Composed, ComposeError> {
    if !is_valid_address(&from.email) {
        return Err(ComposeError::BadFrom(from.email.clone()));
    }
    let (valid, refused): (Vec<&Mailbox>, Vec<&Mailbox>) =
        to.iter().partition(|m| is_valid_address(&m.email));
    if valid.is_empty() {
        let refused: Vec<String> = refused.iter().map(|m| one_line(&m.email, 80)).collect();
        return Err(ComposeError::NoRecipients(refused.join(", ")));
    }
    let calendar_type = ContentType::new("text/calendar")
        .attribute("charset", "utf-8")
        .attribute("method", method.as_upper());
    let body = MimePart::new(
        "multipart/mixed",
        vec![
            MimePart::new(
                "multipart/alternative",
                vec![
                    MimePart::new("text/plain", plain_body(text)),
                    MimePart::new("text/html", html_body(text)),
                    MimePart::new(calendar_type, ics.to_string()),
                ],
            ),
            MimePart::new(
                ContentType::new("application/ics").attribute("name", "invite.ics"),
                ics.as_bytes().to_vec(),
            )
            .attachment("invite.ics"),
        ],
    );
    let data = MessageBuilder::new()
        .from(address(from))
        .to(Address::new_list(
            valid.iter().map(|m| address(m)).collect(),
        ))
        .subject(subject(method, text))
        .date(Date::new(now))
        .message_id(message_id(&from.email, now))
        .body(body)
        .write_to_vec()
        .unwrap_or_default();
    Ok(Composed {
        data,
        mail_from: from.email.clone(),
        rcpt_to: valid.iter().map(|m| m.email.clone()).collect(),
    })
}

fn address(mailbox: &Mailbox) -> Address<'static> {
    Address::new_address(mailbox.clean_name(), mailbox.email.clone())
}

fn subject(method: Method, text: &EventText) -> String {
    let title = one_line(&text.title, 150);
    if let Some(subject) = &text.subject {
        return one_line(subject, 200);
    }
    let prefix = match method {
        Method::Request => "Invitation",
        Method::Publish => "Event",
        Method::Reply => "Reply",
        Method::Add => "New occurrence",
        Method::Cancel => "Cancelled",
        Method::Refresh => "Please resend",
        Method::Counter => "New time proposed",
        Method::DeclineCounter => "Proposal declined",
    };
    if title.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}: {title}")
    }
}

/// The event's details as (label, value) rows, each value one line.
fn rows(text: &EventText) -> Vec<(&'static str, String)> {
    [
        ("When", &text.when),
        ("Where", &text.location),
        ("Join", &text.conference),
        ("Organizer", &text.organizer),
    ]
    .into_iter()
    .filter_map(|(label, value)| {
        let value = one_line(value.as_deref()?, 500);
        (!value.is_empty()).then_some((label, value))
    })
    .collect()
}

fn plain_body(text: &EventText) -> String {
    let mut out = String::new();
    let note = one_line(&text.note, 500);
    if !note.is_empty() {
        out.push_str(&note);
        out.push_str("\n\n");
    }
    out.push_str(&one_line(&text.title, 300));
    out.push('\n');
    for (label, value) in rows(text) {
        out.push_str(&format!("{:<10} {value}\n", format!("{label}:")));
    }
    out
}

fn html_body(text: &EventText) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html><body>\n");
    let note = one_line(&text.note, 500);
    if !note.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape_html(&note)));
    }
    out.push_str(&format!(
        "<h2>{}</h2>\n<table>\n",
        escape_html(&one_line(&text.title, 300))
    ));
    for (label, value) in rows(text) {
        let cell = if label == "Join" && is_web_link(&value) {
            format!(
                "<a href=\"{}\">{}</a>",
                escape_html(&value),
                escape_html(&value)
            )
        } else {
            escape_html(&value)
        };
        out.push_str(&format!(
            "<tr><th align=\"left\">{label}</th><td>{cell}</td></tr>\n"
        ));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// Only http(s) links become clickable: a `javascript:` URL in LOCATION stays text.
fn is_web_link(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && !value.contains(' ')
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A Message-ID in the sender's domain, unique within this process and across restarts.
fn message_id(from: &str, now: i64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    format!(
        "{now:x}.{nanos:x}.{:x}.{n:x}.imipd@{domain}",
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_everything() {
        let text = EventText {
            title: "<script>alert(1)</script>".into(),
            location: Some("\"Room\" & <b>".into()),
            conference: Some("javascript:alert(1)".into()),
            note: "Bob's <i>note</i>".into(),
            ..EventText::default()
        };
        let html = html_body(&text);
        for bad in ["<script>", "<b>", "<i>", "href=\"javascript"] {
            assert!(!html.contains(bad), "{bad:?} in {html}");
        }
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn conference_link_is_clickable() {
        let text = EventText {
            title: "Call".into(),
            conference: Some("https://meet.example.com/abc?x=1&y=2".into()),
            ..EventText::default()
        };
        assert!(html_body(&text).contains("<a href=\"https://meet.example.com/abc?x=1&amp;y=2\">"));
    }

    #[test]
    fn subjects() {
        let t = |title: &str, subject: Option<&str>| EventText {
            title: title.into(),
            subject: subject.map(str::to_string),
            ..EventText::default()
        };
        let cases = [
            (Method::Request, t("Sync", None), "Invitation: Sync"),
            (Method::Cancel, t("Sync", None), "Cancelled: Sync"),
            (
                Method::Reply,
                t("Sync", Some("Accepted: Sync")),
                "Accepted: Sync",
            ),
            (Method::Request, t("", None), "Invitation"),
            (
                Method::Request,
                t("a\r\nBcc: x@y", None),
                "Invitation: a Bcc: x@y",
            ),
        ];
        for (method, text, want) in cases {
            assert_eq!(subject(method, &text), want, "{method} {text:?}");
        }
    }
}
