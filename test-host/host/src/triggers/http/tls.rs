//! Inbound TLS: `rotor up --tls-cert FILE --tls-key FILE` serves HTTPS, as `spin up` does,
//! and HTTP/2 to clients that negotiate it (ALPN `h2`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Marks a request that came over TLS (in its extensions, which no client can set), so
/// that the guest sees the `https` scheme and URL.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// `https` for a request that came over TLS, else `http`.
pub fn scheme_of<B>(request: &http::Request<B>) -> &'static str {
    if request.extensions().get::<OverTls>().is_some() {
        "https"
    } else {
        "http"
    }
}

/// How long a client may take over its TLS handshake before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A certificate chain and its key, ready to accept connections.
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig(..)")
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain (the server's certificate first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1); an error names the file and what is wrong with it.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<TlsConfig> {
        let chain = CertificateDer::pem_file_iter(cert)
            .with_context(|| format!("--tls-cert {}: cannot read it", cert.display()))?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("--tls-cert {}: not PEM certificates", cert.display()))?;
        if chain.is_empty() {
            anyhow::bail!("--tls-cert {}: no certificate in it", cert.display());
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("--tls-key {}: no PEM private key in it", key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("the TLS provider")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .with_context(|| {
                format!(
                    "--tls-cert {} and --tls-key: the key does not fit the certificate, or is of a kind TLS cannot use",
                    cert.display()
                )
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsConfig {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// What accepts the TLS side of a connection.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
