//! How a `postgres://` `DATABASE_URL` connects: its `sslmode` and `sslrootcert`, read as
//! libpq reads them, with one choice made safer.
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default, as in libpq) | when the server offers it; plain when it answers that it has none | not checked: this only keeps out people who listen without touching the traffic, as anyone who can answer for the server can also say it has no TLS |
//! | `require` | always | chain and host name checked (libpq checks nothing here; a mode named "require" that lets anyone answer for the server is a trap, so we check as `verify-full` does) |
//! | `verify-ca` | always | chain checked, host name not (for a server reached by an address its certificate doesn't name) |
//! | `verify-full` | always | chain and host name checked |
//!
//! The chain is checked against `sslrootcert` (a PEM file of one or more CA certificates,
//! such as a cloud provider's bundle or a private CA), or, without it or with
//! `sslrootcert=system`, against the public web roots built in (`webpki-roots`). An
//! `sslrootcert` beside `disable` or `prefer` (which check nothing) is refused rather than
//! ignored.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The `sslmode` values understood, as libpq spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        Ok(match raw {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => bail!(
                "DATABASE_URL has sslmode={other:?}; use disable, prefer, require, verify-ca or verify-full"
            ),
        })
    }
}

/// What connecting to the database needs: the parsed URL (its TLS options taken out and
/// applied) and the TLS connector.
pub struct ConnectOptions {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub mode: SslMode,
}

/// Reads a `postgres://` URL. Errors name the option at fault and never repeat the URL,
/// which may hold a password.
pub fn connect_options(url: &str) -> anyhow::Result<ConnectOptions> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_decode_str(value)
            .decode_utf8()
            .with_context(|| format!("DATABASE_URL's {key} is not UTF-8"))?;
        match key {
            "sslmode" => mode = SslMode::parse(&decoded)?,
            "sslrootcert" => root_cert = Some(decoded.into_owned()),
            _ => rest.push(pair),
        }
    }
    if root_cert.is_some() && matches!(mode, SslMode::Disable | SslMode::Prefer) {
        // Not silently ignored: whoever names a root means the server to be checked.
        bail!(
            "DATABASE_URL has sslrootcert but sslmode={}, which checks no certificate; add sslmode=verify-full",
            if mode == SslMode::Disable {
                "disable"
            } else {
                "prefer"
            }
        );
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    // tokio-postgres's parse error (its source) names the option, not the URL.
    let mut config: tokio_postgres::Config = url
        .parse()
        .context("DATABASE_URL is not a PostgreSQL URL")?;
    config.ssl_mode(match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    });
    let roots = match root_cert.as_deref() {
        None | Some("system") => {
            RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())
        }
        Some(path) => read_roots(path)?,
    };
    Ok(ConnectOptions {
        config,
        tls: MakeRustlsConnect::new(client_config(mode, roots)?),
        mode,
    })
}

/// The CA certificates of a PEM file.
fn read_roots(path: &str) -> anyhow::Result<RootCertStore> {
    let pem = std::fs::read(path).with_context(|| format!("reading sslrootcert {path}"))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.with_context(|| format!("sslrootcert {path} is not a PEM file"))?;
        roots.add(cert).with_context(|| {
            format!("sslrootcert {path} holds a certificate that can't be read")
        })?;
    }
    if roots.is_empty() {
        bail!("sslrootcert {path} holds no certificate (a PEM file with BEGIN CERTIFICATE)");
    }
    Ok(roots)
}

fn client_config(mode: SslMode, roots: RootCertStore) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let chain = || {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots.clone()), provider.clone())
            .build()
            .context("setting up TLS certificate checks")
    };
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Require | SslMode::VerifyFull | SslMode::Disable => chain()?,
        SslMode::VerifyCa => Arc::new(ChainOnly(chain()?)),
        SslMode::Prefer => Arc::new(Unauthenticated(provider.signature_verification_algorithms)),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate may
/// differ from the host connected to.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The name is checked after the chain: a name error means the chain passed.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer`: encryption without knowing who answers, as libpq's `prefer` gives. The
/// handshake's signatures are still checked, so the session keys belong to whoever holds
/// the certificate's key.
#[derive(Debug)]
struct Unauthenticated(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unauthenticated {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// Whether the URL's hosts are all on this machine, where traffic can't be listened to.
pub fn is_local(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_and_the_rest_kept() {
        let o = connect_options("postgres://app:secret@db.example.com:6543/inv?sslmode=verify-full&application_name=hi&sslrootcert=system").unwrap();
        assert_eq!(o.mode, SslMode::VerifyFull);
        assert_eq!(o.config.get_ssl_mode(), PgSslMode::Require);
        assert_eq!(o.config.get_application_name(), Some("hi"));
        assert_eq!(o.config.get_dbname(), Some("inv"));
        assert_eq!(o.config.get_ports(), [6543]);
        assert!(!is_local(&o.config));
        let default = connect_options("postgres://postgres@127.0.0.1/postgres").unwrap();
        assert_eq!(default.mode, SslMode::Prefer);
        assert_eq!(default.config.get_ssl_mode(), PgSslMode::Prefer);
        assert!(is_local(&default.config));
        for (raw, mode) in [
            ("disable", PgSslMode::Disable),
            ("prefer", PgSslMode::Prefer),
            ("require", PgSslMode::Require),
            ("verify-ca", PgSslMode::Require),
        ] {
            let o = connect_options(&format!("postgresql://u@h/d?sslmode={raw}")).unwrap();
            assert_eq!(o.config.get_ssl_mode(), mode, "{raw}");
        }
    }

    #[test]
    fn an_unknown_sslmode_is_named_and_the_password_is_not() {
        let e = connect_options("postgres://app:hunter2@db/x?sslmode=allow")
            .err()
            .unwrap();
        let text = format!("{e:#}");
        assert!(text.contains("sslmode=\"allow\""), "{text}");
        assert!(text.contains("verify-full"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let e = connect_options("postgres://app:hunter2@db/x?bogus=1")
            .err()
            .unwrap();
        let text = format!("{e:#}");
        assert!(text.contains("bogus"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn sslrootcert_without_a_verifying_sslmode_is_refused() {
        for query in ["sslrootcert=/ca.pem", "sslmode=prefer&sslrootcert=/ca.pem"] {
            let e = connect_options(&format!("postgres://u@h/d?{query}"))
                .err()
                .unwrap();
            assert!(
                format!("{e:#}").contains("add sslmode=verify-full"),
                "{e:#}"
            );
        }
    }

    #[test]
    fn a_missing_or_empty_sslrootcert_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = connect_options(&format!(
            "postgres://u@h/d?sslmode=verify-full&sslrootcert={}",
            missing.display()
        ))
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("reading sslrootcert"), "{e:#}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = connect_options(&format!(
            "postgres://u@h/d?sslmode=verify-full&sslrootcert={}",
            empty.display()
        ))
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("holds no certificate"), "{e:#}");
    }
}
