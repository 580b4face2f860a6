//! The server certificate's revocation status, read from CRLs the target profile lets the
//! harness fetch: the profile's `http.crl` URLs and the certificate's own CRL distribution points
//! whose host the profile declares. OCSP responders are recorded, not queried (an OCSP request
//! would reach a host the profile does not name). Protocol code: it observes, `verdict` judges.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use serde::{Deserialize, Serialize};

use super::env::RunEnv;
use super::transcript::Transcript;

/// The most bytes of one CRL read (large CAs publish CRLs of a few MB).
const MAX_CRL: usize = 16 << 20;

/// What was found out about the leaf's revocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationFacts {
    /// CRL distribution points named by the certificate.
    pub crl_urls: Vec<String>,
    /// OCSP responders named by the certificate (recorded only).
    pub ocsp_urls: Vec<String>,
    /// `url: what happened` for every CRL tried or left out.
    pub sources: Vec<String>,
    pub status: RevocationStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum RevocationStatus {
    /// A CRL of the certificate's issuer does not list it.
    NotRevoked,
    /// A CRL of the certificate's issuer lists it.
    Revoked,
    /// Could not be established (no CRL fetched, none from the issuer, chain unverifiable).
    #[default]
    Unknown,
}

/// Fetches the CRLs allowed and checks `chain`'s leaf against them.
pub async fn check(env: &RunEnv, t: &Transcript, chain: &[CertificateDer<'static>]) -> RevocationFacts {
    let mut facts = RevocationFacts::default();
    let Some(leaf) = chain.first() else {
        facts.sources.push("no server certificate was presented".into());
        return facts;
    };
    if let Some(c) = super::tls::cert_facts(leaf) {
        (facts.crl_urls, facts.ocsp_urls) = (c.crl_urls, c.ocsp_urls);
    }
    let mut urls: Vec<String> = env.target.http.crl.clone();
    urls.extend(facts.crl_urls.iter().filter(|u| !env.target.http.crl.contains(u)).cloned());
    let mut crls = Vec::new();
    for url in urls {
        match fetch(env, t, &url).await {
            Ok(found) => {
                facts.sources.push(format!("{url}: {} CRL(s) read", found.len()));
                crls.extend(found);
            }
            Err(why) => facts.sources.push(format!("{url}: {why}")),
        }
    }
    if crls.is_empty() {
        return facts;
    }
    let (status, detail) = status(env, chain, crls);
    facts.status = status;
    facts.sources.push(detail);
    facts
}

/// One CRL URL, if the profile allows it: a declared host (plain http is fine for a CRL: it is
/// public, signed, and the request carries nothing).
async fn fetch(env: &RunEnv, t: &Transcript, url: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("not fetched: scheme `{}`", parsed.scheme()));
    }
    if !env.hosts.allows(&host) {
        return Err(format!("not fetched: host `{host}` is not declared by the target profile (http.crl)"));
    }
    t.sent(&format!("GET {url}"));
    env.pace_http(url).await;
    let resp = crate::exec::timing::server(env.http().get(url).send()).await.map_err(|e| format!("unreachable: {e}"))?;
    let status = resp.status();
    let body = crate::exec::timing::server(super::env::read_body_bounded(resp, MAX_CRL)).await?;
    t.received(&format!("HTTP {} <body: {} bytes>", status.as_u16(), body.len()));
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    Ok(decode(body))
}

/// A CRL in DER, or one or more in PEM.
fn decode(body: Vec<u8>) -> Vec<CertificateRevocationListDer<'static>> {
    if body.starts_with(b"-----BEGIN") {
        CertificateRevocationListDer::pem_slice_iter(&body).filter_map(Result::ok).collect()
    } else {
        vec![CertificateRevocationListDer::from(body)]
    }
}

/// The leaf verified against the profile's anchors with the CRLs (end entity only).
fn status(env: &RunEnv, chain: &[CertificateDer<'static>], crls: Vec<CertificateRevocationListDer<'static>>) -> (RevocationStatus, String) {
    let provider = super::tls::provider();
    let mut roots = RootCertStore::empty();
    let settings = match env.tls_settings(None, None) {
        Ok(s) => s,
        Err(e) => return (RevocationStatus::Unknown, e.message()),
    };
    for pem in &settings.trust_anchors_pem {
        for cert in CertificateDer::pem_slice_iter(pem).filter_map(Result::ok) {
            let _ = roots.add(cert);
        }
    }
    let mut usable = Vec::new();
    for crl in crls {
        // One CRL at a time first, so that an unreadable one is named and left out.
        let one = WebPkiServerVerifier::builder_with_provider(Arc::new(roots.clone()), provider.clone()).with_crls([crl.clone()]).build();
        if one.is_ok() {
            usable.push(crl);
        }
    }
    if usable.is_empty() {
        return (RevocationStatus::Unknown, "no fetched CRL could be read".into());
    }
    let verifier = match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .with_crls(usable)
        .only_check_end_entity_revocation()
        .build()
    {
        Ok(v) => v,
        Err(e) => return (RevocationStatus::Unknown, format!("CRLs unusable: {e}")),
    };
    let Ok(name) = ServerName::try_from(settings.server_name.clone()) else {
        return (RevocationStatus::Unknown, "bad server name".into());
    };
    match verifier.verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now()) {
        Ok(_) => (RevocationStatus::NotRevoked, "the issuer's CRL does not list the certificate".into()),
        Err(rustls::Error::InvalidCertificate(CertificateError::Revoked)) => {
            (RevocationStatus::Revoked, "the issuer's CRL lists the certificate".into())
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::UnknownRevocationStatus)) => {
            (RevocationStatus::Unknown, "no fetched CRL was issued by the certificate's issuer".into())
        }
        Err(e) => (RevocationStatus::Unknown, format!("the chain does not verify with the CRLs: {e}")),
    }
}
