//! TLS behaviour of the mock's listeners: versions, cipher allow-list, certificates, and the
//! TLS faults. Includes an openssl s_client cross-check.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use mssconf_mock::faults::Fault;
use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::cipher_suite;
use rustls::{ClientConfig, SupportedCipherSuite};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TLS 1.0/1.1 ClientHello as a legacy probe sends it, built here independently of the mock.
fn legacy_hello(version: u16) -> Vec<u8> {
    hello(version, &[0xc013, 0xc014, 0x002f, 0x0035])
}

/// A ClientHello offering `version` (no supported_versions) and `suites`.
fn hello(version: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([7u8; 32]);
    body.push(0);
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    suites.iter().for_each(|s| body.extend(s.to_be_bytes()));
    body.extend([1, 0]);
    let mut ext = vec![0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, 0xff, 0x01, 0x00, 0x01, 0x00];
    if version >= 0x0303 {
        // signature_algorithms: rsa_pss_rsae_sha256, rsa_pkcs1_sha256 (TLS 1.2 servers need it).
        ext.extend([0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x08, 0x04, 0x04, 0x01]);
    }
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8];
    hs.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend((hs.len() as u16).to_be_bytes());
    record.extend(hs);
    record
}

/// Sends a legacy hello and reads the first record header + 6 bytes; `None` on close.
async fn probe(mut tcp: TcpStream, version: u16) -> Option<Vec<u8>> {
    tcp.write_all(&legacy_hello(version)).await.ok()?;
    let mut head = vec![0u8; 11];
    match tokio::time::timeout(WAIT, tcp.read_exact(&mut head)).await.expect("answer in time") {
        Ok(_) => Some(head),
        // An alert is 7 bytes: short read.
        Err(_) => None,
    }
}

async fn probe_first_byte(mut tcp: TcpStream, version: u16) -> Option<u8> {
    tcp.write_all(&legacy_hello(version)).await.ok()?;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(WAIT, tcp.read(&mut byte)).await.expect("answer in time") {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

/// TCP to the SMTP STARTTLS port, after `STARTTLS` was accepted.
async fn after_starttls(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let _ = tcp.read(&mut buf).await.unwrap();
    tcp.write_all(b"EHLO probe.test\r\n").await.unwrap();
    let mut seen = String::new();
    while !seen.contains("250 ") {
        let n = tcp.read(&mut buf).await.unwrap();
        seen += &String::from_utf8_lossy(&buf[..n]);
    }
    tcp.write_all(b"STARTTLS\r\n").await.unwrap();
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"220"));
    tcp
}

#[tokio::test]
async fn legacy_hellos_are_refused_with_an_alert_without_the_fault() {
    let mock = start(&[]).await;
    for version in [0x0301, 0x0302] {
        let tcp = TcpStream::connect(mock.endpoints().smtp_implicit).await.unwrap();
        let first = probe_first_byte(tcp, version).await;
        assert!(matches!(first, None | Some(0x15)), "alert or close, got {first:?}");
        let first = probe_first_byte(after_starttls(mock.endpoints().smtp_starttls).await, version).await;
        assert!(matches!(first, None | Some(0x15)), "after STARTTLS: alert or close, got {first:?}");
    }
}

#[tokio::test]
async fn tls10_fault_answers_a_legacy_server_hello_on_implicit_and_starttls() {
    let mock = start(&[Fault::Tls10]).await;
    for version in [0x0301u16, 0x0302] {
        let tcp = TcpStream::connect(mock.endpoints().smtp_implicit).await.unwrap();
        let head = probe(tcp, version).await.expect("a ServerHello");
        assert_eq!(head[0], 0x16, "handshake record");
        assert_eq!(u16::from_be_bytes([head[1], head[2]]), version);
        assert_eq!(head[5], 0x02, "ServerHello");
        assert_eq!(u16::from_be_bytes([head[9], head[10]]), version, "server_version");
        let head = probe(after_starttls(mock.endpoints().smtp_starttls).await, version).await.expect("a ServerHello");
        assert_eq!((head[5], u16::from_be_bytes([head[9], head[10]])), (0x02, version));
    }
    // Modern clients are still served normally.
    let (_, greeting) = Smtp::connect_tls(mock.endpoints().smtp_implicit, default_tls(&mock)).await;
    assert_eq!(greeting.code, 220);
}

