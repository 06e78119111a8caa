//! How the host's own connections to services (PostgreSQL, MySQL, `rediss://`, `mqtts://`)
//! check the servers they reach over TLS: against the platform's root certificates by
//! default, and as the runtime config's `[[client_tls]]` entries say for a component and a
//! host (further roots, Mozilla's built-in roots, a client certificate), as in Spin.
//!
//! Whether a connection uses TLS at all, and how much of the server's certificate it checks
//! ([`Verification`]), is the address's business (`sslmode=`, `ssl-mode=`, the scheme); this
//! module only says whom to trust.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::manifest::runtime_config::ClientTlsConfig;

/// How much of a server's certificate a connection checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// That it chains to a trusted root and names the host connected to: what TLS means
    /// unless the address asks for less.
    Full,
    /// That it chains to a trusted root, whatever name it carries (`sslmode=verify-ca`,
    /// `ssl-mode=VERIFY_CA`).
    ChainOnly,
    /// Nothing: the connection is encrypted against eavesdroppers but not protected from an
    /// impostor, as with libpq's `sslmode=prefer` and MySQL's `ssl-mode=PREFERRED`.
    Unverified,
}

/// The app's `[[client_tls]]` entries, ready to hand out.
pub struct ClientTls {
    entries: Vec<Entry>,
    default: Arc<Trust>,
}

struct Entry {
    component_ids: Vec<String>,
    hosts: Vec<String>,
    trust: Arc<Trust>,
}

impl ClientTls {
    /// Reads the files `configs` name; an error names the entry's key and the file.
    pub fn load(configs: &[ClientTlsConfig]) -> anyhow::Result<ClientTls> {
        // Clients that build their own rustls config (mysql_async, redis) ask for the
        // process's default provider; there is one in this build, and this says which.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let entries =
            configs
                .iter()
                .enumerate()
                .map(|(index, config)| {
                    Ok(Entry {
                        component_ids: config.component_ids.clone(),
                        hosts: config.hosts.clone(),
                        trust: Arc::new(Trust::from_config(config).with_context(|| {
                            format!("in the runtime config's client_tls[{index}]")
                        })?),
                    })
                })
                .collect::<anyhow::Result<_>>()?;
        Ok(ClientTls {
            entries,
            default: Arc::new(Trust::platform()),
        })
    }

    /// No entries: every connection trusts the platform's roots.
    pub fn platform_only() -> ClientTls {
        ClientTls {
            entries: Vec::new(),
            default: Arc::new(Trust::platform()),
        }
    }

    /// Whom `component` trusts when it connects to `host`: the first entry that names both,
    /// or the platform's roots.
    pub fn trust(&self, component: &str, host: &str) -> Arc<Trust> {
        self.configured(component, host)
            .unwrap_or_else(|| self.default.clone())
    }

    /// The trust of the first entry that names `component` and `host`, if one does.
    pub fn configured(&self, component: &str, host: &str) -> Option<Arc<Trust>> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.entries
            .iter()
            .find(|entry| {
                entry.component_ids.iter().any(|c| c == component)
                    && entry.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
            })
            .map(|entry| entry.trust.clone())
    }
}

/// Whom one set of connections trusts, and the certificate they show.
pub struct Trust {
    /// Trust the platform's roots.
    pub use_platform_roots: bool,
    /// Trust Mozilla's roots, built in.
    pub use_webpki_roots: bool,
    /// The further roots of `ca_roots_file`, as read.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// `ca_roots_file`'s text, for clients that take PEM.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The certificate to show a server that asks for one.
    pub client_identity: Option<ClientIdentity>,
    /// Tells trusts apart in the keys of connection pools.
    pub fingerprint: u64,
    roots: OnceLock<Arc<RootCertStore>>,
    configs: [OnceLock<Arc<ClientConfig>>; 3],
}

/// A client certificate chain and its key, parsed and as PEM text.
pub struct ClientIdentity {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
    /// The chain's PEM text.
    pub chain_pem: Vec<u8>,
    /// The key's PEM text.
    pub key_pem: Vec<u8>,
}

