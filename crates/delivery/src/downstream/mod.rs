//! Handing messages on to another LMTP server (Dovecot, Cyrus, ...) that stores them.
//!
//! One connection per transaction; replies are read one command at a time, which costs
//! nothing on the local links this is meant for. A recipient gets a success only when the
//! downstream server said so for it: anything that goes wrong on the way is a temporary
//! failure, so the MTA keeps the message and retries.

mod reply;

use imipd_lmtp::Reply;
use imipd_lmtp::data::DotStuffer;
use std::fmt;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::timeout;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Greeting and replies to commands (RFC 5321 section 4.5.3.2 suggests 5 minutes).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Sending the message and each reply after it (the server may be filing a large message).
const DATA_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The message goes out dot-stuffed in pieces this large, so it is never copied whole.
const DATA_CHUNK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DownstreamError {
    #[error(
        "invalid downstream LMTP target {target:?}: {reason} (use host:port or an absolute unix socket path)"
    )]
    InvalidTarget {
        target: String,
        reason: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Tcp(String),
    Unix(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(address) | Target::Unix(address) => f.write_str(address),
        }
    }
}

/// A client for one downstream LMTP server.
#[derive(Debug, Clone)]
pub struct LmtpClient {
    target: Target,
    hostname: String,
}

impl LmtpClient {
    /// `target` is "host:port" or an absolute unix socket path ("/run/dovecot/lmtp");
    /// `hostname` is the name this side gives in LHLO.
    pub fn new(target: &str, hostname: &str) -> Result<Self, DownstreamError> {
        let invalid = |reason| DownstreamError::InvalidTarget {
            target: target.to_owned(),
            reason,
        };
        if target.chars().any(char::is_control) {
            return Err(invalid("contains a control character"));
        }
        let target = if target.starts_with('/') {
            Target::Unix(target.to_owned())
        } else {
            let (host, port) = target.rsplit_once(':').ok_or_else(|| invalid("no port"))?;
            if host.is_empty() {
                return Err(invalid("no host"));
            }
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(invalid("port is not a number from 1 to 65535"));
            }
            Target::Tcp(target.to_owned())
        };
        let hostname = if hostname.is_empty()
            || hostname
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            "localhost".to_owned()
        } else {
            hostname.to_owned()
        };
        Ok(LmtpClient { target, hostname })
    }

    /// One LMTP transaction. Returns exactly one reply per recipient, in order: the
    /// downstream's RCPT reply for a recipient it refused, its reply after the message for
    /// one it accepted, and `451 4.4.1` for any it gave no answer for.
    pub async fn deliver(&self, mail_from: &str, rcpts: &[&str], pieces: &[&[u8]]) -> Vec<Reply> {
        if rcpts.is_empty() {
            return Vec::new();
        }
        let mut replies: Vec<Option<Reply>> = vec![None; rcpts.len()];
        let result = match &self.target {
            Target::Tcp(address) => match connect(TcpStream::connect(address.as_str())).await {
                Ok(stream) => {
                    self.transaction(stream, mail_from, rcpts, pieces, &mut replies)
                        .await
                }
                Err(e) => Err(e),
            },
            Target::Unix(path) => match connect(UnixStream::connect(path.as_str())).await {
                Ok(stream) => {
                    self.transaction(stream, mail_from, rcpts, pieces, &mut replies)
                        .await
                }
                Err(e) => Err(e),
            },
        };
        let failure = result.err().map(|e| {
            tracing::warn!(target_server = %self.target, "downstream LMTP delivery failed: {e}");
            e
        });
        replies
            .into_iter()
            .zip(rcpts)
            .map(|(reply, rcpt)| {
                reply.unwrap_or_else(|| {
                    let error = failure.as_deref().unwrap_or("no reply for this recipient");
                    Reply::new(
                        451,
                        (4, 4, 1),
                        format!(
                            "<{rcpt}> downstream {} unavailable: {error}, try again later",
                            self.target
                        ),
                    )
                })
            })
            .collect()
    }

    async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        mail_from: &str,
        rcpts: &[&str],
        pieces: &[&[u8]],
        replies: &mut [Option<Reply>],
    ) -> Result<(), String> {
        let mut conn = BufReader::new(stream);
        expect(&mut conn, 220, "greeting").await?;
        let lhlo = command(&mut conn, &format!("LHLO {}", self.hostname)).await?;
        if lhlo.code != 250 {
            return Err(format!("LHLO refused: {} {}", lhlo.code, lhlo.text));
        }
        let eight_bit = lhlo
            .text
            .lines()
            .any(|l| l.eq_ignore_ascii_case("8BITMIME"))
            && pieces.iter().any(|p| !p.is_ascii());
        let body = if eight_bit { " BODY=8BITMIME" } else { "" };
        let mail = command(
            &mut conn,
            &format!("MAIL FROM:<{}>{body}", address(mail_from)?),
        )
        .await?;
        if !mail.is_success() {
            if mail.code < 400 {
                return Err(format!(
                    "unexpected reply to MAIL: {} {}",
                    mail.code, mail.text
                ));
            }
            // The server's own word on the sender applies to every recipient.
            replies.fill(Some(mail));
            return Ok(());
        }
        let mut accepted = Vec::new();
        for (i, rcpt) in rcpts.iter().enumerate() {
            let reply = command(&mut conn, &format!("RCPT TO:<{}>", address(rcpt)?)).await?;
            if reply.is_success() {
                accepted.push(i);
            } else if reply.code >= 400 {
                replies[i] = Some(reply);
            } else {
                return Err(format!(
                    "unexpected reply to RCPT: {} {}",
                    reply.code, reply.text
                ));
            }
        }
        if accepted.is_empty() {
            quit(&mut conn).await;
            return Ok(());
        }
        let data = command(&mut conn, "DATA").await?;
        if data.code != 354 {
            if data.code >= 400 {
                for &i in &accepted {
                    replies[i] = Some(data.clone());
                }
                return Ok(());
            }
            return Err(format!(
                "unexpected reply to DATA: {} {}",
                data.code, data.text
            ));
        }
        timed(
            DATA_TIMEOUT,
            "sending the message",
            send_message(&mut conn, pieces),
        )
        .await?;
        for &i in &accepted {
            let reply = timed(
                DATA_TIMEOUT,
                "the reply after the message",
                reply::read_reply(&mut conn),
            )
            .await?;
            replies[i] = Some(reply);
        }
        quit(&mut conn).await;
        Ok(())
    }
}

