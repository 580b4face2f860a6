//! TLS for the harness's own connections: rustls with the target's trust anchors only.
//!
//! The verifier wraps webpki's: it records the chain the server presented and the verification
//! result before returning it, so a refused chain is still evidence ([`TlsFacts`]). A handshake
//! whose verification fails is aborted: credentials are never sent to an unverified server.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::exec::sniff::Sniffed;
use crate::scenario::model::TlsVersions;

/// A client certificate and its key, as PEM text.
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_chain_pem: Vec<u8>,
    pub key: crate::secret::Secret,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity").field("key", &"<redacted>").finish_non_exhaustive()
    }
}

/// Everything needed to open one TLS session.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// PEM bundles of the only anchors the server chain may lead to.
    pub trust_anchors_pem: Vec<Vec<u8>>,
    /// The host name the certificate must name (and the SNI sent).
    pub server_name: String,
    pub versions: TlsVersions,
    pub client_identity: Option<ClientIdentity>,
    pub handshake_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS configuration error (harness side): {0}")]
    Config(String),
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// The server ended the handshake with a fatal alert (e.g. it refused the client certificate).
    #[error("TLS handshake failed: the server sent the fatal alert {0}")]
    Alert(String),
    #[error("TLS handshake timed out after {0:?}")]
    Timeout(Duration),
    /// The server's first bytes were not a TLS record: it spoke plaintext on a TLS port (often a
    /// refusal such as `421 …` or `* BYE …`). Its first line, as text.
    #[error("the server answered in plaintext where a TLS record was expected: {0:?}")]
    Plaintext(String),
}

impl TlsError {
    /// The plaintext "try later" the server sent instead of TLS, if that is what this is.
    pub fn plaintext_refusal(&self) -> Option<String> {
        match self {
            TlsError::Plaintext(line) => crate::exec::busy::is_refusal_line(line).then(|| line.clone()),
            _ => None,
        }
    }
}

/// One certificate of the chain, as a reader of the evidence wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    /// DNS names and e-mail addresses of the subjectAltName extension.
    pub san: Vec<String>,
}

/// What a TLS handshake established (or, on failure, what was seen before it failed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFacts {
    /// `TLSv1_2` / `TLSv1_3`.
    pub version: Option<String>,
    /// IANA name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: Option<String>,
    pub server_chain: Vec<CertFacts>,
    /// `ok`, or the verification error against the target's trust anchors.
    pub verification: Option<String>,
    pub client_certificate: Option<CertFacts>,
    pub server_name: String,
}

impl TlsFacts {
    /// One line for transcripts and cards.
    pub fn summary(&self) -> String {
        let leaf = self.server_chain.first();
        format!(
            "TLS {} {} server={} cert subject=\"{}\" issuer=\"{}\" verification={}{}",
            self.version.as_deref().unwrap_or("?"),
            self.cipher_suite.as_deref().unwrap_or("?"),
            self.server_name,
            leaf.map(|c| c.subject.as_str()).unwrap_or("-"),
            leaf.map(|c| c.issuer.as_str()).unwrap_or("-"),
            self.verification.as_deref().unwrap_or("-"),
            self.client_certificate
                .as_ref()
                .map(|c| format!(" client-cert=\"{}\"", c.subject))
                .unwrap_or_default(),
        )
    }
}

/// A connection that may or may not be TLS yet.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<Sniffed>>),
}

impl Conn {
    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::Tls(_))
    }

    /// Runs the TLS handshake on a plain connection. On failure the facts seen so far are returned
    /// with the error so the caller can record them.
    pub async fn upgrade(self, settings: &TlsSettings) -> Result<(Conn, TlsFacts), (TlsError, TlsFacts)> {
        let tcp = match self {
            Conn::Plain(tcp) => tcp,
            Conn::Tls(_) => {
                return Err((TlsError::Config("connection is already TLS".into()), TlsFacts::default()));
            }
        };
        handshake(tcp, settings).await.map(|(s, f)| (Conn::Tls(Box::new(s)), f))
    }
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses all certificates in a PEM bundle.
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| TlsError::Config(format!("bad certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Config("no certificate in PEM".into()));
    }
    Ok(certs)
}

