//! A small SMTP server for tests: speaks enough ESMTP for a submission (EHLO, MAIL, RCPT,
//! DATA, RSET, QUIT), records what it receives, and can play a relay that is down
//! (421 greeting), busy (451 after DATA) or refusing (550 after DATA).
//! Recipients whose local part starts with `defer` get 451, with `reject` get 550.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    Down,
    BusyAtData,
    RefuseAtData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    received: Vec<Received>,
    commands: Vec<String>,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start(mode: Mode) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            addr: listener.local_addr().unwrap(),
            state: Arc::new(Mutex::new(State {
                mode: Some(mode),
                ..State::default()
            })),
        };
        let state = sink.state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, state.clone()));
            }
        });
        sink
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Every command line the sink was sent, in order.
    pub fn commands(&self) -> Vec<String> {
        self.state.lock().unwrap().commands.clone()
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mode = state.lock().unwrap().mode.unwrap_or(Mode::Up);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if mode == Mode::Down {
        let _ = write
            .write_all(b"421 4.3.2 sink.test service not available\r\n")
            .await;
        return;
    }
    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        state.lock().unwrap().commands.push(line.clone());
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = angle(&line);
            rcpt_to.clear();
            "250 2.1.0 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = angle(&line);
            if rcpt.starts_with("defer") {
                "451 4.2.1 mailbox busy, try later\r\n".into()
            } else if rcpt.starts_with("reject") {
                "550 5.1.1 no such user here\r\n".into()
            } else {
                rcpt_to.push(rcpt);
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper.starts_with("DATA") {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut data = Vec::new();
            loop {
                let mut body_line = String::new();
                match lines.read_line(&mut body_line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if body_line == ".\r\n" {
                    break;
                }
                let unstuffed = body_line
                    .strip_prefix('.')
                    .filter(|_| body_line.starts_with(".."));
                data.extend_from_slice(unstuffed.unwrap_or(&body_line).as_bytes());
            }
            let mode = state.lock().unwrap().mode.unwrap_or(Mode::Up);
            match mode {
                Mode::BusyAtData => "451 4.3.0 queue full, try later\r\n".into(),
                Mode::RefuseAtData => "550 5.7.1 message content rejected by policy\r\n".into(),
                _ => {
                    state.lock().unwrap().received.push(Received {
                        mail_from: mail_from.clone(),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                    });
                    "250 2.0.0 queued\r\n".into()
                }
            }
        } else if upper.starts_with("RSET") {
            rcpt_to.clear();
            "250 2.0.0 ok\r\n".into()
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            "500 5.5.1 unknown command\r\n".into()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn angle(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line.get(start..end).unwrap_or_default().to_string()
}
