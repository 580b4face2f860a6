//! The mock operator's test PKI, generated at start (nothing private is committed).
//!
//! - a stand-in root "IGC-Santé TEST (mssconf mock) root" (ECDSA P-256) that signs the server
//!   certificate and the valid client certificates;
//! - a server certificate for the host name, `localhost` and 127.0.0.1 with an **RSA 2048** key,
//!   so that the TLS 1.2 ECDHE-RSA suites of the allow-list apply;
//! - client certificates (clientAuth, SAN rfc822Name = mailbox) for app1 and app2, an expired one
//!   for app1 and one for app1 signed by a separate "foreign" CA;
//! - a server certificate from that foreign CA (fault `foreign-ca-cert`), same RSA key;
//! - a client certificate for app1 from the root that the root's CRL (`root.crl`, DER) lists as
//!   revoked: the TLS listeners load that CRL (fault `ignore-crl` does not) and the HTTP endpoint
//!   publishes it;
//! - a second CRL listing the server certificate too (`root-server-revoked.crl`), published
//!   instead under fault `revoked-server-cert`. The server certificate names
//!   `http://<host>/crl/root.crl` as its CRL distribution point and `http://<host>/ocsp` as its
//!   OCSP responder (recorded by the harness; the generated profile points `http.crl` at the
//!   mock's HTTP endpoint, since the host name does not resolve).
//! - an expired server certificate from the root (fault `expired-server-cert`), same RSA key.
//!
//! RSA key generation is slow in debug builds, so the whole set is cached in the PKI directory
//! and reused while it still fits the configuration (see `manifest`); the RSA key alone is
//! reused even when the certificates are regenerated.

mod files;
mod manifest;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, RevocationReason,
    RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub use files::{CertKeyFiles, PkiFiles};
pub use manifest::FORMAT_DIR;
use manifest::Manifest;

/// Common name of the stand-in IGC-Santé root.
pub const ROOT_CN: &str = "IGC-Santé TEST (mssconf mock) root";
/// Common name of the CA outside the trust anchors.
pub const FOREIGN_ROOT_CN: &str = "Foreign CA (not IGC-Santé, mssconf mock)";

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("test PKI: cannot write or read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("test PKI: certificate generation failed (mock bug): {0}")]
    Generate(String),
}

/// What the certificates must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiSpec {
    pub host_name: String,
    /// Mailbox address bound to the app1 client certificates.
    pub app1: String,
    /// Mailbox address bound to the app2 client certificate.
    pub app2: String,
}

/// The PKI as loaded for the servers, and where its PEM files are.
pub struct Pki {
    pub files: PkiFiles,
    pub root: CertificateDer<'static>,
    /// Server leaf + root.
    pub server_chain: Vec<CertificateDer<'static>>,
    /// Server leaf signed by the foreign CA + foreign root.
    pub foreign_server_chain: Vec<CertificateDer<'static>>,
    /// Expired server leaf signed by the root + root.
    pub expired_server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
    /// The root's CRL (DER), listing the app1-revoked certificate.
    pub crl: CertificateRevocationListDer<'static>,
    /// The root's CRL listing the server certificate too (fault `revoked-server-cert`).
    pub crl_server_revoked: CertificateRevocationListDer<'static>,
    /// True when the files of an earlier start were reused as they were.
    pub reused: bool,
    /// How long preparing took (generation or loading).
    pub elapsed: std::time::Duration,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("files", &self.files).field("reused", &self.reused).finish_non_exhaustive()
    }
}

