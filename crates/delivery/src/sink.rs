//! The last step: store the recipient's copy and say so only once it is durable.

use crate::downstream::LmtpClient;
use crate::maildir::Maildir;
use crate::pipeline::Plan;
use imipd_lmtp::{Recipient, Reply};
use imipd_sieve::Delivery;
use tracing::warn;

pub enum Sink {
    Maildir(Maildir),
    Lmtp(LmtpClient),
}

impl Sink {
    /// Whether a mail folder exists for Sieve's `mailboxexists`. A downstream store files
    /// mail itself, so every folder is taken to exist there.
    pub fn folder_exists(&self, user: &str, folder: &str) -> bool {
        match self {
            Sink::Maildir(maildir) => {
                folder.eq_ignore_ascii_case("INBOX") || maildir.folder_exists(user, folder)
            }
            Sink::Lmtp(_) => true,
        }
    }

    /// Stores `message` (as borrowed pieces: the message without its forged headers) with
    /// the plan's headers on top.
    pub async fn deliver(
        &self,
        plan: &Plan,
        crlf: bool,
        mail_from: &str,
        rcpt: &Recipient,
        message: &[&[u8]],
    ) -> Reply {
        let eol = if crlf { "\r\n" } else { "\n" };
        let trace = match self {
            Sink::Maildir(_) => delivery_trace(mail_from, &rcpt.address, eol),
            // The downstream store adds its own trace for the address it is given, the
            // user's; the address the MTA gave stays with the copy when it differs.
            Sink::Lmtp(_) if !rcpt.address.eq_ignore_ascii_case(&plan.user) => {
                format!("Delivered-To: {}{eol}", one_line(&rcpt.address))
            }
            Sink::Lmtp(_) => String::new(),
        };
        let mut pieces: Vec<&[u8]> = vec![trace.as_bytes(), plan.headers.as_bytes()];
        pieces.extend_from_slice(message);
        pieces.retain(|p| !p.is_empty());
        if plan.deliveries.is_empty() {
            return Reply::new(
                250,
                (2, 0, 0),
                format!("<{}> discarded by Sieve", rcpt.address),
            );
        }
        match self {
            Sink::Maildir(maildir) => tokio::task::block_in_place(|| {
                to_maildir(maildir, &plan.user, &plan.deliveries, &pieces, rcpt)
            }),
            // The downstream store files the message itself; one copy goes to the user, by
            // its canonical address, so an alias reaches the same mailbox downstream.
            Sink::Lmtp(client) => client
                .deliver(mail_from, &[plan.user.as_str()], &pieces)
                .await
                .into_iter()
                .next()
                .unwrap_or_else(|| {
                    Reply::new(451, (4, 3, 0), "downstream gave no reply, try again later")
                }),
        }
    }
}

/// The trace fields a delivering store puts on top (as Dovecot's LMTP does):
/// `Return-Path` with the envelope sender and `Delivered-To` with the recipient as the MTA
/// gave it, which Sieve rules and users rely on.
fn delivery_trace(mail_from: &str, rcpt: &str, eol: &str) -> String {
    format!(
        "Return-Path: <{}>{eol}Delivered-To: {}{eol}",
        one_line(mail_from),
        one_line(rcpt)
    )
}

/// An envelope address as a header value: no line breaks or other control characters.
fn one_line(address: &str) -> String {
    address.chars().filter(|c| !c.is_control()).collect()
}

fn to_maildir(
    maildir: &Maildir,
    user: &str,
    deliveries: &[Delivery],
    pieces: &[&[u8]],
    rcpt: &Recipient,
) -> Reply {
    for d in deliveries {
        let mut folder = d
            .folder
            .as_deref()
            .filter(|f| !f.eq_ignore_ascii_case("INBOX"));
        if let Some(name) = folder
            && !d.create
            && !maildir.folder_exists(user, name)
        {
            // RFC 5228 section 4.1: fileinto a missing mailbox falls back to keep.
            warn!(
                user,
                folder = name,
                "folder does not exist; delivering to INBOX"
            );
            folder = None;
        }
        let flags: Vec<&str> = d.flags.iter().map(String::as_str).collect();
        let mut stored = maildir.deliver(user, folder, &flags, pieces);
        if let (Err(e), Some(name)) = (&stored, folder)
            && e.kind() == std::io::ErrorKind::InvalidInput
        {
            // A folder name Maildir++ cannot hold is the script's mistake: the mail
            // still gets a home, and the MTA is not made to retry forever.
            warn!(
                user,
                folder = name,
                "cannot file into this folder ({e}); delivering to INBOX"
            );
            stored = maildir.deliver(user, None, &flags, pieces);
        }
        if let Err(e) = stored {
            warn!(user, "cannot store message: {e}");
            return Reply::new(
                451,
                (4, 3, 0),
                format!(
                    "<{}> cannot store message ({e}), try again later",
                    rcpt.address
                ),
            );
        }
    }
    Reply::new(250, (2, 0, 0), format!("<{}> delivered", rcpt.address))
}