fn tls12_client(mock: &mssconf_mock::MockHandle, suites: Vec<SupportedCipherSuite>) -> ClientConfig {
    let provider = CryptoProvider { cipher_suites: suites, ..rustls::crypto::ring::default_provider() };
    ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots(&mock.pki_files().ca))
        .with_no_client_auth()
}

async fn handshake(addr: std::net::SocketAddr, config: ClientConfig) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(SERVER_NAME).unwrap();
    tokio::time::timeout(WAIT, tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp)).await.unwrap()
}

#[tokio::test]
async fn tls12_negotiates_an_allow_listed_suite_and_tls13_works() {
    let mock = start(&[]).await;
    let all = rustls::crypto::ring::default_provider().cipher_suites;
    let tls = handshake(mock.endpoints().smtp_implicit, tls12_client(&mock, all)).await.unwrap();
    let suite = tls.get_ref().1.negotiated_cipher_suite().unwrap().suite();
    assert!(
        [cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.suite(), cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.suite()]
            .contains(&suite),
        "{suite:?}"
    );
    let (smtp, _) = Smtp::connect_tls(mock.endpoints().smtp_implicit, default_tls(&mock)).await;
    assert_eq!(smtp.tls().unwrap().protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
}

#[tokio::test]
async fn weak_cipher_is_refused_unless_faulted() {
    let weak = vec![cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256];
    let mock = start(&[]).await;
    assert!(handshake(mock.endpoints().smtp_implicit, tls12_client(&mock, weak.clone())).await.is_err());

    let mock = start(&[Fault::WeakCipher]).await;
    let tls = handshake(mock.endpoints().smtp_implicit, tls12_client(&mock, weak)).await.expect("weak suite accepted");
    assert_eq!(
        tls.get_ref().1.negotiated_cipher_suite().unwrap().suite(),
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.suite()
    );
    // A client preferring the weak suite gets it even when it also offers allowed ones.
    let mut prefer_weak = vec![cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256];
    prefer_weak.push(cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
    let tls = handshake(mock.endpoints().smtp_implicit, tls12_client(&mock, prefer_weak)).await.unwrap();
    assert_eq!(
        tls.get_ref().1.negotiated_cipher_suite().unwrap().suite(),
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.suite()
    );
}

/// Sends a TLS 1.2 hello offering `suites`; (version, suite) of the ServerHello, `None` on an
/// alert or close.
async fn tls12_probe(addr: std::net::SocketAddr, suites: &[u16]) -> Option<(u16, u16)> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&hello(0x0303, suites)).await.unwrap();
    let mut head = vec![0u8; 5];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut head)).await.expect("answer in time").ok()?;
    if head[0] != 0x16 {
        return None;
    }
    let mut body = vec![0u8; u16::from_be_bytes([head[3], head[4]]) as usize];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut body)).await.expect("answer in time").ok()?;
    // ServerHello: type, 3-byte length, version, 32-byte random, session id, suite.
    let sid = body[38] as usize;
    Some((u16::from_be_bytes([body[4], body[5]]), u16::from_be_bytes([body[39 + sid], body[40 + sid]])))
}

