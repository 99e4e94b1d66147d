//! Buffered connection I/O: replies are collected and sent only when the client has no
//! more input waiting (RFC 2920 pipelining), reads time out when the client is idle, and a
//! wait for the next command ends early when the server shuts down.

use crate::Reply;
use crate::protocol::{MAX_COMMAND_LINE, write_reply};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Replies pending past this size are sent even if more input is waiting, so a client
/// that pipelines without reading cannot grow the buffer without bound.
const MAX_PENDING_OUTPUT: usize = 64 * 1024;
const READ_BUFFER: usize = 64 * 1024;

/// Why no more input will be read.
#[derive(Debug)]
pub enum Closed {
    /// The client closed the connection.
    Eof,
    /// The client sent nothing for the idle timeout.
    Idle,
    /// The server is shutting down and no transaction is open.
    Stopping,
    Io(io::Error),
}

pub enum Line {
    Command(Vec<u8>),
    /// A line over [`MAX_COMMAND_LINE`], already skipped.
    TooLong,
}

pub struct Io {
    reader: BufReader<TcpStream>,
    out: Vec<u8>,
    idle: Duration,
}

impl Io {
    pub fn new(stream: TcpStream, idle: Duration) -> Self {
        Io {
            reader: BufReader::with_capacity(READ_BUFFER, stream),
            out: Vec::new(),
            idle,
        }
    }

    pub async fn reply(&mut self, reply: &Reply) -> Result<(), Closed> {
        write_reply(reply, &mut self.out);
        if self.out.len() > MAX_PENDING_OUTPUT {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), Closed> {
        if self.out.is_empty() {
            return Ok(());
        }
        let stream = self.reader.get_mut();
        let written = tokio::time::timeout(self.idle, async {
            stream.write_all(&self.out).await?;
            stream.flush().await
        })
        .await;
        self.out.clear();
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Closed::Io(e)),
            Err(_) => Err(Closed::Idle),
        }
    }

    /// Sends what is pending and closes the sending side.
    pub async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(self.idle, self.reader.get_mut().shutdown()).await;
        }
    }

    /// Input received and not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        self.reader.buffer()
    }

    pub fn consume(&mut self, amount: usize) {
        std::pin::Pin::new(&mut self.reader).consume(amount);
    }

    /// Makes input available in [`Io::buffer`], sending pending replies first when the
    /// wait would otherwise hold them back. With `stop`, the wait also ends at shutdown.
    pub async fn fill(&mut self, stop: Option<&mut watch::Receiver<bool>>) -> Result<(), Closed> {
        if !self.reader.buffer().is_empty() {
            return Ok(());
        }
        self.flush().await?;
        let read = tokio::time::timeout(self.idle, self.reader.fill_buf());
        let available = match stop {
            Some(stop) => tokio::select! {
                read = read => read,
                _ = stop.wait_for(|&stopping| stopping) => return Err(Closed::Stopping),
            },
            None => read.await,
        };
        match available {
            Ok(Ok([])) => Err(Closed::Eof),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Closed::Io(e)),
            Err(_) => Err(Closed::Idle),
        }
    }

    /// Reads one command line, ending in LF. With `stop`, waiting for the line's first
    /// byte ends at shutdown; a line once begun is read to its end.
    pub async fn read_line(
        &mut self,
        mut stop: Option<&mut watch::Receiver<bool>>,
    ) -> Result<Line, Closed> {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let waiting_for_start = line.is_empty() && !too_long;
            self.fill(if waiting_for_start {
                stop.as_deref_mut()
            } else {
                None
            })
            .await?;
            let buffer = self.reader.buffer();
            let (chunk, complete) = match buffer.iter().position(|&b| b == b'\n') {
                Some(i) => (&buffer[..=i], true),
                None => (buffer, false),
            };
            if !too_long && line.len() + chunk.len() <= MAX_COMMAND_LINE {
                line.extend_from_slice(chunk);
            } else {
                too_long = true;
                line = Vec::new();
            }
            let used = chunk.len();
            self.consume(used);
            if complete {
                return Ok(if too_long {
                    Line::TooLong
                } else {
                    Line::Command(line)
                });
            }
        }
    }
}
