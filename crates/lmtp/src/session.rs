//! The LMTP session as a state machine (RFC 2033, RFC 5321 section 4.1.4): fed command
//! lines and the host's answers, it returns what to send and what to do next. No I/O, so
//! every rule here is tested without sockets.

use crate::protocol::{self, Body, Command};
use crate::{QueueId, RcptCheck, Recipient, Reply};

/// After this many rejected commands in a row the client is not talking LMTP: hang up.
const MAX_CONSECUTIVE_ERRORS: usize = 20;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub hostname: String,
    pub max_message_size: usize,
    pub max_recipients: usize,
}

/// The envelope of the transaction in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub mail_from: String,
    pub body: Body,
    pub recipients: Vec<Recipient>,
}

/// What the connection does after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the reply, read the next command.
    Reply(Reply),
    /// Ask the backend about this address, then give the answer to
    /// [`Session::recipient_checked`] and send the reply it returns.
    CheckRecipient(String),
    /// Send the (354) reply, read the message, then end the transaction with
    /// [`Session::take_envelope`].
    ReadData(Reply),
    /// Read the next `size` bytes as part of the message (BDAT, RFC 3030). Unless `last`,
    /// then reply that the chunk was received; after the last chunk end the transaction
    /// with [`Session::take_envelope`], as after DATA.
    ReadChunk { size: usize, last: bool },
    /// Read and drop the next `size` bytes (a BDAT that cannot be accepted), then send the
    /// reply.
    SkipChunk { size: usize, reply: Reply },
    /// Send the reply and close the connection.
    Close(Reply),
}

