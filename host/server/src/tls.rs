//! TLS for the `tls-port` listener: loading the certificate files, client certificates
//! (`tls-auth-clients`), and the handshake with its time limit.
//!
//! rustls on the `ring` provider (aws-lc-rs, rustls's default, needs cmake to build). Settings
//! take Redis's names: `tls-cert-file`, `tls-key-file`, `tls-ca-cert-file`, `tls-auth-clients`.
//! A file that is missing or holds no usable certificate or key stops the start with an error
//! naming the file. Unlike Redis, a server without `tls-ca-cert-file` starts and asks no
//! client certificate.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::Config;
use crate::error::ServerError;

/// How long a client has to complete the TLS handshake after connecting: one that connects
/// and says nothing must not hold a task forever.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether clients must show a certificate signed by `tls-ca-cert-file` (Redis's
/// `tls-auth-clients`). Applies only when a CA file is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsAuthClients {
    /// A client without a valid certificate is refused (the default, as in Redis).
    #[default]
    Yes,
    /// No certificate is asked for.
    No,
    /// A certificate is asked for; without one the client is accepted, with an invalid one
    /// refused.
    Optional,
}

impl FromStr for TlsAuthClients {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "yes" => Ok(TlsAuthClients::Yes),
            "no" => Ok(TlsAuthClients::No),
            "optional" => Ok(TlsAuthClients::Optional),
            _ => Err(format!("expected yes, no or optional, got {text}")),
        }
    }
}

impl TlsAuthClients {
    /// `yes`, `no` or `optional`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsAuthClients::Yes => "yes",
            TlsAuthClients::No => "no",
            TlsAuthClients::Optional => "optional",
        }
    }
}

/// The acceptor for `config`'s TLS settings, reading the certificate files now.
pub fn acceptor(config: &Config) -> Result<TlsAcceptor, ServerError> {
    let (Some(cert_file), Some(key_file)) = (&config.tls_cert_file, &config.tls_key_file) else {
        return Err(ServerError::Invalid(
            "tls-port needs tls-cert-file and tls-key-file".into(),
        ));
    };
    let chain = load_certs("tls-cert-file", cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| file_error("tls-key-file", key_file, &pem_reason(&e, "private key")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Invalid(format!("TLS: {e}")))?;
    let builder = match (&config.tls_ca_cert_file, config.tls_auth_clients) {
        (Some(ca_file), auth) if auth != TlsAuthClients::No => {
            let mut roots = RootCertStore::empty();
            for cert in load_certs("tls-ca-cert-file", ca_file)? {
                roots
                    .add(cert)
                    .map_err(|e| file_error("tls-ca-cert-file", ca_file, &e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            let verifier = if auth == TlsAuthClients::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| file_error("tls-ca-cert-file", ca_file, &e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let server_config = builder.with_single_cert(chain, key).map_err(|e| {
        ServerError::Invalid(format!(
            "tls-cert-file {} and tls-key-file {}: {e} (is the key the certificate's?)",
            cert_file.display(),
            key_file.display()
        ))
    })?;
    Ok(TlsAcceptor::from(Arc::new(server_config)))
}

/// Completes the server side of the handshake on `stream`, or fails once `timeout` passes.
pub async fn handshake<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    timeout: Duration,
) -> std::io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "TLS handshake timed out",
        )),
    }
}

fn load_certs(setting: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(setting, path, &pem_reason(&e, "certificate")))?;
    if certs.is_empty() {
        return Err(file_error(setting, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn pem_reason(e: &rustls_pki_types::pem::Error, what: &str) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => format!("cannot read: {io}"),
        rustls_pki_types::pem::Error::NoItemsFound => format!("no PEM {what} in the file"),
        other => format!("not a valid PEM {what}: {other:?}"),
    }
}

fn file_error(setting: &str, path: &Path, reason: &str) -> ServerError {
    ServerError::Invalid(format!("{setting} {}: {reason}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/tls")
            .join(name)
    }

    fn config() -> Config {
        Config {
            tls_port: Some(0),
            tls_cert_file: Some(fixture("server.crt")),
            tls_key_file: Some(fixture("server.key")),
            ..Config::default()
        }
    }

    #[test]
    fn bad_files_are_named() {
        assert!(acceptor(&config()).is_ok());
        let err = |config: Config| match acceptor(&config) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        let missing = fixture("missing.crt");
        let text = err(Config {
            tls_cert_file: Some(missing.clone()),
            ..config()
        });
        assert!(
            text.starts_with(&format!(
                "invalid setting: tls-cert-file {}: cannot read: ",
                missing.display()
            )),
            "{text}"
        );
        let text = err(Config {
            tls_key_file: Some(fixture("server.crt")),
            ..config()
        });
        assert!(
            text.contains("tls-key-file") && text.contains("no PEM private key"),
            "{text}"
        );
        let text = err(Config {
            tls_ca_cert_file: Some(fixture("server.key")),
            ..config()
        });
        assert!(
            text.contains("tls-ca-cert-file") && text.contains("no PEM certificate"),
            "{text}"
        );
        let text = err(Config {
            tls_key_file: Some(fixture("client.key")),
            ..config()
        });
        assert!(text.contains("is the key the certificate's?"), "{text}");
    }

    #[test]
    fn auth_clients_parses_redis_words() {
        assert_eq!("YES".parse(), Ok(TlsAuthClients::Yes));
        assert_eq!("optional".parse(), Ok(TlsAuthClients::Optional));
        assert!("maybe".parse::<TlsAuthClients>().is_err());
    }

    #[tokio::test]
    async fn a_silent_client_times_out() -> Result<(), ServerError> {
        let acceptor = acceptor(&config())?;
        // The client end stays open and says nothing.
        let (_client, server) = tokio::io::duplex(1024);
        let result = handshake(&acceptor, server, Duration::from_millis(50)).await;
        assert_eq!(
            result.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::TimedOut)
        );
        Ok(())
    }
}
