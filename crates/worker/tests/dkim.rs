//! DKIM at send time: mail waits in the outbox unsigned and reaches the relay with a
//! signature that verifies, made with the key the outbox holds when it sends.

mod common;

use common::outbox::{cfg, open_store, relay, reply_mail};
use common::smtp_sink::{Mode, SmtpSink};
use imipd_store::{JobFilter, NewMail};
use imipd_worker::outbound::{Dkim, OutboxConfig, outbox_round};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A DNS cache filled by the test, so DKIM verification needs no network.
struct Records(Mutex<HashMap<String, Txt>>);

impl ResolverCache<String, Txt> for Records {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }

    fn insert(&self, key: String, value: Txt, _: Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn dkim_result(
    authenticator: &MessageAuthenticator,
    records: &Records,
    data: &[u8],
) -> Vec<DkimResult> {
    let message = AuthenticatedMessage::parse(data).unwrap();
    authenticator
        .verify_dkim(Parameters::new(&message).with_txt_cache(records))
        .await
        .iter()
        .map(|r| r.result().clone())
        .collect()
}

#[tokio::test]
async fn mail_is_signed_when_it_is_sent_and_the_signature_verifies() {
    let authenticator = MessageAuthenticator::new_cloudflare().unwrap();
    let cases = [
        ("dkim-rsa.pem", "dkim-rsa.txt"),
        ("dkim-rsa-pkcs1.pem", "dkim-rsa.txt"),
        ("dkim-ed25519.pem", "dkim-ed25519.txt"),
    ];
    for (key, record) in cases {
        let (_dir, store) = open_store();
        let sink = SmtpSink::start(Mode::Up).await;
        // Queued before any key is loaded: whoever queues mail needs none.
        let queued = reply_mail(&["alice@example.com"]);
        assert!(!queued.data.starts_with(b"DKIM-Signature:"), "{key}");
        store.queue_mail(&queued).unwrap();
        let dkim = Dkim::load(&fixture(key), "sel", "example.org")
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let signing = OutboxConfig {
            dkim: Some(Arc::new(dkim)),
            ..cfg(8)
        };
        assert_eq!(
            outbox_round(&store, Some(&relay(sink.addr)), &signing).await,
            1
        );

        let received = sink.received();
        assert_eq!(received.len(), 1, "{key}");
        let data = &received[0].data;
        assert!(
            data.starts_with(b"DKIM-Signature:"),
            "{key}: no signature on top"
        );
        let stored = store.mails(&JobFilter::default()).unwrap();
        assert_eq!(
            stored[0].data, queued.data,
            "{key}: the outbox keeps it unsigned"
        );

        let txt = std::fs::read_to_string(fixture(record)).unwrap();
        let records = Records(Mutex::new(HashMap::new()));
        records.insert(
            "sel._domainkey.example.org.".into(),
            Txt::from(DomainKey::parse(txt.trim().as_bytes())),
            Instant::now(),
        );
        assert_eq!(
            dkim_result(&authenticator, &records, data).await,
            vec![DkimResult::Pass],
            "{key}"
        );
        // Any change to a signed part breaks the signature.
        let tampered = String::from_utf8_lossy(data).replace("Weekly sync", "Weekly sinc");
        let results = dkim_result(&authenticator, &records, tampered.as_bytes()).await;
        assert_ne!(
            results.first(),
            Some(&DkimResult::Pass),
            "{key}: tampered message passed"
        );
    }
}

#[tokio::test]
async fn a_redirect_goes_out_as_it_came_in() {
    let (_dir, store) = open_store();
    let sink = SmtpSink::start(Mode::Up).await;
    let original = b"From: a@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    store
        .queue_mail(&NewMail {
            user: "bob@example.org".into(),
            mail_from: "bob@example.org".into(),
            rcpt_to: vec!["bob@elsewhere.example".into()],
            data: original.to_vec(),
            purpose: "redirect".into(),
            idem_key: None,
            queue_id: "Q-redirect".into(),
        })
        .unwrap();
    let dkim = Dkim::load(&fixture("dkim-ed25519.pem"), "sel", "example.org").unwrap();
    let signing = OutboxConfig {
        dkim: Some(Arc::new(dkim)),
        ..cfg(8)
    };
    outbox_round(&store, Some(&relay(sink.addr)), &signing).await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    // The SMTP client ends the data with its own line break before the dot.
    let data = String::from_utf8_lossy(&received[0].data);
    assert!(
        data.starts_with(std::str::from_utf8(original).unwrap()) && !data.contains("DKIM"),
        "a redirect is relayed unchanged, without our signature: {data:?}"
    );
}

#[test]
fn bad_dkim_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, "not a key").unwrap();
    let err = Dkim::load(&path, "s", "example.org")
        .unwrap_err()
        .to_string();
    assert!(err.contains("key.pem") && err.contains("PEM"), "{err}");
    let err = Dkim::load(&dir.path().join("missing.pem"), "s", "example.org")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.pem") && err.contains("smtp.dkim_key"),
        "{err}"
    );
}