#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    helo: Option<String>,
    envelope: Option<Envelope>,
    pending_rcpt: Option<String>,
    /// BDAT chunks have been received and the last one has not.
    chunking: bool,
    errors: usize,
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            helo: None,
            envelope: None,
            pending_rcpt: None,
            chunking: false,
            errors: 0,
        }
    }

    pub fn greeting(&self) -> Reply {
        Reply::new(
            220,
            (0, 0, 0),
            format!("{} LMTP ready", self.config.hostname),
        )
    }

    /// The name the client gave in LHLO ("" before LHLO).
    pub fn helo(&self) -> &str {
        self.helo.as_deref().unwrap_or("")
    }

    /// Whether a transaction is open (MAIL given, not yet finished or reset).
    pub fn in_transaction(&self) -> bool {
        self.envelope.is_some()
    }

    /// Whether a message is being received in BDAT chunks.
    pub fn receiving_chunks(&self) -> bool {
        self.chunking
    }

    /// Handles one command line (ending in LF).
    pub fn command(&mut self, line: &[u8]) -> Step {
        let step = match protocol::parse_command(line) {
            Ok(command) => self.apply(command),
            Err(reply) => Step::Reply(reply),
        };
        self.count_errors(step)
    }

    /// Handles a command line that was longer than the limit (its bytes were discarded).
    pub fn line_too_long(&mut self) -> Step {
        self.count_errors(Step::Reply(protocol::line_too_long()))
    }

    fn count_errors(&mut self, step: Step) -> Step {
        match &step {
            Step::Reply(reply) | Step::SkipChunk { reply, .. } if reply.code >= 500 => {
                self.errors += 1;
                if self.errors >= MAX_CONSECUTIVE_ERRORS {
                    return Step::Close(Reply::new(
                        421,
                        (4, 7, 0),
                        format!(
                            "{} too many errors ({} in a row), closing connection",
                            self.config.hostname, self.errors
                        ),
                    ));
                }
            }
            _ => self.errors = 0,
        }
        step
    }

    fn apply(&mut self, command: Command) -> Step {
        match command {
            Command::Lhlo { host } => {
                self.helo = Some(host);
                self.reset();
                Step::Reply(protocol::lhlo_reply(
                    &self.config.hostname,
                    self.config.max_message_size,
                ))
            }
            Command::Mail { from, size, body } => Step::Reply(self.mail(from, size, body)),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.reset();
                Step::Reply(Reply::new(250, (2, 0, 0), "reset"))
            }
            Command::Noop => Step::Reply(Reply::new(250, (2, 0, 0), "ok")),
            Command::Quit => Step::Close(Reply::new(
                221,
                (2, 0, 0),
                format!("{} closing connection", self.config.hostname),
            )),
            // RFC 5321 section 3.5.3: 252 when the server will not verify but accepts mail.
            Command::Vrfy => Step::Reply(Reply::new(
                252,
                (2, 5, 2),
                "cannot verify the user, but will accept the message and attempt delivery",
            )),
            Command::Help => Step::Reply(Reply::new(
                214,
                (2, 0, 0),
                "commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP (RFC 2033)",
            )),
            Command::SmtpHello => Step::Reply(Reply::new(
                500,
                (5, 5, 1),
                "this is an LMTP server: say LHLO (RFC 2033)",
            )),
            Command::NotImplemented(verb) => Step::Reply(Reply::new(
                502,
                (5, 5, 1),
                format!("{verb} not implemented"),
            )),
        }
    }

    fn reset(&mut self) {
        self.envelope = None;
        self.pending_rcpt = None;
        self.chunking = false;
    }

    fn mail(&mut self, from: String, size: Option<usize>, body: Body) -> Reply {
        if self.helo.is_none() {
            return bad_sequence("send LHLO first");
        }
        if self.envelope.is_some() {
            return bad_sequence("nested MAIL command: send RSET first");
        }
        if let Some(size) = size
            && size > self.config.max_message_size
        {
            return Reply::new(
                552,
                (5, 3, 4),
                format!(
                    "declared size {size} exceeds the limit of {} bytes",
                    self.config.max_message_size
                ),
            );
        }
        let reply = Reply::new(250, (2, 1, 0), format!("<{from}> sender ok"));
        self.envelope = Some(Envelope {
            mail_from: from,
            body,
            recipients: Vec::new(),
        });
        reply
    }

    fn rcpt(&mut self, to: String) -> Step {
        let Some(envelope) = &self.envelope else {
            return Step::Reply(bad_sequence(if self.helo.is_none() {
                "send LHLO first"
            } else {
                "send MAIL first"
            }));
        };
        if to.is_empty() {
            return Step::Reply(Reply::new(501, (5, 1, 3), "empty recipient address"));
        }
        if envelope.recipients.len() >= self.config.max_recipients {
            return Step::Reply(Reply::new(
                452,
                (4, 5, 3),
                format!(
                    "too many recipients (limit {}), send the rest in another transaction",
                    self.config.max_recipients
                ),
            ));
        }
        self.pending_rcpt = Some(to.clone());
        Step::CheckRecipient(to)
    }

    /// Completes the RCPT that [`Step::CheckRecipient`] asked about.
    pub fn recipient_checked(&mut self, check: RcptCheck) -> Reply {
        let (Some(address), Some(envelope)) = (self.pending_rcpt.take(), &mut self.envelope) else {
            return bad_sequence("no recipient is being checked");
        };
        match check {
            RcptCheck::Accept { user } => {
                let reply = Reply::new(250, (2, 1, 5), format!("<{address}> recipient ok"));
                envelope.recipients.push(Recipient { address, user });
                reply
            }
            RcptCheck::Unknown => {
                Reply::new(550, (5, 1, 1), format!("<{address}> no such user here"))
            }
            RcptCheck::TempFail(reason) => Reply::new(
                451,
                (4, 3, 0),
                format!("<{address}> cannot check recipient now ({reason}), try again later"),
            ),
        }
    }

    fn data(&mut self) -> Step {
        match &self.envelope {
            None if self.helo.is_none() => Step::Reply(bad_sequence("send LHLO first")),
            None => Step::Reply(bad_sequence("send MAIL first")),
            Some(envelope) if envelope.recipients.is_empty() => {
                Step::Reply(bad_sequence("no valid recipients"))
            }
            Some(_) if self.chunking => Step::Reply(bad_sequence(
                "DATA cannot follow BDAT: send the rest with BDAT or RSET",
            )),
            Some(_) => Step::ReadData(Reply::new(
                354,
                (0, 0, 0),
                "send message, end with <CRLF>.<CRLF>",
            )),
        }
    }

    fn bdat(&mut self, size: usize, last: bool) -> Step {
        // RFC 3030 section 2: the chunk is on its way whatever the reply, so it is always read.
        let refusal = match &self.envelope {
            None if self.helo.is_none() => Some(bad_sequence("send LHLO first")),
            None => Some(bad_sequence("send MAIL first")),
            Some(envelope) if envelope.recipients.is_empty() => {
                Some(bad_sequence("no valid recipients"))
            }
            Some(_) => None,
        };
        match refusal {
            Some(reply) => Step::SkipChunk { size, reply },
            None => {
                self.chunking = !last;
                Step::ReadChunk { size, last }
            }
        }
    }

    /// Ends the transaction after DATA; the caller delivers the message (or refuses it)
    /// and sends one reply per recipient, see [`replies_for`].
    pub fn take_envelope(&mut self) -> Option<Envelope> {
        self.pending_rcpt = None;
        self.chunking = false;
        self.envelope.take()
    }
}

