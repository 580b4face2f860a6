//! Server-side TLS of the mock operator: TLS 1.2 and 1.3 only, a TLS 1.2 cipher allow-list,
//! optional client certificates verified against the test IGC-Santé root — and the faults that
//! break exactly one of those rules.
//!
//! Every listener (implicit TLS, and after STARTTLS) should go through [`ServerTls::accept`],
//! which also plays the `tls10` fault (see [`legacy_hello`]).

mod any_client_cert;
pub mod legacy_hello;
mod weak_kx;

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::cipher_suite;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::faults::{Fault, FaultSet};

/// A client that opens a TLS session must finish its handshake within this time.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// Why a TLS session could not be opened with a client.
#[derive(Debug, thiserror::Error)]
pub enum TlsAcceptError {
    #[error("TLS handshake with the client failed: {0}")]
    Handshake(#[from] std::io::Error),
    #[error("client did not finish the TLS handshake within {0:?}")]
    Timeout(Duration),
    /// Fault `tls10`: a TLS 1.0/1.1 ClientHello was answered with a legacy ServerHello and the
    /// connection closed (rustls cannot go further).
    #[error("legacy TLS {0:#06x} ClientHello answered with a ServerHello (fault tls10), connection closed")]
    LegacyHelloAnswered(u16),
    /// Fault `tls-handshake-fail`: the ClientHello was answered with a fatal alert.
    #[error("ClientHello answered with a fatal handshake_failure alert (fault tls-handshake-fail)")]
    HandshakeRefused,
    /// Fault `static-rsa-suite`: a TLS 1.2 ClientHello offering TLS_RSA_WITH_AES_256_CBC_SHA was
    /// answered with a ServerHello selecting it, and the connection closed.
    #[error("TLS 1.2 ClientHello answered with a ServerHello selecting TLS_RSA_WITH_AES_256_CBC_SHA (fault static-rsa-suite), connection closed")]
    StaticRsaAnswered,
    /// Faults `weak-curve` / `small-dh`: a TLS 1.2 ClientHello answered with a ServerHello and a
    /// ServerKeyExchange naming a curve under 256 bits / a 1024-bit DH group, then closed.
    #[error("TLS 1.2 ClientHello answered with a weak key exchange (fault weak-curve or small-dh), connection closed")]
    WeakKeyExchangeAnswered,
}

/// What every TLS listener of the mock accepts with.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    /// Fault `tls10`: answer legacy ClientHellos instead of letting rustls refuse them.
    answer_legacy_hellos: bool,
    /// Fault `tls-handshake-fail`: refuse every handshake with a fatal alert.
    fail_handshakes: bool,
    /// Fault `static-rsa-suite`: answer TLS 1.2 hellos offering AES256-SHA by selecting it.
    answer_static_rsa: bool,
    /// Faults `weak-curve` and `small-dh`.
    answer_weak_curve: bool,
    answer_small_dh: bool,
}

