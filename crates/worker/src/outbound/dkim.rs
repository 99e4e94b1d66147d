//! Optional DKIM signing of outgoing mail (RFC 6376), with an RSA or Ed25519 (RFC 8463)
//! key read from a PEM file.

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

/// The header fields signed when present: those a reader sees and those that give the
/// message its meaning.
const SIGNED_HEADERS: [&str; 10] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "In-Reply-To",
    "References",
];

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("cannot read DKIM key {path}: {source} (check smtp.dkim_key)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "DKIM key {path} is not a PEM private key ({reason}); expected an RSA key \
         (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY) or an Ed25519 key (BEGIN PRIVATE KEY)"
    )]
    BadKey { path: PathBuf, reason: String },
    #[error("DKIM signing failed: {0}")]
    Sign(String),
}

enum Key {
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
}

/// Signs messages for one domain with one selector.
pub struct Dkim {
    key: Key,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        };
        f.debug_struct("Dkim").field("algorithm", &kind).finish()
    }
}

impl Dkim {
    /// Reads the key from a PEM file.
    pub fn load(path: &Path, selector: &str, domain: &str) -> Result<Self, DkimError> {
        let pem = std::fs::read(path).map_err(|source| DkimError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pem(&pem, selector, domain).map_err(|reason| DkimError::BadKey {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a PEM private key: PKCS#1 RSA, or PKCS#8 RSA or Ed25519.
    pub fn from_pem(pem: &[u8], selector: &str, domain: &str) -> Result<Self, String> {
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| e.to_string())?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) => {
                match Ed25519Key::from_pkcs8_maybe_unchecked_der(pkcs8.secret_pkcs8_der()) {
                    Ok(ed) => Key::Ed25519(signer(ed, selector, domain)),
                    Err(_) => Key::Rsa(signer(rsa(der)?, selector, domain)),
                }
            }
            _ => Key::Rsa(signer(rsa(der)?, selector, domain)),
        };
        Ok(Dkim { key })
    }

    /// Returns the message with a DKIM-Signature header on top.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DkimError> {
        let signature = match &self.key {
            Key::Rsa(s) => s.sign(message),
            Key::Ed25519(s) => s.sign(message),
        }
        .map_err(|e| DkimError::Sign(e.to_string()))?;
        let mut out = signature.to_header().into_bytes();
        out.extend_from_slice(message);
        Ok(out)
    }
}

fn rsa(der: PrivateKeyDer<'_>) -> Result<RsaKey<Sha256>, String> {
    RsaKey::<Sha256>::from_key_der(der).map_err(|e| e.to_string())
}

fn signer<T: mail_auth::common::crypto::SigningKey<Hasher = Sha256>>(
    key: T,
    selector: &str,
    domain: &str,
) -> DkimSigner<T, Done> {
    DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS)
}