impl Pki {
    /// The server's private key (RSA 2048), for the TLS config.
    pub fn server_key(&self) -> PrivateKeyDer<'static> {
        self.server_key.clone_key()
    }

    /// Reuses the PKI in `dir` when it still fits `spec`, else generates a new one there.
    pub fn prepare(dir: &Path, spec: &PkiSpec) -> Result<Pki, PkiError> {
        let started = Instant::now();
        // One subdirectory per file format: checkouts of another format sharing the state
        // directory (parallel worktrees, an older binary) never regenerate these files under a
        // running mock (each would find the other's manifest unfit and start over).
        let dir = &dir.join(manifest::FORMAT_DIR);
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Io { path: dir.to_path_buf(), source })?;
        let dir = std::fs::canonicalize(dir).map_err(|source| PkiError::Io { path: dir.to_path_buf(), source })?;
        let files = PkiFiles::in_dir(&dir);
        // Mocks started at once (parallel tests, several processes) share the directory: one
        // generates while the others wait, then reuse its files instead of mixing two sets.
        let lock_path = dir.join("pki.lock");
        let lock = std::fs::File::create(&lock_path).map_err(|source| PkiError::Io { path: lock_path.clone(), source })?;
        lock.lock().map_err(|source| PkiError::Io { path: lock_path, source })?;
        let mut pki = match Manifest::load(&files).filter(|m| m.still_fits(spec, OffsetDateTime::now_utc())) {
            Some(_) => match load(&files) {
                Ok(pki) => pki,
                Err(_) => generate(&files, spec)?,
            },
            None => generate(&files, spec)?,
        };
        pki.elapsed = started.elapsed();
        Ok(pki)
    }
}

fn load(files: &PkiFiles) -> Result<Pki, PkiError> {
    let root = read_certs(&files.ca)?.into_iter().next().ok_or_else(|| missing(&files.ca))?;
    let server_chain = read_certs(&files.server_chain)?;
    let foreign_server_chain = read_certs(&files.foreign_server_chain)?;
    let expired_server_chain = read_certs(&files.expired_server_chain)?;
    let server_key = read_key(&files.server_key)?;
    // A set with an expired chain of another root (a generation cut short) is regenerated.
    if server_chain.is_empty() || foreign_server_chain.is_empty() || expired_server_chain.get(1) != Some(&root) {
        return Err(missing(&files.server_chain));
    }
    for pair in files.client_pairs() {
        read_certs(&pair.cert)?;
        read_key(&pair.key)?;
    }
    let read_crl = |path: &Path| {
        std::fs::read(path).map(CertificateRevocationListDer::from).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })
    };
    let (crl, crl_server_revoked) = (read_crl(&files.crl)?, read_crl(&files.crl_server_revoked)?);
    Ok(Pki {
        files: files.clone(),
        root,
        server_chain,
        foreign_server_chain,
        expired_server_chain,
        server_key,
        crl,
        crl_server_revoked,
        reused: true,
        elapsed: Default::default(),
    })
}