fn client_config(settings: &TlsSettings, recorder: Arc<ChainRecorder>) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    for pem in &settings.trust_anchors_pem {
        for cert in certs_from_pem(pem)? {
            roots.add(cert).map_err(|e| TlsError::Config(format!("bad trust anchor: {e}")))?;
        }
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Config(format!("verifier: {e}")))?;
    let versions: &[&'static rustls::SupportedProtocolVersion] = match settings.versions {
        TlsVersions::Any => rustls::ALL_VERSIONS,
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier { inner, recorder }));
    let config = match &settings.client_identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = certs_from_pem(&id.cert_chain_pem)?;
            let key = PrivateKeyDer::from_pem_slice(id.key.expose().as_bytes())
                .map_err(|_| TlsError::Config("bad client private key PEM".into()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::Config(format!("client certificate: {e}")))?
        }
    };
    Ok(config)
}

async fn handshake(tcp: TcpStream, settings: &TlsSettings) -> Result<(TlsStream<Sniffed>, TlsFacts), (TlsError, TlsFacts)> {
    let recorder = Arc::new(ChainRecorder::default());
    let mut facts = TlsFacts { server_name: settings.server_name.clone(), ..Default::default() };
    if let Some(id) = &settings.client_identity {
        facts.client_certificate = certs_from_pem(&id.cert_chain_pem).ok().and_then(|c| cert_facts(&c[0]));
    }
    let config = match client_config(settings, recorder.clone()) {
        Ok(c) => c,
        Err(e) => return Err((e, facts)),
    };
    let name = match ServerName::try_from(settings.server_name.clone()) {
        Ok(n) => n,
        Err(e) => return Err((TlsError::Config(format!("bad server name: {e}")), facts)),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let connect = connector.connect(name, Sniffed::new(tcp)).into_fallible();
    let result = crate::exec::timing::server(tokio::time::timeout(settings.handshake_timeout, connect)).await;
    recorder.fill(&mut facts);
    match result {
        Err(_) => Err((TlsError::Timeout(settings.handshake_timeout), facts)),
        Ok(Err((_, io))) if io.not_tls() => {
            let first = String::from_utf8_lossy(io.first_bytes()).lines().next().unwrap_or_default().to_string();
            Err((TlsError::Plaintext(first), facts))
        }
        Ok(Err((e, _))) => match peer_alert(&e) {
            Some(alert) => Err((TlsError::Alert(alert), facts)),
            None => Err((TlsError::Handshake(e.to_string()), facts)),
        },
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            facts.version = conn.protocol_version().map(|v| format!("{v:?}"));
            facts.cipher_suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            Ok((stream, facts))
        }
    }
}

/// The fatal alert the server sent, when `e` is rustls reporting one. A server refusing a client
/// certificate does so during a TLS 1.2 handshake, or on the first read after a TLS 1.3 one.
pub fn peer_alert(e: &io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(format!("{alert:?}")),
        _ => None,
    }
}

#[derive(Default, Debug)]
struct ChainRecorder {
    seen: Mutex<(Vec<CertFacts>, Option<String>)>,
}

impl ChainRecorder {
    fn fill(&self, facts: &mut TlsFacts) {
        let seen = self.seen.lock().expect("recorder lock");
        facts.server_chain = seen.0.clone();
        facts.verification = seen.1.clone();
    }
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    recorder: Arc<ChainRecorder>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let chain = std::iter::once(end_entity).chain(intermediates).filter_map(cert_facts).collect();
        let verdict = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        *self.recorder.seen.lock().expect("recorder lock") = (chain, Some(verdict));
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Subject, issuer, validity, fingerprint and SAN of a DER certificate.
pub fn cert_facts(der: &CertificateDer<'_>) -> Option<CertFacts> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let mut san = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(n) => san.push(format!("DNS:{n}")),
                GeneralName::RFC822Name(n) => san.push(format!("email:{n}")),
                GeneralName::IPAddress(b) => san.push(format!("IP:{}", ip_text(b))),
                GeneralName::URI(u) => san.push(format!("URI:{u}")),
                _ => {}
            }
        }
    }
    Some(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.to_datetime().to_string(),
        not_after: cert.validity().not_after.to_datetime().to_string(),
        sha256: hex::encode(Sha256::digest(der.as_ref())),
        san,
    })
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let arr: [u8; 16] = bytes.try_into().unwrap_or([0; 16]);
            std::net::Ipv6Addr::from(arr).to_string()
        }
        _ => hex::encode(bytes),
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_alert_only_for_alerts_the_server_sent() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateExpired);
        assert_eq!(peer_alert(&io::Error::new(io::ErrorKind::InvalidData, alert)).as_deref(), Some("CertificateExpired"));
        let local = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(peer_alert(&io::Error::new(io::ErrorKind::InvalidData, local)), None);
        assert_eq!(peer_alert(&io::Error::from(io::ErrorKind::ConnectionReset)), None);
    }
}
