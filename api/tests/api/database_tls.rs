//! `sslmode` and `sslrootcert` in a `postgres://` DATABASE_URL: against the local
//! PostgreSQL, and against a loopback server that speaks just enough of the protocol to
//! offer (or refuse) TLS with a certificate made here.

use std::sync::Arc;
use std::time::Duration;

use api::store;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::helpers::{Backend, TestDb, postgres_available};

/// PostgreSQL's SSLRequest: length 8, code 1234.5679.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Longer than any loopback handshake; a hang fails the test instead of stalling it.
const LIMIT: Duration = Duration::from_secs(30);

/// Opens the store `url` names, and the whole error chain when that fails.
async fn open(url: &str) -> Result<(), String> {
    match tokio::time::timeout(LIMIT, store::open(url)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => panic!("connecting did not finish"),
    }
}

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_postgres_connects_without_tls_and_refuses_unverified_tls() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    open(&with_query(&db.url, "sslmode=disable")).await.unwrap();
    // Whether this server has TLS or not, `require` must not connect to it unchecked: with
    // TLS, its certificate is not one the public roots vouch for; without, there is none.
    let refused = open(&with_query(&db.url, "sslmode=require"))
        .await
        .unwrap_err();
    assert!(
        refused.contains("TLS") && (refused.contains("certificate") || refused.contains("support")),
        "{refused}"
    );
    let unknown = open(&with_query(&db.url, "sslmode=always"))
        .await
        .unwrap_err();
    assert!(unknown.contains("sslmode=\"always\""), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_uses_tls_when_the_local_postgres_offers_it() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let options = api::store::postgres::tls::connect_options(&db.url).unwrap();
    let (client, connection) = options.config.connect(options.tls).await.unwrap();
    tokio::spawn(connection);
    let offered: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    let used: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(used, offered == "on");
}

/// A private CA and a server certificate it signed for `names`.
struct Pki {
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
}

fn pki(names: &[&str]) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Home Inventory test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_cert: cert.der().clone(),
        server_key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

/// What the fake server saw of the one connection it took.
#[derive(Debug, PartialEq)]
enum Seen {
    /// The TLS handshake completed.
    Handshake,
    /// The TLS handshake failed.
    HandshakeFailed,
    /// Refused TLS, then read a plain startup message.
    PlainStartup,
    /// Refused TLS, and the client hung up.
    ClosedAfterNoTls,
}

/// A server on a loopback port that answers one SSLRequest: with `S` and a TLS handshake
/// over `pki`'s certificate, or, without `pki`, with `N` ("no TLS here"). It closes once
/// the handshake (or the plain startup message) is through.
async fn fake_server(pki: Option<&Pki>) -> (u16, oneshot::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = pki.map(|pki| {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
        .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        assert_eq!(request, SSL_REQUEST);
        let seen = match acceptor {
            Some(acceptor) => {
                socket.write_all(b"S").await.unwrap();
                match acceptor.accept(socket).await {
                    Ok(_) => Seen::Handshake,
                    Err(_) => Seen::HandshakeFailed,
                }
            }
            None => {
                socket.write_all(b"N").await.unwrap();
                let mut length = [0u8; 4];
                match socket.read_exact(&mut length).await {
                    Err(_) => Seen::ClosedAfterNoTls,
                    Ok(_) => {
                        let mut rest = vec![0u8; u32::from_be_bytes(length) as usize - 4];
                        socket.read_exact(&mut rest).await.unwrap();
                        // Protocol 3.0, not another SSLRequest.
                        assert_eq!(rest[..4], [0, 3, 0, 0]);
                        Seen::PlainStartup
                    }
                }
            }
        };
        let _ = tx.send(seen);
    });
    (port, rx)
}

fn url(port: u16, query: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres?connect_timeout=10&{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_refuses_a_certificate_no_trusted_root_signed() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    for mode in ["verify-full", "verify-ca", "require"] {
        let (port, seen) = fake_server(Some(&pki)).await;
        let refused = open(&url(port, &format!("sslmode={mode}")))
            .await
            .unwrap_err();
        assert!(refused.contains("certificate"), "{mode}: {refused}");
        assert!(refused.contains("UnknownIssuer"), "{mode}: {refused}");
        assert_eq!(seen.await.unwrap(), Seen::HandshakeFailed, "{mode}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslrootcert_trusts_a_private_ca_and_verify_full_checks_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let right = pki(&["localhost", "127.0.0.1"]);
    let right_ca = dir.path().join("right-ca.pem");
    std::fs::write(&right_ca, &right.ca_pem).unwrap();
    let wrong = pki(&["db.elsewhere.example"]);
    let wrong_ca = dir.path().join("wrong-ca.pem");
    std::fs::write(&wrong_ca, &wrong.ca_pem).unwrap();

    // Trusted, and named for the address: the handshake goes through, and what fails is
    // the fake server closing afterwards, not the certificate.
    for mode in ["verify-full", "verify-ca", "require"] {
        let (port, seen) = fake_server(Some(&right)).await;
        let query = format!("sslmode={mode}&sslrootcert={}", right_ca.display());
        let after = open(&url(port, &query)).await.unwrap_err();
        assert_eq!(seen.await.unwrap(), Seen::Handshake, "{mode}: {after}");
        assert!(!after.contains("certificate"), "{mode}: {after}");
    }
    // Trusted, but named for another host: verify-full and require refuse it, verify-ca
    // (the chain only) takes it.
    for (mode, passes) in [
        ("verify-full", false),
        ("require", false),
        ("verify-ca", true),
    ] {
        let (port, seen) = fake_server(Some(&wrong)).await;
        let query = format!("sslmode={mode}&sslrootcert={}", wrong_ca.display());
        let error = open(&url(port, &query)).await.unwrap_err();
        let seen = seen.await.unwrap();
        if passes {
            assert_eq!(seen, Seen::Handshake, "{mode}: {error}");
            assert!(!error.contains("certificate"), "{mode}: {error}");
        } else {
            assert_eq!(seen, Seen::HandshakeFailed, "{mode}");
            assert!(error.contains("not valid for name"), "{mode}: {error}");
        }
    }
    // Another CA's root vouches for nothing here.
    let (port, seen) = fake_server(Some(&right)).await;
    let query = format!("sslmode=verify-full&sslrootcert={}", wrong_ca.display());
    let error = open(&url(port, &query)).await.unwrap_err();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(seen.await.unwrap(), Seen::HandshakeFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_falls_back_to_plain_only_when_the_server_has_no_tls() {
    // No TLS offered: prefer goes on in plain text, require stops.
    let (port, seen) = fake_server(None).await;
    open(&url(port, "sslmode=prefer")).await.unwrap_err();
    assert_eq!(seen.await.unwrap(), Seen::PlainStartup);
    let (port, seen) = fake_server(None).await;
    let refused = open(&url(port, "sslmode=require")).await.unwrap_err();
    assert!(refused.contains("does not support TLS"), "{refused}");
    assert_eq!(seen.await.unwrap(), Seen::ClosedAfterNoTls);
    // TLS offered: prefer takes it, even with a certificate no root vouches for.
    let (port, seen) = fake_server(Some(&pki(&["localhost"]))).await;
    open(&url(port, "sslmode=prefer")).await.unwrap_err();
    assert_eq!(seen.await.unwrap(), Seen::Handshake);
}