fn generate(files: &PkiFiles, spec: &PkiSpec) -> Result<Pki, PkiError> {
    // The manifest is written last: without it, a generation killed half-way (new root, old
    // leaves) is regenerated on the next start instead of being reused as it is.
    let _ = std::fs::remove_file(&files.manifest);
    let now = OffsetDateTime::now_utc();
    let rsa_pkcs8 = reuse_or_generate_rsa(&files.server_key)?;
    let server_key_pair = KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(rsa_pkcs8.as_slice()), &PKCS_RSA_SHA256)
        .map_err(gen_err)?;

    let root = make_root(ROOT_CN, now)?;
    let foreign = make_root(FOREIGN_ROOT_CN, now)?;
    let server = leaf_params(LeafKind::Server(&spec.host_name), "server", now, Validity::Current)?;
    let server_serial = server.serial_number.clone().ok_or_else(|| gen_err("no serial for the server"))?;
    let server_cert = server.signed_by(&server_key_pair, &root).map_err(gen_err)?;
    let foreign_server_cert = server.signed_by(&server_key_pair, &foreign).map_err(gen_err)?;
    let expired_server_cert = leaf_params(LeafKind::Server(&spec.host_name), "server-expired", now, Validity::Expired)?
        .signed_by(&server_key_pair, &root)
        .map_err(gen_err)?;

    files::write_pem(&files.ca, &root.pem(), false)?;
    files::write_pem(&files.foreign_ca, &foreign.pem(), false)?;
    files::write_pem(&files.server_chain, &format!("{}{}", server_cert.pem(), root.pem()), false)?;
    files::write_pem(&files.foreign_server_chain, &format!("{}{}", foreign_server_cert.pem(), foreign.pem()), false)?;
    files::write_pem(&files.expired_server_chain, &format!("{}{}", expired_server_cert.pem(), root.pem()), false)?;
    files::write_pem(&files.server_key, &server_key_pair.serialize_pem(), true)?;

    let clients = [
        (&files.app1, &spec.app1, Validity::Current, &root),
        (&files.app2, &spec.app2, Validity::Current, &root),
        (&files.app1_expired, &spec.app1, Validity::Expired, &root),
        (&files.app1_foreign, &spec.app1, Validity::Current, &foreign),
        (&files.app1_revoked, &spec.app1, Validity::Current, &root),
    ];
    let mut revoked_serial = None;
    for (pair, mailbox, validity, issuer) in clients {
        let key = KeyPair::generate().map_err(gen_err)?;
        let params = leaf_params(LeafKind::Client(mailbox), &pair.role, now, validity)?;
        if pair == &files.app1_revoked {
            revoked_serial = params.serial_number.clone();
        }
        let cert = params.signed_by(&key, issuer).map_err(gen_err)?;
        files::write_pem(&pair.cert, &format!("{}{}", cert.pem(), issuer.pem()), false)?;
        files::write_pem(&pair.key, &key.serialize_pem(), true)?;
    }
    let revoked_serial = revoked_serial.ok_or_else(|| gen_err("no serial for app1-revoked"))?;
    let crl = make_crl(&root, vec![revoked_serial.clone()], now)?;
    files::write_bytes(&files.crl, crl.as_ref(), false)?;
    let crl_server_revoked = make_crl(&root, vec![revoked_serial, server_serial], now)?;
    files::write_bytes(&files.crl_server_revoked, crl_server_revoked.as_ref(), false)?;
    Manifest::new(spec, now + LEAF_LIFETIME).save(files)?;

    Ok(Pki {
        files: files.clone(),
        root: root.der().clone(),
        server_chain: vec![server_cert.der().clone(), root.der().clone()],
        foreign_server_chain: vec![foreign_server_cert.der().clone(), foreign.der().clone()],
        expired_server_chain: vec![expired_server_cert.der().clone(), root.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(rsa_pkcs8)),
        crl,
        crl_server_revoked,
        reused: false,
        elapsed: Default::default(),
    })
}

/// Valid leaves live this long; the cache is renewed a day before they end.
const LEAF_LIFETIME: Duration = Duration::days(90);

#[derive(Clone, Copy)]
enum Validity {
    Current,
    /// Ended 30 days ago (the expired-certificate refusal checks, fault `expired-server-cert`).
    Expired,
}

enum LeafKind<'a> {
    Server(&'a str),
    Client(&'a str),
}

fn make_root(cn: &str, now: OffsetDateTime) -> Result<CertifiedIssuer<'static, KeyPair>, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // The root must already be valid when the expired client certificate was.
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(3 * 365);
    params.serial_number = Some(serial(cn, now));
    let key = KeyPair::generate().map_err(gen_err)?;
    CertifiedIssuer::self_signed(params, key).map_err(gen_err)
}

