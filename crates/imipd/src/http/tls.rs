//! TLS on the HTTP listener (rustls with the ring provider), from the PEM files the
//! config names, and the warning for a listener beyond loopback without it.

use anyhow::{Context, Result, bail};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

/// The acceptor for a certificate chain (leaf first) and its private key, both PEM.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "cannot read the certificate http.tls_cert = {} (a PEM file of the \
                 certificate chain, leaf first, readable by imipd)",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        bail!(
            "http.tls_cert = {} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            cert.display()
        );
    }
    let private = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "cannot read the private key http.tls_key = {} (a PEM file with one PKCS#8, \
             PKCS#1 or SEC1 key, readable by imipd)",
            key.display()
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .with_context(|| {
            format!(
                "http.tls_key = {} does not fit http.tls_cert = {} (the key must be the \
                 certificate's)",
                key.display(),
                cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The warning for a listener that others can reach and that speaks plain HTTP, where
/// HTTP Basic sends passwords readable on the way; `None` on loopback or with TLS.
pub fn plain_warning(listen: SocketAddr, tls: bool) -> Option<String> {
    (!tls && !listen.ip().is_loopback()).then(|| {
        format!(
            "http listens on {listen} without TLS: passwords travel in the clear unless a \
             TLS-terminating proxy is in front; set http.tls_cert and http.tls_key, or listen \
             on 127.0.0.1 behind the proxy"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_beyond_loopback_is_warned_about() {
        // (listen, TLS, warned)
        let cases = [
            ("127.0.0.1:8008", false, false),
            ("[::1]:8008", false, false),
            ("0.0.0.0:8008", false, true),
            ("192.0.2.7:8008", false, true),
            ("[::]:8008", false, true),
            ("0.0.0.0:8443", true, false),
        ];
        for (listen, tls, warned) in cases {
            let got = plain_warning(listen.parse().unwrap(), tls);
            assert_eq!(got.is_some(), warned, "{listen} tls={tls}: {got:?}");
        }
    }

    #[test]
    fn unreadable_or_mismatched_files_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let one = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cert = write("cert.pem", one.cert.pem());
        let key = write("key.pem", one.signing_key.serialize_pem());
        let other_key = write("other.pem", other.signing_key.serialize_pem());
        let empty = write("empty.pem", String::new());
        let missing = dir.path().join("missing.pem");
        assert!(acceptor(&cert, &key).is_ok());
        // (cert, key, what the error names)
        let cases = [
            (&missing, &key, "http.tls_cert"),
            (&empty, &key, "holds no certificate"),
            (&cert, &missing, "http.tls_key"),
            (&cert, &cert, "http.tls_key"),
            (&cert, &other_key, "does not fit"),
        ];
        for (cert, key, says) in cases {
            let e = format!("{:#}", acceptor(cert, key).err().unwrap());
            assert!(e.contains(says), "{cert:?} {key:?}: {e}");
        }
    }
}