#[tokio::test]
async fn static_rsa_suite_is_refused_unless_faulted() {
    let mock = start(&[]).await;
    assert_eq!(tls12_probe(mock.endpoints().smtp_implicit, &[0x002f, 0x0035]).await, None, "static RSA refused");
    let mock = start(&[Fault::StaticRsaSuite]).await;
    assert_eq!(tls12_probe(mock.endpoints().smtp_implicit, &[0x002f, 0x0035]).await, Some((0x0303, 0x0035)));
    assert_eq!(tls12_probe(mock.endpoints().imap_implicit, &[0x0035]).await, Some((0x0303, 0x0035)));
    // Without AES256-SHA in the offer, rustls answers: the other static-RSA suites are refused.
    assert_eq!(tls12_probe(mock.endpoints().smtp_implicit, &[0x002f, 0x003c]).await, None);
    // An allow-listed suite still works, and TLS 1.0 is still refused (that is fault tls10).
    assert_eq!(tls12_probe(mock.endpoints().smtp_implicit, &[0xc02f]).await.map(|(_, s)| s), Some(0xc02f));
    assert_eq!(probe_first_byte(TcpStream::connect(mock.endpoints().smtp_implicit).await.unwrap(), 0x0301).await, Some(0x15));
}

#[tokio::test]
async fn foreign_ca_fault_presents_a_chain_outside_the_trust_anchor() {
    let mock = start(&[]).await;
    assert!(handshake(mock.endpoints().smtp_implicit, default_tls(&mock)).await.is_ok());
    let mock = start(&[Fault::ForeignCaCert]).await;
    let err = handshake(mock.endpoints().smtp_implicit, default_tls(&mock)).await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    let trusting_foreign = client_config(&mock.pki_files().foreign_ca, None);
    assert!(handshake(mock.endpoints().smtp_implicit, trusting_foreign).await.is_ok());
}

#[tokio::test]
async fn expired_server_cert_fault_presents_a_trusted_but_expired_chain() {
    let mock = start(&[Fault::ExpiredServerCert]).await;
    let err = handshake(mock.endpoints().imap_implicit, default_tls(&mock)).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("expired"), "{err}");
}

/// Implicit TLS with a client certificate; true when the server greets (accepted the cert).
async fn greeted_with(mock: &mssconf_mock::MockHandle, files: &mssconf_mock::pki::CertKeyFiles) -> bool {
    let config = client_config(&mock.pki_files().ca, identity(files));
    let Ok(mut tls) = handshake(mock.endpoints().smtp_implicit, config).await else { return false };
    let mut buf = [0u8; 3];
    // TLS 1.3: a refused certificate shows up as an alert on the first read.
    matches!(tokio::time::timeout(WAIT, tls.read_exact(&mut buf)).await, Ok(Ok(_))) && &buf == b"220"
}

#[tokio::test]
async fn client_certificates_are_verified_unless_any_is_accepted() {
    let mock = start(&[]).await;
    let files = mock.pki_files().clone();
    assert!(greeted_with(&mock, &files.app1).await);
    assert!(!greeted_with(&mock, &files.app1_expired).await, "expired certificate refused");
    assert!(!greeted_with(&mock, &files.app1_foreign).await, "foreign CA certificate refused");
    let mock = start(&[Fault::AcceptAnyClientCert]).await;
    assert!(greeted_with(&mock, &files.app1_expired).await);
    assert!(greeted_with(&mock, &files.app1_foreign).await);
}

#[tokio::test]
async fn openssl_s_client_starttls_smtp_tls12_succeeds() {
    let openssl = std::path::Path::new("/usr/bin/openssl");
    if !openssl.exists() {
        eprintln!("SKIPPED: /usr/bin/openssl is absent; the openssl cross-check did not run");
        return;
    }
    let mock = start(&[]).await;
    let port = mock.endpoints().smtp_starttls.port();
    let ca = mock.pki_files().ca.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(openssl)
            .args(["s_client", "-starttls", "smtp", "-connect", &format!("127.0.0.1:{port}"), "-tls1_2"])
            .args(["-servername", SERVER_NAME, "-verify_return_error", "-brief", "-CAfile"])
            .arg(&ca)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl runs");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "openssl failed:\n{text}");
    assert!(text.contains("Protocol version: TLSv1.2"), "{text}");
    assert!(text.contains("Verification: OK"), "{text}");
    assert!(text.contains("ECDHE-RSA-AES256-GCM-SHA384") || text.contains("ECDHE-RSA-AES128-GCM-SHA256"), "{text}");
}