/// The root's CRL listing `revoked` (key compromise, revoked a day ago), valid as long as the
/// leaves.
fn make_crl(
    root: &CertifiedIssuer<'static, KeyPair>,
    revoked: Vec<SerialNumber>,
    now: OffsetDateTime,
) -> Result<CertificateRevocationListDer<'static>, PkiError> {
    let params = CertificateRevocationListParams {
        this_update: now - Duration::hours(1),
        next_update: now + LEAF_LIFETIME,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .into_iter()
            .map(|serial_number| RevokedCertParams {
                serial_number,
                revocation_time: now - Duration::days(1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(root).map_err(gen_err)?.der().clone())
}

fn leaf_params(kind: LeafKind<'_>, role: &str, now: OffsetDateTime, validity: Validity) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial(role, now));
    (params.not_before, params.not_after) = match validity {
        Validity::Current => (now - Duration::hours(1), now + LEAF_LIFETIME),
        Validity::Expired => (now - Duration::days(120), now - Duration::days(30)),
    };
    match kind {
        LeafKind::Server(host) => {
            params.distinguished_name = name(host);
            params.subject_alt_names = vec![
                SanType::DnsName(host.try_into().map_err(gen_err)?),
                SanType::DnsName("localhost".try_into().map_err(gen_err)?),
                SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
            ];
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![format!("http://{host}/crl/root.crl")] }];
            params.custom_extensions = vec![ocsp_access(&format!("http://{host}/ocsp"))];
        }
        LeafKind::Client(mailbox) => {
            params.distinguished_name = name(&format!("{mailbox} (APP, {role})"));
            params.subject_alt_names = vec![SanType::Rfc822Name(mailbox.try_into().map_err(gen_err)?)];
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
    }
    Ok(params)
}

/// An authorityInfoAccess extension naming one OCSP responder (rcgen has no builder for it).
fn ocsp_access(uri: &str) -> CustomExtension {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }
    // id-ad-ocsp 1.3.6.1.5.5.7.48.1, then the URI as [6] IMPLICIT IA5String.
    let mut description = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01]);
    description.extend(tlv(0x86, uri.as_bytes()));
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &tlv(0x30, &description)))
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::OrganizationName, "mssconf mock operator (fictitious)");
    dn.push(DnType::CommonName, cn);
    dn
}

/// Distinct serials without a random source: hash of role and time.
fn serial(role: &str, now: OffsetDateTime) -> SerialNumber {
    let digest = Sha256::digest(format!("{role}|{}", now.unix_timestamp_nanos()));
    let mut bytes = digest[..16].to_vec();
    bytes[0] &= 0x7f; // positive INTEGER
    bytes[0] |= 0x01; // no leading zero byte
    SerialNumber::from_slice(&bytes)
}

/// The RSA key of an earlier start when it is still readable, else a fresh 2048-bit one.
fn reuse_or_generate_rsa(path: &Path) -> Result<Vec<u8>, PkiError> {
    if let Ok(PrivateKeyDer::Pkcs8(der)) = PrivateKeyDer::from_pem_file(path)
        && KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256).is_ok()
    {
        return Ok(der.secret_pkcs8_der().to_vec());
    }
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(gen_err)?;
    Ok(key.to_pkcs8_der().map_err(gen_err)?.as_bytes().to_vec())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let bytes = std::fs::read(path).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })?;
    CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>().map_err(|_| missing(path))
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_file(path).map_err(|_| missing(path))
}

fn missing(path: &Path) -> PkiError {
    PkiError::Io { path: path.to_path_buf(), source: std::io::Error::other("missing or unreadable PEM") }
}

