//! TLS on the HTTP listener (rustls with the ring provider), from the PEM files the
//! config names, and the warning for a listener beyond loopback without it.

use anyhow::{Context, Result, bail};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// How often the certificate files are looked at for a renewal.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// What a file's renewal changes: device, inode (a new file or link target), modification
/// time and length.
type Stamp = [(u64, u64, i64, i64, u64); 2];

/// The certificate the listener serves, read again when its files change (a renewal), so
/// clients never meet an expired one while the server runs.
#[derive(Debug)]
pub struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<(Option<Stamp>, Arc<CertifiedKey>)>,
}

impl Certificate {
    /// Reads the certificate chain (leaf first) and its private key, both PEM.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Certificate>> {
        let provider = Arc::new(ring::default_provider());
        let stamp = stamp(cert, key);
        let certified = read(cert, key, &provider)?;
        Ok(Arc::new(Certificate {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            current: RwLock::new((stamp, Arc::new(certified))),
        }))
    }

    /// Reads the files again when they changed since the last read, or always with
    /// `force` (SIGHUP). `Ok(true)`: the new pair is served from now on; an error leaves
    /// the pair in use, and names what is wrong with the new one.
    pub fn refresh(&self, force: bool) -> Result<bool> {
        let now = stamp(&self.cert, &self.key);
        let seen = self.current.read().map(|c| c.0).unwrap_or(None);
        if !force && now == seen {
            return Ok(false);
        }
        let read = read(&self.cert, &self.key, &self.provider);
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        // A pair that fails is not read again until its files change once more.
        current.0 = now;
        current.1 = Arc::new(read?);
        Ok(true)
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .1
                .clone(),
        )
    }
}

fn stamp(cert: &Path, key: &Path) -> Option<Stamp> {
    let one = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.dev(), m.ino(), m.mtime(), m.mtime_nsec(), m.len()))
    };
    Some([one(cert)?, one(key)?])
}

fn read(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey> {
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
    CertifiedKey::from_der(chain, private, provider).with_context(|| {
        format!(
            "http.tls_key = {} does not fit http.tls_cert = {} (the key must be the \
             certificate's)",
            key.display(),
            cert.display()
        )
    })
}

/// The acceptor that serves `certificate`, as it is at each handshake.
pub fn acceptor(certificate: &Arc<Certificate>) -> Result<TlsAcceptor> {
    let mut config = ServerConfig::builder_with_provider(certificate.provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(certificate.clone());
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

    /// The leaf certificate `certificate` serves now.
    fn served(certificate: &Certificate) -> Vec<u8> {
        certificate.current.read().unwrap().1.cert[0].to_vec()
    }

    #[test]
    fn a_renewed_pair_is_served_and_a_broken_one_keeps_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let made = || rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let write = |pair: &rcgen::CertifiedKey<rcgen::KeyPair>| {
            std::fs::write(&cert, pair.cert.pem()).unwrap();
            std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        };
        let first = made();
        write(&first);
        let certificate = Certificate::load(&cert, &key).unwrap();
        assert_eq!(served(&certificate), first.cert.der().to_vec());
        assert!(!certificate.refresh(false).unwrap(), "nothing changed");

        let renewed = made();
        write(&renewed);
        assert!(certificate.refresh(false).unwrap());
        assert_eq!(served(&certificate), renewed.cert.der().to_vec());

        // Half a renewal: a new key beside the certificate it does not fit.
        std::fs::write(&key, made().signing_key.serialize_pem()).unwrap();
        let e = format!("{:#}", certificate.refresh(false).unwrap_err());
        assert!(e.contains("does not fit"), "{e}");
        assert_eq!(served(&certificate), renewed.cert.der().to_vec());
        assert!(
            !certificate.refresh(false).unwrap(),
            "not read again unchanged"
        );
        assert!(
            certificate.refresh(true).is_err(),
            "read again when asked to"
        );
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
        assert!(Certificate::load(&cert, &key).is_ok());
        // (cert, key, what the error names)
        let cases = [
            (&missing, &key, "http.tls_cert"),
            (&empty, &key, "holds no certificate"),
            (&cert, &missing, "http.tls_key"),
            (&cert, &cert, "http.tls_key"),
            (&cert, &other_key, "does not fit"),
        ];
        for (cert, key, says) in cases {
            let e = format!("{:#}", Certificate::load(cert, key).err().unwrap());
            assert!(e.contains(says), "{cert:?} {key:?}: {e}");
        }
    }
}
