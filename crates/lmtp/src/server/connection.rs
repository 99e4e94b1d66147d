//! One LMTP connection: feeds command lines to the [`Session`], asks the backend about
//! recipients, receives messages into the spool and delivers them.

use super::ServerConfig;
use super::input::{Closed, Io, Line};
use crate::data::DataDecoder;
use crate::session::{self, Session, SessionConfig, Step};
use crate::spool::{SpoolConfig, SpoolError, SpoolWriter, Spooled};
use crate::{Backend, QueueId, Reply, Transaction};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

/// What all connections share.
pub struct Shared {
    pub config: ServerConfig,
    pub spool: SpoolConfig,
}

pub async fn run<B: Backend>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    backend: Arc<B>,
    mut stop: watch::Receiver<bool>,
) {
    debug!(%peer, "LMTP connection opened");
    let config = &shared.config;
    let mut io = Io::new(stream, config.idle_timeout);
    let mut session = Session::new(SessionConfig {
        hostname: config.hostname.clone(),
        max_message_size: config.max_message_size,
        max_recipients: config.max_recipients,
    });
    let mut connection = Connection {
        io: &mut io,
        session: &mut session,
        shared: &shared,
        backend: &backend,
        peer,
        chunks: None,
    };
    let end = connection.serve(&mut stop).await;
    let hostname = &config.hostname;
    let farewell = match &end {
        Closed::Eof => None,
        Closed::Idle => Some(Reply::new(
            421,
            (4, 4, 2),
            format!(
                "{hostname} idle for {}s, closing connection",
                config.idle_timeout.as_secs_f32()
            ),
        )),
        Closed::Stopping => Some(Reply::new(
            421,
            (4, 3, 2),
            format!("{hostname} shutting down, try again later"),
        )),
        Closed::Io(e) => {
            warn!(%peer, "LMTP connection failed: {e}");
            None
        }
    };
    if let Some(reply) = farewell {
        // Best effort: the client may be gone already.
        let _ = io.reply(&reply).await;
    }
    io.close().await;
    debug!(%peer, reason = ?end, "LMTP connection closed");
}

struct Connection<'a, B> {
    io: &'a mut Io,
    session: &'a mut Session,
    shared: &'a Shared,
    backend: &'a Arc<B>,
    peer: SocketAddr,
    /// The message being received in BDAT chunks.
    chunks: Option<SpoolWriter<'a>>,
}