fn bad_sequence(text: &str) -> Reply {
    Reply::new(503, (5, 5, 1), text)
}

/// The replies sent after DATA: exactly one per recipient, in order. What the backend
/// returned is trusted only where it is well formed; a missing or malformed reply becomes
/// a temporary failure, so the MTA keeps the message and retries, and a recipient never
/// gets a 250 the backend did not give.
pub fn replies_for(recipients: &[Recipient], from_backend: Vec<Reply>) -> Vec<Reply> {
    let mut given = from_backend.into_iter();
    recipients
        .iter()
        .map(|rcpt| match given.next() {
            Some(reply) if is_final(&reply) => reply,
            Some(reply) => Reply::new(
                451,
                (4, 3, 0),
                format!(
                    "<{}> delivery gave an invalid reply code {}, try again later",
                    rcpt.address, reply.code
                ),
            ),
            None => Reply::new(
                451,
                (4, 3, 0),
                format!(
                    "<{}> delivery gave no result, try again later",
                    rcpt.address
                ),
            ),
        })
        .collect()
}

/// The same reply for every recipient, e.g. when the message could not be received.
pub fn same_reply_for(recipients: &[Recipient], reply: &Reply) -> Vec<Reply> {
    recipients
        .iter()
        .map(|rcpt| {
            Reply::new(
                reply.code,
                reply.status,
                format!("<{}> {}", rcpt.address, reply.text),
            )
        })
        .collect()
}

/// Why a received message is refused before it reaches the backend, if it is. A message
/// with nothing but line endings (`BDAT 0 LAST`, or DATA ended at once) has no header
/// fields, not even the From and Date RFC 5322 requires, and storing it helps no one.
pub fn refusal(message: &[u8]) -> Option<Reply> {
    message.iter().all(u8::is_ascii_whitespace).then(|| {
        Reply::new(
            554,
            (5, 6, 0),
            "empty message refused: no header fields and no body",
        )
    })
}

/// Names the message in each of its replies, so the MTA's log line for a recipient leads
/// to ours: `queued as ID` after a success (the words Postfix uses), `queue id ID` otherwise.
pub fn with_queue_id(replies: Vec<Reply>, queue_id: QueueId) -> Vec<Reply> {
    replies
        .into_iter()
        .map(|mut reply| {
            let words = if reply.is_success() {
                "queued as"
            } else {
                "queue id"
            };
            reply.text = format!("{} ({words} {queue_id})", reply.text);
            reply
        })
        .collect()
}

