//! TLS on the HTTP listener, over real sockets: a self-signed certificate made here, named
//! in the config, serves CalDAV over TLS and nothing in plain HTTP; a plain listener beyond
//! loopback is warned about, one on loopback is not; a renewed certificate is served after
//! SIGHUP without a restart.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::{self, pki_types::ServerName};

const BOB: &str = "bob@example.org";
const PW: &str = "s3cret pass";

fn users(dir: &Path) {
    must(dir, &["user", "add", BOB, "--password", PW]);
}

/// A certificate for localhost and 127.0.0.1 and its key, as PEM files in `dir`, named in
/// a config file there; returns the config's path and the certificate.
fn tls_config(
    dir: &Path,
) -> (
    std::path::PathBuf,
    rustls::pki_types::CertificateDer<'static>,
) {
    let cert = write_pair(dir);
    let config = dir.join("imipd.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\ntls_cert = {:?}\ntls_key = {:?}\n",
            dir.join("cert.pem"),
            dir.join("key.pem")
        ),
    )
    .unwrap();
    (config, cert)
}

/// A new certificate for localhost and its key, written over `dir`'s cert.pem and key.pem.
fn write_pair(dir: &Path) -> rustls::pki_types::CertificateDer<'static> {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).unwrap();
    made.cert.der().clone()
}

/// One request over TLS, trusting only `cert`; the whole reply as text.
fn tls_request(
    addr: SocketAddr,
    cert: &rustls::pki_types::CertificateDer<'static>,
    head: &str,
) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
    tls.write_all(head.as_bytes()).unwrap();
    let mut reply = Vec::new();
    // A server that closes without close_notify still gave its reply.
    let _ = tls.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

fn basic() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{BOB}:{PW}"))
}

#[test]
fn a_configured_certificate_serves_caldav_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let (config, cert) = tls_config(dir.path());
    let config = config.to_str().unwrap().to_string();
    let server = Imipd::start_in(dir, &[("IMIPD_CONFIG", &config)]);
    let addr = wait_for_listen(&server.log, "http listening on");
    assert!(
        server
            .log_text()
            .contains(&format!("http listening on {addr} (TLS)"))
    );
    let body = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
    let reply = tls_request(
        addr,
        &cert,
        &format!(
            "PROPFIND /calendars/bob@example.org/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Authorization: Basic {}\r\nDepth: 0\r\nContent-Length: {}\r\n\r\n{body}",
            basic(),
            body.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 207"), "{reply}");
    assert!(reply.contains("/principals/bob%40example.org/"), "{reply}");
    let health = tls_request(
        addr,
        &cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Plain HTTP to the TLS listener gets no HTTP answer.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(!server.log_text().contains("without TLS"));
}

#[test]
fn plain_http_beyond_loopback_is_warned_about_and_still_served() {
    // (listen address, warned)
    for (listen, warned) in [("0.0.0.0:0", true), ("127.0.0.1:0", false)] {
        let server = Imipd::start(users, &[("IMIPD_HTTP_LISTEN", listen)]);
        let addr = wait_for_listen(&server.log, "http listening on");
        let local = SocketAddr::from(([127, 0, 0, 1], addr.port()));
        let reply = common::http::request(local, None, "GET", "/healthz", &[], b"");
        assert_eq!(reply.status, 200, "{listen}");
        let log = server.log_text();
        assert_eq!(
            log.contains("without TLS: passwords travel in the clear"),
            warned,
            "{listen}: {log}"
        );
    }
}

#[test]
fn a_renewed_certificate_is_served_after_sighup() {
    let dir = tempfile::tempdir().unwrap();
    users(dir.path());
    let (config, _) = tls_config(dir.path());
    let config = config.to_str().unwrap().to_string();
    let certs = dir.path().to_path_buf();
    let server = Imipd::start_in(dir, &[("IMIPD_CONFIG", &config)]);
    let addr = wait_for_listen(&server.log, "http listening on");
    let renewed = write_pair(&certs);
    let pid = server.child.id().to_string();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(hup.success());
    eventually(10, "the certificate read again", || {
        server
            .log_text()
            .contains("TLS certificate read again")
            .then_some(())
    });
    let health = tls_request(
        addr,
        &renewed,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}
