//! The LMTP server on real sockets, with a backend that files messages into a directory.

use imipd_lmtp::server::{ServerConfig, serve};
use imipd_lmtp::spool::SPOOL_PREFIX;
use imipd_lmtp::{Backend, RcptCheck, Reply, Transaction};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the backend was handed for one transaction.
#[derive(Debug, Clone)]
struct Delivered {
    queue_id: String,
    mail_from: String,
    recipients: Vec<String>,
    len: usize,
    checksum: u64,
    /// Spool files present while the message was being delivered.
    spool_files: usize,
}

/// Recipients whose local part starts with "nobody" do not exist, "later" cannot be
/// checked, "full" are refused at delivery, and "panic" makes delivery panic.
struct TestBackend {
    inbox: Inbox,
    spool_dir: PathBuf,
    delivered: Mutex<Vec<Delivered>>,
}

/// Where the test backend files messages: one file each in `<root>/<user>/Maildir/new`.
struct Inbox {
    root: PathBuf,
    next: AtomicU64,
}

impl Inbox {
    fn store(&self, user: &str, message: &[u8]) -> std::io::Result<()> {
        let dir = self.root.join(user).join("Maildir/new");
        std::fs::create_dir_all(&dir)?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        std::fs::write(dir.join(n.to_string()), message)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn count_spool_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(SPOOL_PREFIX))
                })
                .count()
        })
        .unwrap_or(0)
}

impl Backend for TestBackend {
    async fn check_recipient(&self, address: &str) -> RcptCheck {
        let user = address.split('@').next().unwrap_or_default();
        if user.starts_with("nobody") {
            RcptCheck::Unknown
        } else if user.starts_with("later") {
            RcptCheck::TempFail("store offline".into())
        } else {
            RcptCheck::Accept { user: user.into() }
        }
    }

    async fn deliver(&self, txn: Transaction<'_>) -> Vec<Reply> {
        if txn.recipients.iter().any(|r| r.user.starts_with("panic")) {
            panic!("delivery bug for {}", txn.mail_from);
        }
        self.delivered.lock().unwrap().push(Delivered {
            queue_id: txn.queue_id.to_string(),
            mail_from: txn.mail_from.into(),
            recipients: txn.recipients.iter().map(|r| r.address.clone()).collect(),
            len: txn.message.len(),
            checksum: fnv1a(txn.message),
            spool_files: count_spool_files(&self.spool_dir),
        });
        txn.recipients
            .iter()
            .map(|rcpt| {
                if rcpt.user.starts_with("full") {
                    return Reply::new(552, (5, 2, 2), format!("<{}> mailbox full", rcpt.address));
                }
                match self.inbox.store(&rcpt.user, txn.message) {
                    Ok(_) => Reply::new(250, (2, 0, 0), format!("<{}> delivered", rcpt.address)),
                    Err(e) => Reply::new(451, (4, 3, 0), format!("<{}> {e}", rcpt.address)),
                }
            })
            .collect()
    }
}

