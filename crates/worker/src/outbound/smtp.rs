//! One SMTP submission to the configured relay (mail-send), with every failure sorted into
//! "try again later" or "refused for good". Only the relay's 5xx answer to a message or
//! its recipients is final; trouble reaching or logging in to the relay is a setting or
//! an outage, and waiting mail must survive it.

use imipd_scheduling::imip::{is_valid_address, one_line};
use mail_send::smtp::message::Parameters;
use mail_send::{Credentials, SmtpClient, SmtpClientBuilder};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain text: only for a relay on the same host or a trusted network.
    None,
    /// Connect in plain text and require STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// For connecting and for each command.
    pub timeout: Duration,
    /// The name given in EHLO.
    pub hostname: String,
}

/// Why a submission did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The relay is unreachable, busy, or answered 4xx: try again later.
    #[error("{0}")]
    Transient(String),
    /// The relay refused the message (5xx): its reply, word for word.
    #[error("{0}")]
    Permanent(String),
}

/// The outcome of a submission the relay accepted for at least one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submitted {
    /// Recipients the relay put off with 4xx: they need another attempt.
    pub deferred: Vec<(String, String)>,
    /// Recipients the relay (or the address check) refused for good, with the reason.
    pub refused: Vec<(String, String)>,
}

/// Submits `data` to the relay for `rcpt_to`, with `mail_from` as the envelope sender.
pub async fn submit(
    relay: &RelayConfig,
    mail_from: &str,
    rcpt_to: &[String],
    data: &[u8],
) -> Result<Submitted, SendError> {
    // Addresses end up inside SMTP commands: a CR or LF in one would be a command of its own.
    if !is_valid_address(mail_from) {
        return Err(SendError::Permanent(format!(
            "envelope sender {:?} is not a plain local@domain address",
            one_line(mail_from, 100)
        )));
    }
    let (valid, invalid): (Vec<&String>, Vec<&String>) =
        rcpt_to.iter().partition(|r| is_valid_address(r));
    let refused: Vec<(String, String)> = invalid
        .iter()
        .map(|r| {
            (
                one_line(r, 100),
                "not a plain local@domain address".to_string(),
            )
        })
        .collect();
    if valid.is_empty() {
        return Err(SendError::Permanent(refusals(&refused)));
    }
    let mut builder = SmtpClientBuilder::new(relay.host.clone(), relay.port)
        .implicit_tls(relay.tls == Tls::Implicit)
        .helo_host(relay.hostname.clone())
        .timeout(relay.timeout);
    if let Some(username) = &relay.username {
        builder = builder.credentials(Credentials::new(
            username.clone(),
            relay.password.clone().unwrap_or_default(),
        ));
    }
    let unreachable = |e: mail_send::Error| SendError::Transient(connect_error(relay, e));
    match relay.tls {
        Tls::None => {
            let client = builder.connect_plain().await.map_err(unreachable)?;
            transaction(client, mail_from, &valid, refused, data).await
        }
        Tls::StartTls | Tls::Implicit => {
            let client = builder.connect().await.map_err(unreachable)?;
            transaction(client, mail_from, &valid, refused, data).await
        }
    }
}

async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
    mut client: SmtpClient<S>,
    mail_from: &str,
    rcpt_to: &[&String],
    refused: Vec<(String, String)>,
    data: &[u8],
) -> Result<Submitted, SendError> {
    let none = Parameters::new();
    client
        .mail_from(mail_from, &none)
        .await
        .map_err(|e| classify("MAIL FROM", e))?;
    let mut submitted = Submitted {
        refused,
        ..Submitted::default()
    };
    let mut accepted = 0;
    for &rcpt in rcpt_to {
        match client
            .rcpt_to(rcpt, &none)
            .await
            .map_err(|e| classify("RCPT TO", e))
        {
            Ok(()) => accepted += 1,
            Err(SendError::Transient(why)) => submitted.deferred.push((rcpt.clone(), why)),
            Err(SendError::Permanent(why)) => submitted.refused.push((rcpt.clone(), why)),
        }
    }
    if accepted == 0 {
        // Nothing to send: retry if any recipient may still work, else give up.
        let _ = client.rset().await;
        let _ = client.quit().await;
        return match submitted.deferred.first() {
            Some((_, why)) => Err(SendError::Transient(why.clone())),
            None => Err(SendError::Permanent(refusals(&submitted.refused))),
        };
    }
    client.data(data).await.map_err(|e| classify("DATA", e))?;
    let _ = client.quit().await;
    Ok(submitted)
}

fn refusals(refused: &[(String, String)]) -> String {
    refused
        .iter()
        .map(|(rcpt, why)| format!("{rcpt}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sorts a failed command: a 5xx reply is final, anything else may pass later.
fn classify(command: &str, error: mail_send::Error) -> SendError {
    match error {
        mail_send::Error::UnexpectedReply(reply) => {
            let text = format!("relay answered {command} with {}", reply_text(&reply));
            if (500..600).contains(&reply.code) {
                SendError::Permanent(text)
            } else {
                SendError::Transient(text)
            }
        }
        other => SendError::Transient(format!("relay connection failed during {command}: {other}")),
    }
}

/// Explains a failure to connect or log in, naming the setting to check.
fn connect_error(relay: &RelayConfig, error: mail_send::Error) -> String {
    let at = format!("relay {}:{}", relay.host, relay.port);
    match error {
        mail_send::Error::UnexpectedReply(reply) => {
            format!("{at} is not accepting mail: {}", reply_text(&reply))
        }
        mail_send::Error::AuthenticationFailed(reply) => format!(
            "{at} refused the login: {} (check smtp.username and smtp.password)",
            reply_text(&reply)
        ),
        mail_send::Error::MissingStartTls => {
            format!("{at} does not offer STARTTLS (check smtp.tls and smtp.port)")
        }
        mail_send::Error::UnsupportedAuthMechanism => format!(
            "{at} offers no login method imipd supports, or none at all (check smtp.username)"
        ),
        mail_send::Error::Timeout => format!("{at} did not answer in time"),
        other => format!("cannot reach {at}: {other}"),
    }
}

/// `550 5.1.1 no such user`, as the relay said it (one line).
fn reply_text(reply: &smtp_proto::Response<String>) -> String {
    let message = one_line(&reply.message, 300);
    match reply.esc {
        [0, 0, 0] => format!("{} {message}", reply.code),
        [a, b, c] => format!("{} {a}.{b}.{c} {message}", reply.code),
    }
}
