//! One HTTP/1.1 request over a fresh connection, as a DAV client sends it, and its reply.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with HTTP Basic for `login` (when given) and reads the whole reply.
pub fn request(
    addr: SocketAddr,
    login: Option<(&str, &str)>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut conn = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((login, pw)) = login {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{pw}"));
        head.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut reader = BufReader::new(conn);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':').unwrap();
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body).unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Asserts that GET and HEAD of each collection answer 405 with an `Allow` that names
/// PROPFIND and leaves GET out; `send(method, path)` makes the request.
pub fn assert_get_refused(paths: &[&str], send: impl Fn(&str, &str) -> Reply) {
    for method in ["GET", "HEAD"] {
        for path in paths {
            let r = send(method, path);
            assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
            let allow = r.header("Allow").unwrap_or_default();
            assert!(
                allow.contains("PROPFIND") && !allow.contains("GET"),
                "{method} {path}: Allow {allow:?}"
            );
        }
    }
}