struct Server {
    address: String,
    backend: Arc<TestBackend>,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(adjust: impl FnOnce(&mut ServerConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let spool_dir = dir.path().join("spool");
        let mut config = ServerConfig {
            hostname: "lmtp.test".into(),
            max_message_size: 64 * 1024 * 1024,
            max_recipients: 10,
            max_connections: 10,
            idle_timeout: Duration::from_secs(20),
            spool_dir: spool_dir.clone(),
            spool_memory_threshold: 64 * 1024,
        };
        adjust(&mut config);
        let backend = Arc::new(TestBackend {
            inbox: Inbox {
                root: dir.path().join("mail"),
                next: AtomicU64::new(0),
            },
            spool_dir,
            delivered: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, backend.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            address,
            backend,
            dir,
            stop: Some(stop),
            task,
        }
    }

    async fn client(&self) -> Client {
        let mut client = Client::open(&self.address).await;
        let greeting = client.reply().await;
        assert!(greeting.starts_with("220 lmtp.test"), "{greeting}");
        client
    }

    fn delivered(&self) -> Vec<Delivered> {
        self.backend.delivered.lock().unwrap().clone()
    }

    fn inbox(&self, user: &str) -> Vec<Vec<u8>> {
        let new = self.dir.path().join("mail").join(user).join("Maildir/new");
        match std::fs::read_dir(new) {
            Ok(entries) => entries
                .map(|e| std::fs::read(e.unwrap().path()).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

struct Client {
    conn: BufReader<TcpStream>,
}

impl Client {
    async fn open(address: &str) -> Client {
        Client {
            conn: BufReader::new(TcpStream::connect(address).await.unwrap()),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.conn.get_mut().write_all(bytes).await.unwrap();
    }

    /// One whole reply, all its lines, as sent.
    async fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(30), self.conn.read_line(&mut line))
                .await
                .expect("reply within 30s")
                .unwrap();
            assert!(n > 0, "connection closed; reply so far {reply:?}");
            assert!(line.ends_with("\r\n"), "{line:?}");
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    /// The reply to one recipient after a message, with the queue id that every such reply
    /// ends in taken off: (reply, queue id).
    async fn outcome_with_id(&mut self) -> (String, String) {
        let reply = self.reply().await;
        let text = reply.trim_end_matches("\r\n");
        let split = ["queued as", "queue id"].iter().find_map(|words| {
            let (rest, id) = text
                .strip_suffix(')')?
                .rsplit_once(&format!(" ({words} "))?;
            Some((format!("{rest}\r\n"), id.to_string()))
        });
        split.unwrap_or_else(|| panic!("no queue id in {reply:?}"))
    }

    async fn outcome(&mut self) -> String {
        self.outcome_with_id().await.0
    }

    /// Sends `lines` and returns the start ("code status") of the reply to each.
    async fn commands(&mut self, lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for line in lines {
            self.send(format!("{line}\r\n").as_bytes()).await;
            out.push(self.reply().await.chars().take(9).collect());
        }
        out
    }

    async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), self.conn.read_to_end(&mut rest))
            .await
            .expect("connection closed within 10s")
            .unwrap();
        assert!(
            rest.is_empty(),
            "unexpected {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lhlo_lists_the_capabilities() {
    let server = Server::start(|c| c.max_message_size = 12345).await;
    let mut client = server.client().await;
    client.send(b"LHLO client.test\r\n").await;
    assert_eq!(
        client.reply().await,
        "250-lmtp.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SIZE 12345\r\n"
    );
    let codes = client
        .commands(&["EHLO x", "VRFY bob", "HELP", "NOOP", "QUIT"])
        .await;
    assert_eq!(
        codes,
        [
            "500 5.5.1",
            "252 2.5.2",
            "214 2.0.0",
            "250 2.0.0",
            "221 2.0.0"
        ]
    );
    client.expect_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands_get_replies_in_order() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    client
        .send(b"LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\n")
        .await;
    let lhlo = client.reply().await;
    assert!(lhlo.starts_with("250-lmtp.test"), "{lhlo}");
    assert!(client.reply().await.starts_with("250 2.1.0"));
    assert_eq!(client.reply().await, "250 2.1.5 <alice@x> recipient ok\r\n");
    assert_eq!(client.reply().await, "250 2.1.5 <bob@x> recipient ok\r\n");
    assert!(client.reply().await.starts_with("354 "));
    // The message, its end and the next transaction in one write.
    client
        .send(b"Subject: one\r\n\r\nhi\r\n.\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\n")
        .await;
    assert_eq!(client.outcome().await, "250 2.0.0 <alice@x> delivered\r\n");
    assert_eq!(client.outcome().await, "250 2.0.0 <bob@x> delivered\r\n");
    assert!(client.reply().await.starts_with("250 2.1.0"));
    assert!(client.reply().await.starts_with("250 2.1.5"));
    assert!(client.reply().await.starts_with("354 "));
    client.send(b"Subject: two\r\n\r\n.\r\nQUIT\r\n").await;
    assert_eq!(client.outcome().await, "250 2.0.0 <bob@x> delivered\r\n");
    assert!(client.reply().await.starts_with("221 "));
    client.expect_closed().await;
    assert_eq!(
        server.inbox("alice"),
        [b"Subject: one\r\n\r\nhi\r\n".to_vec()]
    );
    assert_eq!(server.inbox("bob").len(), 2);
    let delivered = server.delivered();
    assert_eq!(delivered[0].mail_from, "s@x");
    assert_eq!(delivered[0].recipients, ["alice@x", "bob@x"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_are_checked_and_answered_one_each_after_data() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    let codes = client
        .commands(&[
            "LHLO c",
            "MAIL FROM:<s@x>",
            "RCPT TO:<alice@x>",
            "RCPT TO:<nobody@x>",
            "RCPT TO:<later@x>",
            "RCPT TO:<full@x>",
            "RCPT TO:<bob@x>",
            "DATA",
        ])
        .await;
    assert_eq!(
        codes,
        [
            "250-lmtp.",
            "250 2.1.0",
            "250 2.1.5",
            "550 5.1.1",
            "451 4.3.0",
            "250 2.1.5",
            "250 2.1.5",
            "354 send "
        ]
    );
    client.send(b"x\r\n.\r\n").await;
    assert_eq!(client.outcome().await, "250 2.0.0 <alice@x> delivered\r\n");
    assert_eq!(
        client.outcome().await,
        "552 5.2.2 <full@x> mailbox full\r\n"
    );
    assert_eq!(client.outcome().await, "250 2.0.0 <bob@x> delivered\r\n");
    assert_eq!(client.commands(&["NOOP"]).await, ["250 2.0.0"]);
    assert_eq!(
        server.delivered()[0].recipients,
        ["alice@x", "full@x", "bob@x"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_messages_are_read_to_the_end_and_refused_per_recipient() {
    let server = Server::start(|c| {
        c.max_message_size = 1000;
        c.spool_memory_threshold = 100;
    })
    .await;
    let mut client = server.client().await;
    let declared = client
        .commands(&[
            "LHLO c",
            "MAIL FROM:<s@x> SIZE=5000",
            "MAIL FROM:<s@x>",
            "RCPT TO:<a@x>",
            "RCPT TO:<b@x>",
            "DATA",
        ])
        .await;
    assert_eq!(declared[1], "552 5.3.4");
    assert_eq!(
        &declared[2..],
        ["250 2.1.0", "250 2.1.5", "250 2.1.5", "354 send "]
    );
    let line = format!("{}\r\n", "y".repeat(98));
    client.send(line.repeat(30).as_bytes()).await;
    client.send(b".\r\nNOOP\r\n").await;
    for rcpt in ["a@x", "b@x"] {
        assert_eq!(
            client.outcome().await,
            format!("552 5.3.4 <{rcpt}> message exceeds the size limit of 1000 bytes\r\n")
        );
    }
    assert!(client.reply().await.starts_with("250 2.0.0"));
    assert!(server.delivered().is_empty());
    assert_eq!(count_spool_files(&server.dir.path().join("spool")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dots_are_unstuffed_and_bare_lf_is_kept() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    client
        .commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<alice@x>", "DATA"])
        .await;
    // Lines ending in a bare LF, a "." line among them, and the one end: <CRLF>.<CRLF>.
    client
        .send(b"Subject: dots\n\n..hidden\n.\r.x\nmiddle\n.\nlast\r\n.\r\n")
        .await;
    assert!(client.outcome().await.starts_with("250 2.0.0"));
    assert_eq!(
        server.inbox("alice"),
        [b"Subject: dots\n\n.hidden\n\r.x\nmiddle\n.\nlast\r\n".to_vec()]
    );
}

/// SMTP smuggling (CVE-2023-51764): a "." line next to a bare LF inside bob's message must
/// not end it, or the text after it runs as a second transaction, here one to carol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_lf_dot_line_does_not_end_the_message() {
    // (the would-be end of data the attacker uses, line ending of the smuggled commands)
    let cases = [
        ("\n.\n", "\n"),
        ("\n.\r\n", "\r\n"),
        ("\r\n.\n", "\r\n"),
        ("\r.\r\n", "\r\n"),
        ("\n.\n", "\r\n"),
    ];
    for (fake_end, eol) in cases {
        let server = Server::start(|_| {}).await;
        let mut client = server.client().await;
        client
            .commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<bob@x>", "DATA"])
            .await;
        let smuggled = [
            "MAIL FROM:<boss@x>",
            "RCPT TO:<carol@x>",
            "DATA",
            "Subject: pay",
            "",
        ]
        .map(|line| format!("{line}{eol}"))
        .concat();
        // The real end of data also ends the smuggled message on a server that fell for it.
        let message = format!("Subject: hi\r\n\r\nhello{fake_end}{smuggled}send it\r\n");
        client
            .send(format!("{message}.\r\nQUIT\r\n").as_bytes())
            .await;
        let reply = client.outcome().await;
        let after = client.reply().await;
        let case = format!("fake end {fake_end:?}, commands ending {eol:?}");
        assert!(reply.starts_with("250 2.0.0 <bob@x>"), "{case}: {reply}");
        assert!(
            after.starts_with("221 "),
            "{case}: expected QUIT's reply, got {after}"
        );
        client.expect_closed().await;
        assert_eq!(server.inbox("carol").len(), 0, "{case}: carol got mail");
        let bob = server.inbox("bob");
        assert_eq!(bob.len(), 1, "{case}: bob's copies");
        assert_eq!(
            String::from_utf8_lossy(&bob[0]),
            message,
            "{case}: bob's message must hold the smuggled text"
        );
        let delivered = server.delivered();
        assert_eq!(delivered.len(), 1, "{case}: {delivered:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_messages_are_refused() {
    // (what follows the recipients, the reply the next command gets)
    let cases: &[(&[u8], &str)] = &[
        (b"DATA\r\n.\r\n", "354 "),
        (b"DATA\r\n\r\n.\r\n", "354 "),
        (b"BDAT 0 LAST\r\n", ""),
        (b"BDAT 0\r\nBDAT 2 LAST\r\n\r\n", "250 2.0.0 0 octets"),
    ];
    for &(wire, first) in cases {
        let server = Server::start(|_| {}).await;
        let mut client = server.client().await;
        client
            .commands(&[
                "LHLO c",
                "MAIL FROM:<s@x>",
                "RCPT TO:<alice@x>",
                "RCPT TO:<bob@x>",
            ])
            .await;
        let case = String::from_utf8_lossy(wire);
        client.send(wire).await;
        if !first.is_empty() {
            let reply = client.reply().await;
            assert!(reply.starts_with(first), "{case:?}: {reply}");
        }
        for rcpt in ["alice@x", "bob@x"] {
            let reply = client.outcome().await;
            assert_eq!(
                reply,
                format!(
                    "554 5.6.0 <{rcpt}> empty message refused: no header fields and no body\r\n"
                ),
                "{case:?}"
            );
        }
        assert!(server.delivered().is_empty(), "{case:?}");
        assert!(server.inbox("alice").is_empty(), "{case:?}");
        // The session goes on.
        let codes = client
            .commands(&["MAIL FROM:<s@x>", "RCPT TO:<alice@x>", "DATA"])
            .await;
        assert_eq!(codes, ["250 2.1.0", "250 2.1.5", "354 send "], "{case:?}");
        client.send(b"Subject: x\r\n\r\n.\r\n").await;
        assert!(client.outcome().await.starts_with("250 2.0.0"), "{case:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_after_a_message_names_its_queue_id() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        client
            .commands(&[
                "LHLO c",
                "MAIL FROM:<s@x>",
                "RCPT TO:<alice@x>",
                "RCPT TO:<full@x>",
                "DATA",
            ])
            .await;
        client.send(b"Subject: x\r\n\r\n.\r\n").await;
        let (ok, id) = client.outcome_with_id().await;
        let raw = format!("{} (queued as {id})\r\n", ok.trim_end());
        assert_eq!(ok, "250 2.0.0 <alice@x> delivered\r\n", "{raw}");
        let (full, full_id) = client.outcome_with_id().await;
        assert_eq!(full, "552 5.2.2 <full@x> mailbox full\r\n");
        assert_eq!(
            full_id, id,
            "one id per message, in every recipient's reply"
        );
        ids.push(id);
    }
    let delivered: Vec<String> = server.delivered().into_iter().map(|d| d.queue_id).collect();
    assert_eq!(delivered, ids, "the backend gets the id the client is told");
    assert!(ids[0] < ids[1], "ids are time-ordered: {ids:?}");
    for id in &ids {
        assert!(
            id.len() <= 20
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "a short base32 id: {id:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_message_goes_through_the_spool_file() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    client
        .commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<big@x>", "DATA"])
        .await;
    let mut message = Vec::with_capacity(51 * 1024 * 1024);
    message.extend_from_slice(b"Subject: big\r\n\r\n");
    let mut line = 0u64;
    while message.len() < 50 * 1024 * 1024 {
        // Every 100th line starts with a dot, stuffed on the wire.
        let dot = if line.is_multiple_of(100) { "." } else { "" };
        message.extend_from_slice(format!("{dot}{line:010} {}\r\n", "z".repeat(60)).as_bytes());
        line += 1;
    }
    let mut wire = Vec::with_capacity(message.len() + message.len() / 50);
    for text in message.split_inclusive(|&b| b == b'\n') {
        if text.first() == Some(&b'.') {
            wire.push(b'.');
        }
        wire.extend_from_slice(text);
    }
    wire.extend_from_slice(b".\r\n");
    let sending = tokio::spawn(async move {
        client.send(&wire).await;
        client
    });
    let mut client = sending.await.unwrap();
    assert!(client.reply().await.starts_with("250 2.0.0"));
    let delivered = server.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].len, message.len());
    assert_eq!(delivered[0].checksum, fnv1a(&message));
    assert_eq!(
        delivered[0].spool_files, 1,
        "a message this large must be in a spool file"
    );
    assert_eq!(
        count_spool_files(&server.dir.path().join("spool")),
        0,
        "spool file left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_refused() {
    let server = Server::start(|c| c.max_connections = 1).await;
    let mut first = server.client().await;
    let mut second = Client::open(&server.address).await;
    let refused = second.reply().await;
    assert!(
        refused.starts_with("421 4.3.2 lmtp.test too many connections"),
        "{refused}"
    );
    second.expect_closed().await;
    assert_eq!(
        first.commands(&["NOOP", "QUIT"]).await,
        ["250 2.0.0", "221 2.0.0"]
    );
    first.expect_closed().await;
    // The slot is free again once the first connection is gone.
    let mut third = None;
    for _ in 0..50 {
        let mut client = Client::open(&server.address).await;
        if client.reply().await.starts_with("220 ") {
            third = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut third = third.expect("a connection after the first closed");
    assert_eq!(third.commands(&["NOOP"]).await, ["250 2.0.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_are_disconnected() {
    let server = Server::start(|c| c.idle_timeout = Duration::from_millis(300)).await;
    let mut client = server.client().await;
    client.commands(&["LHLO c", "MAIL FROM:<s@x>"]).await;
    let started = std::time::Instant::now();
    let reply = client.reply().await;
    assert!(reply.starts_with("421 4.4.2 lmtp.test idle"), "{reply}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    client.expect_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_backend_costs_one_transaction_only() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    client
        .commands(&[
            "LHLO c",
            "MAIL FROM:<s@x>",
            "RCPT TO:<alice@x>",
            "RCPT TO:<panic@x>",
            "DATA",
        ])
        .await;
    client.send(b"boom\r\n.\r\n").await;
    for rcpt in ["alice@x", "panic@x"] {
        let reply = client.reply().await;
        assert!(
            reply.starts_with(&format!("451 4.3.0 <{rcpt}> ")),
            "{reply}"
        );
    }
    assert_eq!(client.commands(&["NOOP"]).await, ["250 2.0.0"]);
    let mut next = server.client().await;
    next.commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<alice@x>", "DATA"])
        .await;
    next.send(b"fine\r\n.\r\n").await;
    assert!(next.reply().await.starts_with("250 2.0.0"));
    assert_eq!(server.inbox("alice"), [b"fine\r\n".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_open_transaction_finish() {
    let mut server = Server::start(|_| {}).await;
    let mut idle = server.client().await;
    idle.commands(&["LHLO idle"]).await;
    let mut busy = server.client().await;
    busy.commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<alice@x>", "DATA"])
        .await;
    busy.send(b"Subject: half\r\n").await;
    server.stop.take().unwrap().send(()).unwrap();
    let reply = idle.reply().await;
    assert!(
        reply.starts_with("421 4.3.2 lmtp.test shutting down"),
        "{reply}"
    );
    idle.expect_closed().await;
    busy.send(b"\r\nrest\r\n.\r\n").await;
    assert!(busy.reply().await.starts_with("250 2.0.0"));
    assert!(busy.reply().await.starts_with("421 4.3.2"));
    busy.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(10), &mut server.task)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
    assert!(
        TcpStream::connect(&server.address).await.is_err(),
        "still accepting"
    );
    assert_eq!(
        server.inbox("alice"),
        [b"Subject: half\r\n\r\nrest\r\n".to_vec()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_mid_message_leaves_no_spool_file() {
    let server = Server::start(|c| c.spool_memory_threshold = 1000).await;
    let mut client = server.client().await;
    client
        .commands(&["LHLO c", "MAIL FROM:<s@x>", "RCPT TO:<alice@x>", "DATA"])
        .await;
    client.send(&b"0123456789\r\n".repeat(1000)).await;
    let spool = server.dir.path().join("spool");
    let mut seen_file = false;
    for _ in 0..100 {
        if count_spool_files(&spool) == 1 {
            seen_file = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen_file, "the message should be spooling to a file");
    drop(client);
    let mut gone = false;
    for _ in 0..100 {
        if count_spool_files(&spool) == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone, "spool file left after the client vanished");
    assert!(server.delivered().is_empty());
    let mut next = server.client().await;
    assert_eq!(next.commands(&["NOOP"]).await, ["250 2.0.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_command_lines_are_refused_and_skipped() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    let long = format!("NOOP {}\r\nNOOP\r\n", "x".repeat(100_000));
    client.send(long.as_bytes()).await;
    let reply = client.reply().await;
    assert!(
        reply.starts_with("500 5.5.2 command line longer than"),
        "{reply}"
    );
    assert!(client.reply().await.starts_with("250 2.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bdat_chunks_are_taken_verbatim() {
    let server = Server::start(|_| {}).await;
    let mut client = server.client().await;
    let first = b"A: 1\r\n\r\n.\r\n";
    let last = b"..x\n";
    let mut wire =
        b"LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@x>\r\nRCPT TO:<full@x>\r\n".to_vec();
    wire.extend_from_slice(format!("BDAT {}\r\n", first.len()).as_bytes());
    wire.extend_from_slice(first);
    wire.extend_from_slice(format!("BDAT {} LAST\r\n", last.len()).as_bytes());
    wire.extend_from_slice(last);
    wire.extend_from_slice(b"NOOP\r\n");
    client.send(&wire).await;
    for expected in ["250-lmtp.", "250 2.1.0", "250 2.1.5", "250 2.1.5"] {
        assert!(client.reply().await.starts_with(expected), "{expected}");
    }
    assert_eq!(
        client.reply().await,
        format!("250 2.0.0 {} octets received\r\n", first.len())
    );
    assert_eq!(client.outcome().await, "250 2.0.0 <alice@x> delivered\r\n");
    assert_eq!(
        client.outcome().await,
        "552 5.2.2 <full@x> mailbox full\r\n"
    );
    assert!(client.reply().await.starts_with("250 2.0.0 ok"));
    assert_eq!(server.inbox("alice"), [[&first[..], &last[..]].concat()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bdat_chunks_are_skipped_not_parsed() {
    let server = Server::start(|c| c.max_message_size = 10).await;
    let mut client = server.client().await;
    client.send(b"LHLO c\r\nBDAT 6\r\nQUIT\r\nNOOP\r\n").await;
    assert!(client.reply().await.starts_with("250-lmtp."));
    assert_eq!(client.reply().await, "503 5.5.1 send MAIL first\r\n");
    assert!(client.reply().await.starts_with("250 2.0.0 ok"));
    let codes = client
        .commands(&["MAIL FROM:<s@x>", "RCPT TO:<alice@x>"])
        .await;
    assert_eq!(codes, ["250 2.1.0", "250 2.1.5"]);
    client.send(b"BDAT 8\r\n12345678").await;
    assert_eq!(client.reply().await, "250 2.0.0 8 octets received\r\n");
    client.send(b"BDAT 8 LAST\r\n12345678").await;
    let reply = client.reply().await;
    assert!(
        reply.starts_with("552 5.3.4 <alice@x> message exceeds"),
        "{reply}"
    );
    assert!(server.delivered().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_spool_files_are_removed_at_start() {
    let server = Server::start(|c| {
        std::fs::create_dir_all(&c.spool_dir).unwrap();
        std::fs::write(c.spool_dir.join(format!("{SPOOL_PREFIX}stale")), b"old").unwrap();
        std::fs::write(c.spool_dir.join("keep"), b"not ours").unwrap();
    })
    .await;
    let _client = server.client().await;
    let spool = server.dir.path().join("spool");
    assert_eq!(count_spool_files(&spool), 0);
    assert!(spool.join("keep").exists());
}
