//! What the filter and update stages need to know about a message beyond its calendar
//! part: who sent it, whether a trusted host vouched for that, and the spam verdict.

use mail_parser::{HeaderName, MessageParser};

#[derive(Debug, Clone, Default)]
pub struct MessageInfo {
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The From header's address, lower-cased.
    pub from: Option<String>,
    pub spam: bool,
    pub spam_score: Option<f64>,
    /// DMARC pass in an Authentication-Results header from a trusted authserv-id.
    pub authenticated: bool,
}

impl MessageInfo {
    pub fn read(message: &[u8], mail_from: &str, trusted_authserv_ids: &[String]) -> Self {
        let Some(parsed) = MessageParser::new().parse_headers(message) else {
            return Self::unknown(mail_from);
        };
        let from = parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase());
        let mut spam = false;
        let mut spam_score = None;
        for header in parsed.headers() {
            let HeaderName::Other(name) = &header.name else {
                continue;
            };
            let value = header.value.as_text().unwrap_or_default().trim();
            let yes = value.len() >= 3 && value[..3].eq_ignore_ascii_case("yes");
            match name.to_ascii_lowercase().as_str() {
                // SpamAssassin, Rspamd and most filters mark spam with one of these.
                "x-spam-flag" | "x-spam" | "x-spam-status" => spam |= yes,
                "x-spam-score" => spam_score = value.parse().ok(),
                _ => {}
            }
        }
        MessageInfo {
            mail_from: mail_from.to_string(),
            from,
            spam,
            spam_score,
            authenticated: crate::sender_auth(message, trusted_authserv_ids),
        }
    }

    /// For a message whose headers cannot be read: nothing vouched for, nothing processed.
    pub fn unknown(mail_from: &str) -> Self {
        MessageInfo {
            mail_from: mail_from.to_string(),
            ..Self::default()
        }
    }
}
