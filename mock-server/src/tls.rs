//! Server-side TLS of the mock operator: TLS 1.2 and 1.3 only, optional client certificates
//! verified against the test IGC-Santé root.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// What every TLS listener of the mock accepts with.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
}

impl ServerTls {
    /// A server config presenting `chain`, asking for (not requiring) a client certificate that
    /// must chain to one of `client_roots`.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        client_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for root in client_roots {
            roots.add(root).map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        Ok(ServerTls { config: Arc::new(config) })
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

/// The mailbox a verified client certificate is bound to: the first e-mail address of the leaf's
/// subjectAltName. `None` without a certificate or without such a name.
pub fn client_cert_mailbox(peer_certs: Option<&[CertificateDer<'_>]>) -> Option<String> {
    use x509_parser::prelude::*;
    let leaf = peer_certs?.first()?;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        GeneralName::RFC822Name(addr) => Some(addr.to_ascii_lowercase()),
        _ => None,
    })
}