impl ServerTls {
    /// A conformant server config presenting `chain`, asking for (not requiring) a client
    /// certificate that must chain to one of `client_roots`.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        client_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, TlsSetupError> {
        Self::with_faults(chain, key, client_roots, &FaultSet::none())
    }

    /// Like [`ServerTls::new`], with the TLS faults of `faults` applied: `weak-cipher` adds a
    /// TLS 1.2 suite outside the allow-list, `accept-any-client-cert` accepts any client
    /// certificate, `tls10` answers legacy hellos, `static-rsa-suite` answers TLS 1.2 hellos
    /// offering AES256-SHA. (`foreign-ca-cert` is the caller's choice of
    /// `chain`.)
    pub fn with_faults(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        client_roots: Vec<CertificateDer<'static>>,
        faults: &FaultSet,
    ) -> Result<Self, TlsSetupError> {
        Self::with_crls(chain, key, client_roots, Vec::new(), faults)
    }

    /// Like [`ServerTls::with_faults`], refusing client certificates the `crls` list (end entity
    /// only: the roots are the anchors). Fault `ignore-crl` leaves the CRLs out.
    pub fn with_crls(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        client_roots: Vec<CertificateDer<'static>>,
        crls: Vec<CertificateRevocationListDer<'static>>,
        faults: &FaultSet,
    ) -> Result<Self, TlsSetupError> {
        let crls = if faults.is_on(Fault::IgnoreCrl) { Vec::new() } else { crls };
        let provider = Arc::new(provider(faults.is_on(Fault::WeakCipher)));
        let verifier: Arc<dyn ClientCertVerifier> = if faults.is_on(Fault::AcceptAnyClientCert) {
            Arc::new(any_client_cert::AcceptAnyClientCert::new(provider.clone()))
        } else {
            let mut roots = RootCertStore::empty();
            for root in client_roots {
                roots.add(root).map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
            }
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .with_crls(crls)
                .only_check_end_entity_revocation()
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        // Follow the client's preference: a client offering only the weak suite gets it.
        config.ignore_client_order = false;
        Ok(ServerTls {
            config: Arc::new(config),
            answer_legacy_hellos: faults.is_on(Fault::Tls10),
            fail_handshakes: faults.is_on(Fault::TlsHandshakeFail),
            answer_static_rsa: faults.is_on(Fault::StaticRsaSuite),
            answer_weak_curve: faults.is_on(Fault::WeakCurve),
            answer_small_dh: faults.is_on(Fault::SmallDh),
        })
    }

    /// The bare acceptor (no `tls10` simulation, no timeout): prefer [`ServerTls::accept`].
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }

    /// Opens a TLS session on `tcp` (implicit TLS, or after STARTTLS once the plain-text
    /// buffer was discarded), within [`HANDSHAKE_TIMEOUT`].
    pub async fn accept(&self, mut tcp: TcpStream) -> Result<TlsStream<TcpStream>, TlsAcceptError> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            if self.fail_handshakes {
                crate::misbehave::refuse_handshake(&mut tcp).await?;
                return Err(TlsAcceptError::HandshakeRefused);
            }
            if self.answer_legacy_hellos
                && let Some(version) = legacy_hello::answer_if_legacy(&mut tcp).await?
            {
                return Err(TlsAcceptError::LegacyHelloAnswered(version));
            }
            if self.answer_static_rsa && legacy_hello::answer_if_static_rsa(&mut tcp).await? {
                return Err(TlsAcceptError::StaticRsaAnswered);
            }
            if (self.answer_weak_curve && weak_kx::answer_if_weak_curve(&mut tcp).await?)
                || (self.answer_small_dh && weak_kx::answer_if_small_dh(&mut tcp).await?)
            {
                return Err(TlsAcceptError::WeakKeyExchangeAnswered);
            }
            Ok(self.acceptor().accept(tcp).await?)
        })
        .await
        .map_err(|_| TlsAcceptError::Timeout(HANDSHAKE_TIMEOUT))?
    }
}

/// TLS 1.2 suites of the allow-list ([SC.MSS/CONF.03]) that rustls implements, for an RSA key.
pub const TLS12_ALLOWED: [SupportedCipherSuite; 2] =
    [cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256];

/// The suite fault `weak-cipher` adds: outside the allow-list.
pub const TLS12_WEAK: SupportedCipherSuite = cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;

/// ring with TLS 1.3 suites unrestricted and TLS 1.2 suites limited to the allow-list
/// (plus the weak suite when asked).
fn provider(weak_cipher: bool) -> CryptoProvider {
    let mut suites = vec![
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ];
    suites.extend(TLS12_ALLOWED);
    if weak_cipher {
        suites.push(TLS12_WEAK);
    }
    CryptoProvider { cipher_suites: suites, ..rustls::crypto::ring::default_provider() }
}

/// The mailbox a client certificate is bound to: the first e-mail address of the leaf's
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls12_suites_are_the_allow_list_unless_weak_cipher() {
        let names = |p: &CryptoProvider| -> Vec<String> {
            p.cipher_suites
                .iter()
                .filter(|s| s.version() == &rustls::version::TLS12)
                .map(|s| format!("{:?}", s.suite()))
                .collect()
        };
        assert_eq!(
            names(&provider(false)),
            ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
        );
        assert!(names(&provider(true)).contains(&"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".to_string()));
        assert_eq!(provider(false).cipher_suites.iter().filter(|s| s.version() == &rustls::version::TLS13).count(), 3);
    }
}