async fn connect<S>(connecting: impl Future<Output = std::io::Result<S>>) -> Result<S, String> {
    timed(CONNECT_TIMEOUT, "connecting", async {
        connecting.await.map_err(|e| format!("cannot connect: {e}"))
    })
    .await
}

async fn timed<T>(
    limit: Duration,
    what: &str,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {}s {what}", limit.as_secs())))
}

/// An envelope address as it may go between angle brackets on a command line.
fn address(address: &str) -> Result<&str, String> {
    if address
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(format!(
            "address {address:?} cannot be sent on a command line"
        ));
    }
    Ok(address)
}

async fn expect<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    code: u16,
    what: &str,
) -> Result<Reply, String> {
    let reply = timed(COMMAND_TIMEOUT, what, reply::read_reply(conn)).await?;
    if reply.code != code {
        return Err(format!("unexpected {what}: {} {}", reply.code, reply.text));
    }
    Ok(reply)
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    line: &str,
) -> Result<Reply, String> {
    let verb = line.split(' ').next().unwrap_or(line);
    timed(COMMAND_TIMEOUT, verb, async {
        let stream = conn.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        stream
            .flush()
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        reply::read_reply(conn).await
    })
    .await
}

async fn send_message<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    pieces: &[&[u8]],
) -> Result<(), String> {
    let stream = conn.get_mut();
    let write_error = |e: std::io::Error| format!("write failed: {e}");
    let mut stuffer = DotStuffer::new();
    let mut out = Vec::with_capacity(DATA_CHUNK + DATA_CHUNK / 8);
    for piece in pieces {
        for chunk in piece.chunks(DATA_CHUNK) {
            out.clear();
            stuffer.encode(chunk, &mut out);
            stream.write_all(&out).await.map_err(write_error)?;
        }
    }
    out.clear();
    stuffer.finish(&mut out);
    stream.write_all(&out).await.map_err(write_error)?;
    stream.flush().await.map_err(write_error)
}

/// Ends the session politely; the transaction is already decided, so errors do not matter.
async fn quit<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut BufReader<S>) {
    let _ = timeout(Duration::from_secs(5), command(conn, "QUIT")).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let good = [
            ("127.0.0.1:24", Target::Tcp("127.0.0.1:24".into())),
            (
                "mail.example.org:2424",
                Target::Tcp("mail.example.org:2424".into()),
            ),
            ("[::1]:24", Target::Tcp("[::1]:24".into())),
            (
                "/run/dovecot/lmtp",
                Target::Unix("/run/dovecot/lmtp".into()),
            ),
        ];
        for (text, target) in good {
            let client = LmtpClient::new(text, "mx").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(client.target, target);
        }
        for bad in [
            "",
            "localhost",
            ":24",
            "host:",
            "host:0",
            "host:99999",
            "run/lmtp",
            "h:1\n",
        ] {
            let err = LmtpClient::new(bad, "mx").expect_err(bad);
            assert!(err.to_string().contains("host:port"), "{err}");
        }
    }
}