fn is_final(reply: &Reply) -> bool {
    matches!(reply.code, 200..=299 | 400..=599)
        && (reply.status.0 == 0 || u16::from(reply.status.0) == reply.code / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(SessionConfig {
            hostname: "lmtp.test".into(),
            max_message_size: 1000,
            max_recipients: 2,
        })
    }

    /// Runs command lines; RCPT checks are answered by `check`. Returns the reply codes.
    fn run(session: &mut Session, lines: &[&str]) -> Vec<u16> {
        lines
            .iter()
            .map(|line| match session.command(line.as_bytes()) {
                Step::Reply(r) | Step::ReadData(r) | Step::Close(r) => r.code,
                Step::SkipChunk { reply, .. } => reply.code,
                Step::ReadChunk { last: false, .. } => 250,
                Step::ReadChunk { last: true, .. } => {
                    session.take_envelope();
                    250
                }
                Step::CheckRecipient(address) => {
                    let check = if address.starts_with("nobody") {
                        RcptCheck::Unknown
                    } else if address.starts_with("later") {
                        RcptCheck::TempFail("store down".into())
                    } else {
                        RcptCheck::Accept {
                            user: address.split('@').next().unwrap_or("").into(),
                        }
                    };
                    session.recipient_checked(check).code
                }
            })
            .collect()
    }

    #[test]
    fn command_sequences() {
        // (command lines, expected reply codes)
        let cases: &[(&[&str], &[u16])] = &[
            (&["MAIL FROM:<a@x>\r\n"], &[503]),
            (&["RCPT TO:<b@x>\r\n"], &[503]),
            (&["DATA\r\n"], &[503]),
            (&["NOOP\r\n", "RSET\r\n", "QUIT\r\n"], &[250, 250, 221]),
            (&["EHLO x\r\n", "HELO x\r\n"], &[500, 500]),
            (&["LHLO x\r\n", "RCPT TO:<b@x>\r\n"], &[250, 503]),
            (&["LHLO x\r\n", "DATA\r\n"], &[250, 503]),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x>\r\n", "DATA\r\n"],
                &[250, 250, 503],
            ),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x>\r\n", "MAIL FROM:<a@x>\r\n"],
                &[250, 250, 503],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RCPT TO:<b@x>\r\n",
                    "DATA\r\n",
                ],
                &[250, 250, 250, 354],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RCPT TO:<nobody@x>\r\n",
                    "RCPT TO:<later@x>\r\n",
                    "DATA\r\n",
                ],
                &[250, 250, 550, 451, 503],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RCPT TO:<b@x>\r\n",
                    "RCPT TO:<c@x>\r\n",
                    "RCPT TO:<d@x>\r\n",
                    "RCPT TO:<nobody@x>\r\n",
                ],
                &[250, 250, 250, 250, 452, 452],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RSET\r\n",
                    "RCPT TO:<b@x>\r\n",
                ],
                &[250, 250, 250, 503],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "LHLO y\r\n",
                    "RCPT TO:<b@x>\r\n",
                ],
                &[250, 250, 250, 503],
            ),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x> SIZE=1000\r\n"],
                &[250, 250],
            ),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x> SIZE=1001\r\n"],
                &[250, 552],
            ),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x>\r\n", "RCPT TO:<>\r\n"],
                &[250, 250, 501],
            ),
            (&["BDAT 3\r\n"], &[503]),
            (&["LHLO x\r\n", "BDAT 3 LAST\r\n"], &[250, 503]),
            (
                &["LHLO x\r\n", "MAIL FROM:<a@x>\r\n", "BDAT 3\r\n"],
                &[250, 250, 503],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RCPT TO:<b@x>\r\n",
                    "BDAT 3\r\n",
                    "DATA\r\n",
                    "BDAT 3 LAST\r\n",
                    "RCPT TO:<c@x>\r\n",
                ],
                &[250, 250, 250, 250, 503, 250, 503],
            ),
            (
                &[
                    "LHLO x\r\n",
                    "MAIL FROM:<a@x>\r\n",
                    "RCPT TO:<b@x>\r\n",
                    "BDAT 3\r\n",
                    "RSET\r\n",
                    "BDAT 3 LAST\r\n",
                ],
                &[250, 250, 250, 250, 250, 503],
            ),
            (
                &["VRFY b\r\n", "HELP\r\n", "AUTH PLAIN\r\n"],
                &[252, 214, 502],
            ),
        ];
        for &(lines, expected) in cases {
            let got = run(&mut session(), lines);
            assert_eq!(got, expected, "commands {lines:?}");
        }
    }

    #[test]
    fn data_ends_the_transaction_with_its_envelope() {
        let mut s = session();
        run(
            &mut s,
            &[
                "LHLO mx\r\n",
                "MAIL FROM:<a@x> BODY=8BITMIME\r\n",
                "RCPT TO:<b@x>\r\n",
                "RCPT TO:<nobody@x>\r\n",
                "DATA\r\n",
            ],
        );
        assert_eq!(s.helo(), "mx");
        assert!(s.in_transaction());
        let envelope = s.take_envelope().expect("envelope after DATA");
        assert_eq!(
            envelope,
            Envelope {
                mail_from: "a@x".into(),
                body: Body::EightBitMime,
                recipients: vec![Recipient {
                    address: "b@x".into(),
                    user: "b".into()
                }],
            }
        );
        assert!(!s.in_transaction());
        assert_eq!(run(&mut s, &["RCPT TO:<b@x>\r\n"]), [503]);
    }

    #[test]
    fn endless_errors_close_the_connection() {
        let mut s = session();
        let mut codes = run(&mut s, &["BOGUS\r\n"; MAX_CONSECUTIVE_ERRORS]);
        assert_eq!(codes.pop(), Some(421));
        assert!(codes.iter().all(|&c| c == 500), "{codes:?}");
        let mut s = session();
        let mut lines = vec!["BOGUS\r\n"; MAX_CONSECUTIVE_ERRORS - 1];
        lines.push("NOOP\r\n");
        lines.push("BOGUS\r\n");
        assert_eq!(run(&mut s, &lines).last(), Some(&500));
    }

    #[test]
    fn empty_messages_are_refused() {
        // (message, refused)
        let cases: &[(&[u8], bool)] = &[
            (b"", true),
            (b"\r\n", true),
            (b"\n\n \t\r\n", true),
            (b"Subject: x\r\n\r\n", false),
            (b"\r\nbody only\r\n", false),
        ];
        for &(message, refused) in cases {
            let got = refusal(message);
            assert_eq!(
                got.as_ref().map(|r| (r.code, r.status)),
                refused.then_some((554, (5, 6, 0))),
                "message {:?}",
                String::from_utf8_lossy(message)
            );
        }
    }

    #[test]
    fn replies_name_the_queue_id() {
        let id = QueueId::generate();
        let replies = with_queue_id(
            vec![
                Reply::new(250, (2, 0, 0), "<a@x> delivered"),
                Reply::new(451, (4, 3, 0), "<b@x> try again later"),
            ],
            id,
        );
        let texts: Vec<&str> = replies.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                format!("<a@x> delivered (queued as {id})"),
                format!("<b@x> try again later (queue id {id})"),
            ]
        );
    }

    #[test]
    fn delivery_replies_are_one_per_recipient_and_never_invented() {
        let rcpts: Vec<Recipient> = ["a@x", "b@x", "c@x"]
            .iter()
            .map(|a| Recipient {
                address: (*a).into(),
                user: (*a).into(),
            })
            .collect();
        let ok = || Reply::new(250, (2, 0, 0), "ok");
        // (backend replies, expected codes)
        let cases: Vec<(Vec<Reply>, Vec<u16>)> = vec![
            (vec![ok(), ok(), ok()], vec![250, 250, 250]),
            (vec![ok()], vec![250, 451, 451]),
            (vec![], vec![451, 451, 451]),
            (vec![ok(), ok(), ok(), ok()], vec![250, 250, 250]),
            (
                vec![
                    Reply::new(552, (5, 2, 2), "full"),
                    Reply::new(354, (0, 0, 0), "?"),
                    ok(),
                ],
                vec![552, 451, 250],
            ),
            (
                vec![
                    Reply::new(250, (4, 0, 0), "mixed"),
                    Reply::new(0, (0, 0, 0), ""),
                    ok(),
                ],
                vec![451, 451, 250],
            ),
        ];
        for (given, expected) in cases {
            let codes: Vec<u16> = replies_for(&rcpts, given.clone())
                .iter()
                .map(|r| r.code)
                .collect();
            assert_eq!(codes, expected, "backend gave {given:?}");
        }
    }
}