impl<B: Backend> Connection<'_, B> {
    /// Serves commands until the connection ends; returns why.
    async fn serve(&mut self, stop: &mut watch::Receiver<bool>) -> Closed {
        let greeting = self.session.greeting();
        if let Err(closed) = self.io.reply(&greeting).await {
            return closed;
        }
        loop {
            // At shutdown a connection ends between transactions, never inside one.
            let idle = !self.session.in_transaction();
            if idle && *stop.borrow() {
                return Closed::Stopping;
            }
            let line = match self.io.read_line(idle.then_some(&mut *stop)).await {
                Ok(line) => line,
                Err(closed) => return closed,
            };
            let step = match line {
                Line::Command(line) => self.session.command(&line),
                Line::TooLong => self.session.line_too_long(),
            };
            let result = match step {
                Step::Reply(reply) => self.io.reply(&reply).await,
                Step::CheckRecipient(address) => {
                    let check = self.backend.check_recipient(&address).await;
                    let reply = self.session.recipient_checked(check);
                    self.io.reply(&reply).await
                }
                Step::ReadData(reply) => self.data(&reply).await,
                Step::ReadChunk { size, last } => self.chunk(size, last).await,
                Step::SkipChunk { size, reply } => match self.read_exact(size, |_| {}).await {
                    Ok(()) => self.io.reply(&reply).await,
                    Err(closed) => Err(closed),
                },
                Step::Close(reply) => {
                    if let Err(closed) = self.io.reply(&reply).await {
                        return closed;
                    }
                    return Closed::Eof;
                }
            };
            if let Err(closed) = result {
                return closed;
            }
            if !self.session.receiving_chunks() {
                // RSET, LHLO or the last chunk ended the chunked message.
                self.chunks = None;
            }
        }
    }

    /// Receives one BDAT chunk; after the last, sends one reply per recipient.
    async fn chunk(&mut self, size: usize, last: bool) -> Result<(), Closed> {
        let shared = self.shared;
        let mut spool = self
            .chunks
            .take()
            .unwrap_or_else(|| SpoolWriter::new(&shared.spool));
        self.read_exact(size, |bytes| spool.write(bytes)).await?;
        if last {
            return self.finish_message(spool).await;
        }
        self.chunks = Some(spool);
        self.io
            .reply(&Reply::new(
                250,
                (2, 0, 0),
                format!("{size} octets received"),
            ))
            .await
    }

    /// Passes the next `size` input bytes to `sink`.
    async fn read_exact(&mut self, size: usize, mut sink: impl FnMut(&[u8])) -> Result<(), Closed> {
        let mut left = size;
        while left > 0 {
            self.io.fill(None).await?;
            let take = left.min(self.io.buffer().len());
            sink(&self.io.buffer()[..take]);
            self.io.consume(take);
            left -= take;
        }
        Ok(())
    }

    /// Receives the message after DATA and sends one reply per recipient.
    async fn data(&mut self, go_ahead: &Reply) -> Result<(), Closed> {
        self.io.reply(go_ahead).await?;
        let mut decoder = DataDecoder::new();
        let mut spool = SpoolWriter::new(&self.shared.spool);
        loop {
            // A client that vanishes mid-message drops the spool file with `spool`.
            if let Err(closed) = self.io.fill(None).await {
                if matches!(closed, Closed::Idle) && decoder.bare_dot_lines() > 0 {
                    warn!(
                        peer = %self.peer,
                        "client went idle in DATA after {} \".\" line(s) next to a bare LF: only \
                         <CRLF>.<CRLF> ends DATA (RFC 5321 section 4.1.1.4), fix the client",
                        decoder.bare_dot_lines()
                    );
                }
                return Err(closed);
            }
            let decoded = decoder.decode(self.io.buffer(), |bytes| spool.write(bytes));
            self.io.consume(decoded.consumed);
            if decoded.finished {
                break;
            }
        }
        self.finish_message(spool).await
    }

    /// Names the received message, delivers it or says why not, and sends one reply per
    /// recipient, each with the queue id.
    async fn finish_message(&mut self, spool: SpoolWriter<'_>) -> Result<(), Closed> {
        let Some(envelope) = self.session.take_envelope() else {
            return Ok(());
        };
        let queue_id = QueueId::generate();
        let span = info_span!("message", queue_id = %queue_id);
        let replies = self
            .accept(envelope, spool, queue_id)
            .instrument(span)
            .await;
        for reply in &session::with_queue_id(replies, queue_id) {
            self.io.reply(reply).await?;
        }
        Ok(())
    }

    async fn accept(
        &self,
        envelope: session::Envelope,
        spool: SpoolWriter<'_>,
        queue_id: QueueId,
    ) -> Vec<Reply> {
        let size = spool.size();
        info!(
            peer = %self.peer,
            helo = self.session.helo(),
            from = envelope.mail_from,
            size,
            recipients = envelope.recipients.len(),
            "message received"
        );
        let refusal = match spool.finish() {
            Ok(message) => match session::refusal(message.as_bytes()) {
                None => return self.deliver(envelope, message, queue_id).await,
                Some(reply) => reply,
            },
            Err(SpoolError::TooLarge { limit }) => Reply::new(
                552,
                (5, 3, 4),
                format!("message exceeds the size limit of {limit} bytes"),
            ),
            Err(e) => {
                warn!(peer = %self.peer, "cannot receive message: {e}");
                Reply::new(
                    451,
                    (4, 3, 0),
                    "cannot spool the message here, try again later",
                )
            }
        };
        info!(
            code = refusal.code,
            "message not delivered: {}", refusal.text
        );
        session::same_reply_for(&envelope.recipients, &refusal)
    }

    /// Runs the backend's delivery in its own task, so that a panic in it costs this
    /// transaction a temporary failure and nothing more.
    async fn deliver(
        &self,
        envelope: session::Envelope,
        message: Spooled,
        queue_id: QueueId,
    ) -> Vec<Reply> {
        let recipients = envelope.recipients.clone();
        let backend = Arc::clone(self.backend);
        let helo = self.session.helo().to_owned();
        let peer = self.peer;
        let delivery = tokio::spawn(
            async move {
                let txn = Transaction {
                    queue_id,
                    peer,
                    helo: &helo,
                    mail_from: &envelope.mail_from,
                    recipients: &envelope.recipients,
                    message: message.as_bytes(),
                };
                backend.deliver(txn).await
            }
            .in_current_span(),
        );
        match delivery.await {
            Ok(replies) => session::replies_for(&recipients, replies),
            Err(e) => {
                warn!(peer = %self.peer, "message delivery failed: {e}");
                session::same_reply_for(
                    &recipients,
                    &Reply::new(
                        451,
                        (4, 3, 0),
                        "delivery failed with an internal error, try again later",
                    ),
                )
            }
        }
    }
}