fn gen_err(e: impl std::fmt::Display) -> PkiError {
    PkiError::Generate(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    fn spec() -> PkiSpec {
        PkiSpec { host_name: "mock.mssante.test".into(), app1: "app1@op.test".into(), app2: "app2@op.test".into() }
    }

    #[test]
    fn generates_then_reuses_and_regenerates_when_spec_changes() {
        let dir = tempfile::tempdir().unwrap();
        let first = Pki::prepare(dir.path(), &spec()).unwrap();
        eprintln!("PKI generation took {:?}", first.elapsed);
        assert!(!first.reused);
        let (_, server) = X509Certificate::from_der(first.server_chain[0].as_ref()).unwrap();
        assert!(matches!(server.public_key().parsed(), Ok(x509_parser::public_key::PublicKey::RSA(_))));
        let sans = server.subject_alternative_name().unwrap().unwrap();
        assert_eq!(sans.value.general_names.len(), 3);
        assert!(server.validity().is_valid_at(ASN1Time::now()));
        let (_, expired) = X509Certificate::from_der(first.expired_server_chain[0].as_ref()).unwrap();
        assert!(!expired.validity().is_valid_at(ASN1Time::now()) && expired.issuer() == server.issuer());
        let (_, root) = X509Certificate::from_der(first.root.as_ref()).unwrap();
        assert!(root.subject().to_string().contains("IGC-Santé TEST"));

        let second = Pki::prepare(dir.path(), &spec()).unwrap();
        eprintln!("PKI reuse took {:?}", second.elapsed);
        assert!(second.reused);
        assert_eq!(second.root, first.root);

        // A set without its expired chain is regenerated.
        std::fs::remove_file(&second.files.expired_server_chain).unwrap();
        let regenerated = Pki::prepare(dir.path(), &spec()).unwrap();
        assert!(!regenerated.reused && regenerated.files.expired_server_chain.exists());

        let other = PkiSpec { host_name: "other.mssante.test".into(), ..spec() };
        let third = Pki::prepare(dir.path(), &other).unwrap();
        assert!(!third.reused);
        assert_ne!(third.root, regenerated.root);
        // The slow RSA key survives regeneration.
        assert_eq!(third.server_key().secret_der(), first.server_key().secret_der());
    }

    #[test]
    fn client_certificates_name_their_mailbox_and_validity() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::prepare(dir.path(), &spec()).unwrap();
        let now = ASN1Time::now();
        for (pair, mailbox, valid, issuer) in [
            (&pki.files.app1, "app1@op.test", true, ROOT_CN),
            (&pki.files.app2, "app2@op.test", true, ROOT_CN),
            (&pki.files.app1_expired, "app1@op.test", false, ROOT_CN),
            (&pki.files.app1_foreign, "app1@op.test", true, FOREIGN_ROOT_CN),
            (&pki.files.app1_revoked, "app1@op.test", true, ROOT_CN),
        ] {
            let certs = read_certs(&pair.cert).unwrap();
            let (_, cert) = X509Certificate::from_der(certs[0].as_ref()).unwrap();
            assert_eq!(crate::tls::client_cert_mailbox(Some(&certs)).as_deref(), Some(mailbox));
            assert_eq!(cert.validity().is_valid_at(now), valid, "{}", pair.role);
            assert!(cert.issuer().to_string().contains(issuer), "{}", pair.role);
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&pair.key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    /// The root's CRL lists app1-revoked, and only it; it survives a reuse of the files.
    #[test]
    fn the_crl_lists_the_revoked_certificate_only() {
        let dir = tempfile::tempdir().unwrap();
        let first = Pki::prepare(dir.path(), &spec()).unwrap();
        let pki = Pki::prepare(dir.path(), &spec()).unwrap();
        assert!(pki.reused && pki.crl == first.crl);
        let (_, crl) = CertificateRevocationList::from_der(pki.crl.as_ref()).unwrap();
        assert!(crl.issuer().to_string().contains(ROOT_CN));
        let serial = |pair: &CertKeyFiles| {
            let certs = read_certs(&pair.cert).unwrap();
            X509Certificate::from_der(certs[0].as_ref()).unwrap().1.raw_serial().to_vec()
        };
        let listed: Vec<Vec<u8>> = crl.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()).collect();
        assert_eq!(listed, [serial(&pki.files.app1_revoked)]);
        assert!(!listed.contains(&serial(&pki.files.app1)));
        let (_, server) = X509Certificate::from_der(pki.server_chain[0].as_ref()).unwrap();
        let (_, both) = CertificateRevocationList::from_der(pki.crl_server_revoked.as_ref()).unwrap();
        let listed: Vec<&[u8]> = both.iter_revoked_certificates().map(|r| r.raw_serial()).collect();
        assert_eq!(listed, [serial(&pki.files.app1_revoked).as_slice(), server.raw_serial()]);
    }
}
