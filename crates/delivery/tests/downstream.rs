//! The downstream LMTP client against scripted LMTP servers on real sockets.

use imipd_delivery::downstream::LmtpClient;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::oneshot;

/// What the scripted server saw.
#[derive(Debug, Default)]
struct Seen {
    commands: Vec<String>,
    data: Vec<u8>,
}

/// A small LMTP server: refuses recipients starting with "nobody" at RCPT, and after the
/// message tempfails those starting with "busy". With `hang_up_after_rcpt` it closes the
/// connection instead of answering DATA.
async fn scripted<S: AsyncRead + AsyncWrite + Unpin>(stream: S, hang_up_after_rcpt: bool) -> Seen {
    let mut conn = BufReader::new(stream);
    let mut seen = Seen::default();
    let mut accepted = Vec::new();
    conn.get_mut()
        .write_all(b"220 peer LMTP\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await.unwrap() == 0 {
            return seen;
        }
        let command = line.trim_end().to_owned();
        seen.commands.push(command.clone());
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("LHLO") {
            "250-peer\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n".into()
        } else if upper.starts_with("MAIL") {
            "250 2.1.0 ok\r\n".into()
        } else if let Some(rcpt) = command.strip_prefix("RCPT TO:<") {
            let rcpt = rcpt.trim_end_matches('>').to_owned();
            if rcpt.starts_with("nobody") {
                format!("550 5.1.1 <{rcpt}> User doesn't exist\r\n")
            } else {
                accepted.push(rcpt);
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper == "DATA" {
            if hang_up_after_rcpt {
                return seen;
            }
            conn.get_mut().write_all(b"354 go ahead\r\n").await.unwrap();
            loop {
                let mut data_line = Vec::new();
                conn.read_until(b'\n', &mut data_line).await.unwrap();
                if data_line == b".\r\n" || data_line.is_empty() {
                    break;
                }
                seen.data.extend_from_slice(&data_line);
            }
            accepted
                .iter()
                .map(|rcpt| {
                    if rcpt.starts_with("busy") {
                        format!("452 4.2.2 <{rcpt}> Mailbox is full\r\n")
                    } else {
                        format!("250 2.0.0 <{rcpt}> Saved\r\n")
                    }
                })
                .collect()
        } else if upper == "QUIT" {
            conn.get_mut()
                .write_all(b"221 2.0.0 bye\r\n")
                .await
                .unwrap();
            return seen;
        } else {
            "500 5.5.1 what?\r\n".into()
        };
        conn.get_mut().write_all(reply.as_bytes()).await.unwrap();
    }
}

async fn tcp_peer(hang_up_after_rcpt: bool) -> (String, oneshot::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = tx.send(scripted(stream, hang_up_after_rcpt).await);
    });
    (address, rx)
}

fn codes(replies: &[imipd_lmtp::Reply]) -> Vec<(u16, (u8, u16, u16))> {
    replies.iter().map(|r| (r.code, r.status)).collect()
}

#[tokio::test]
async fn per_recipient_replies_come_from_the_downstream() {
    let (address, seen) = tcp_peer(false).await;
    let client = LmtpClient::new(&address, "imipd.test").unwrap();
    let rcpts = ["alice@x", "nobody@x", "busy@x", "bob@x"];
    let pieces: [&[u8]; 2] = [b"Subject: t\n\n", b".dot line\nend"];
    let replies = client.deliver("sender@y", &rcpts, &pieces).await;
    assert_eq!(
        codes(&replies),
        [
            (250, (2, 0, 0)),
            (550, (5, 1, 1)),
            (452, (4, 2, 2)),
            (250, (2, 0, 0))
        ]
    );
    assert_eq!(replies[1].text, "<nobody@x> User doesn't exist");
    assert_eq!(replies[2].text, "<busy@x> Mailbox is full");
    let seen = seen.await.unwrap();
    assert_eq!(
        seen.commands,
        [
            "LHLO imipd.test",
            "MAIL FROM:<sender@y>",
            "RCPT TO:<alice@x>",
            "RCPT TO:<nobody@x>",
            "RCPT TO:<busy@x>",
            "RCPT TO:<bob@x>",
            "DATA",
            "QUIT"
        ]
    );
    assert_eq!(seen.data, b"Subject: t\r\n\r\n..dot line\r\nend\r\n");
}

#[tokio::test]
async fn eight_bit_messages_are_declared_when_the_downstream_allows() {
    let (address, seen) = tcp_peer(false).await;
    let client = LmtpClient::new(&address, "imipd.test").unwrap();
    let replies = client
        .deliver("", &["a@x"], &["Grüße\r\n".as_bytes()])
        .await;
    assert_eq!(codes(&replies), [(250, (2, 0, 0))]);
    let seen = seen.await.unwrap();
    assert_eq!(seen.commands[1], "MAIL FROM:<> BODY=8BITMIME");
}

#[tokio::test]
async fn downstream_down_is_a_temporary_failure_for_each_recipient() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let client = LmtpClient::new(&address, "imipd.test").unwrap();
    let replies = client.deliver("s@y", &["a@x", "b@x"], &[b"m\r\n"]).await;
    assert_eq!(codes(&replies), [(451, (4, 4, 1)), (451, (4, 4, 1))]);
    for (reply, rcpt) in replies.iter().zip(["a@x", "b@x"]) {
        assert!(
            reply
                .text
                .starts_with(&format!("<{rcpt}> downstream {address} unavailable: ")),
            "{}",
            reply.text
        );
        assert!(reply.text.ends_with("try again later"), "{}", reply.text);
    }
}

#[tokio::test]
async fn a_hang_up_keeps_refusals_and_tempfails_the_rest() {
    let (address, _seen) = tcp_peer(true).await;
    let client = LmtpClient::new(&address, "imipd.test").unwrap();
    let replies = client
        .deliver("s@y", &["a@x", "nobody@x"], &[b"m\r\n"])
        .await;
    assert_eq!(codes(&replies), [(451, (4, 4, 1)), (550, (5, 1, 1))]);
    assert!(
        replies[0].text.contains("connection closed"),
        "{}",
        replies[0].text
    );
}

#[tokio::test]
async fn unix_socket_targets_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lmtp");
    let listener = UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        scripted(stream, false).await
    });
    let client = LmtpClient::new(path.to_str().unwrap(), "imipd.test").unwrap();
    let replies = client.deliver("s@y", &["a@x"], &[b"hello\r\n"]).await;
    assert_eq!(codes(&replies), [(250, (2, 0, 0))]);
    assert_eq!(server.await.unwrap().data, b"hello\r\n");
}

#[tokio::test]
async fn no_recipients_means_no_connection_and_no_replies() {
    let client = LmtpClient::new("127.0.0.1:1", "imipd.test").unwrap();
    assert!(client.deliver("s@y", &[], &[b"m\r\n"]).await.is_empty());
}