impl Trust {
    fn platform() -> Trust {
        Trust::new(true, false, Vec::new(), None, None)
    }

    fn from_config(config: &ClientTlsConfig) -> anyhow::Result<Trust> {
        let (extra_roots, extra_roots_pem) = match &config.ca_roots_file {
            Some(file) => {
                let pem = read(file, "ca_roots_file")?;
                let roots = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| anyhow::anyhow!("ca_roots_file {}: {e}", file.display()))?;
                anyhow::ensure!(
                    !roots.is_empty(),
                    "ca_roots_file {} holds no PEM certificate",
                    file.display()
                );
                (roots, Some(pem))
            }
            None => (Vec::new(), None),
        };
        let client_identity = match &config.client_cert {
            Some(files) => {
                let chain_pem = read(&files.cert_file, "client_cert_file")?;
                let key_pem = read(&files.private_key_file, "client_private_key_file")?;
                let chain = CertificateDer::pem_slice_iter(&chain_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        anyhow::anyhow!("client_cert_file {}: {e}", files.cert_file.display())
                    })?;
                anyhow::ensure!(
                    !chain.is_empty(),
                    "client_cert_file {} holds no PEM certificate",
                    files.cert_file.display()
                );
                let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                    anyhow::anyhow!(
                        "client_private_key_file {}: {e}",
                        files.private_key_file.display()
                    )
                })?;
                Some(ClientIdentity {
                    chain,
                    key,
                    chain_pem,
                    key_pem,
                })
            }
            None => None,
        };
        let trust = Trust::new(
            config.use_platform_roots,
            config.use_webpki_roots,
            extra_roots,
            extra_roots_pem,
            client_identity,
        );
        // A file that parses but whose certificates do not: say so now, not at the first
        // connection.
        let mut store = RootCertStore::empty();
        for (index, root) in trust.extra_roots.iter().enumerate() {
            store
                .add(root.clone())
                .with_context(|| format!("ca_roots_file: certificate {} is unusable", index + 1))?;
        }
        Ok(trust)
    }

    fn new(
        use_platform_roots: bool,
        use_webpki_roots: bool,
        extra_roots: Vec<CertificateDer<'static>>,
        extra_roots_pem: Option<Vec<u8>>,
        client_identity: Option<ClientIdentity>,
    ) -> Trust {
        let mut hasher = DefaultHasher::new();
        (use_platform_roots, use_webpki_roots).hash(&mut hasher);
        extra_roots
            .iter()
            .for_each(|r| r.as_ref().hash(&mut hasher));
        if let Some(identity) = &client_identity {
            identity.chain_pem.hash(&mut hasher);
        }
        Trust {
            use_platform_roots,
            use_webpki_roots,
            extra_roots,
            extra_roots_pem,
            client_identity,
            fingerprint: hasher.finish(),
            roots: OnceLock::new(),
            configs: Default::default(),
        }
    }

    /// Every root trusted, gathered on first use (reading the platform's store takes a
    /// while, and most apps never need it).
    pub fn roots(&self) -> Arc<RootCertStore> {
        self.roots
            .get_or_init(|| {
                let mut store = RootCertStore::empty();
                if self.use_platform_roots {
                    store.add_parsable_certificates(platform_roots().iter().cloned());
                }
                if self.wants_webpki_roots() {
                    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
                store.add_parsable_certificates(self.extra_roots.iter().cloned());
                Arc::new(store)
            })
            .clone()
    }

    /// Whether Mozilla's roots are trusted: when asked for, or in place of a platform that
    /// has no roots.
    pub fn wants_webpki_roots(&self) -> bool {
        self.use_webpki_roots || (self.use_platform_roots && platform_roots().is_empty())
    }

    /// The roots other than Mozilla's, as DER: for clients that add Mozilla's themselves.
    pub fn roots_besides_webpki(&self) -> Vec<CertificateDer<'static>> {
        let platform = if self.use_platform_roots {
            platform_roots()
        } else {
            &[]
        };
        platform.iter().chain(&self.extra_roots).cloned().collect()
    }

    /// A rustls configuration that checks servers as much as `verification` says.
    pub fn rustls_config(&self, verification: Verification) -> anyhow::Result<Arc<ClientConfig>> {
        let slot = &self.configs[verification as usize];
        if let Some(config) = slot.get() {
            return Ok(config.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("the TLS provider offers no protocol version")?;
        let verifier: Arc<dyn ServerCertVerifier> = match verification {
            Verification::Unverified => Arc::new(Unverified(provider)),
            verification => {
                let webpki = WebPkiServerVerifier::builder_with_provider(self.roots(), provider)
                    .build()
                    .context("no root certificate to trust")?;
                if verification == Verification::Full {
                    webpki
                } else {
                    Arc::new(AnyName(webpki))
                }
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.client_identity {
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .context("the client certificate does not match its key")?,
            None => builder.with_no_client_auth(),
        };
        Ok(slot.get_or_init(|| Arc::new(config)).clone())
    }
}

fn read(file: &Path, key: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {key} {}", file.display()))
}

/// The platform's root certificates, read once per process (empty where the platform has
/// none to offer: a container without `ca-certificates`, say).
fn platform_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!("reading the platform's root certificates: {error}");
        }
        if found.certs.is_empty() {
            tracing::warn!(
                "the platform offers no root certificates; trusting Mozilla's built-in roots instead"
            );
        }
        found.certs
    })
}

/// Checks the chain but not the name (`verify-ca`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name: a name error means the chain was good.
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

/// Accepts any certificate; the handshake's signatures are still checked, so the session
/// is encrypted with whoever holds the certificate's key.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::runtime_config::ClientCertFiles;

    fn entry(dir: &Path) -> ClientTlsConfig {
        ClientTlsConfig {
            component_ids: vec!["api".into()],
            hosts: vec!["db.example".into()],
            use_platform_roots: false,
            use_webpki_roots: true,
            ca_roots_file: None,
            client_cert: Some(ClientCertFiles {
                cert_file: dir.join("missing.pem"),
                private_key_file: dir.join("missing.key"),
            }),
        }
    }

    #[test]
    fn an_unreadable_file_is_named_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let error = ClientTls::load(&[entry(dir.path())]).err().unwrap();
        let text = format!("{error:#}");
        assert!(
            text.contains("client_tls[0]")
                && text.contains("client_cert_file")
                && text.contains("missing.pem"),
            "{text}"
        );
        let mut bad = entry(dir.path());
        bad.client_cert = None;
        bad.ca_roots_file = Some(dir.path().join("ca.pem"));
        std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
        let text = format!("{:#}", ClientTls::load(&[bad]).err().unwrap());
        assert!(text.contains("holds no PEM certificate"), "{text}");
    }

    #[test]
    fn the_first_entry_naming_component_and_host_decides() {
        let mut webpki_only = entry(Path::new("/"));
        webpki_only.client_cert = None;
        let mut second = webpki_only.clone();
        second.use_platform_roots = true;
        let tls = ClientTls::load(&[webpki_only, second]).unwrap();
        let chosen = tls.trust("api", "DB.example");
        assert!(chosen.use_webpki_roots && !chosen.use_platform_roots);
        // Another component, or another host: the platform's roots.
        for (component, host) in [("worker", "db.example"), ("api", "cache.example")] {
            let trust = tls.trust(component, host);
            assert!(trust.use_platform_roots && !trust.use_webpki_roots);
        }
        assert_ne!(chosen.fingerprint, tls.trust("api", "other").fingerprint);
    }

    #[test]
    fn every_verification_level_builds_a_config() {
        let tls = ClientTls::platform_only();
        let trust = tls.trust("api", "h");
        for verification in [
            Verification::Full,
            Verification::ChainOnly,
            Verification::Unverified,
        ] {
            let first = trust.rustls_config(verification).unwrap();
            // Built once, then shared.
            assert!(Arc::ptr_eq(
                &first,
                &trust.rustls_config(verification).unwrap()
            ));
        }
    }
}
