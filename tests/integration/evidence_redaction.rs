//! A server that echoes the bearer token in its refusal (`535 … token <TOKEN> refused`, and the
//! client's base64 response too) must not put the token into the transcript, the reports or the
//! proofs: the run's secret set scrubs it wherever it lands.



use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crate::evidence_support::{all_files, find_token, run_in_process};
use mssconf::plan::filter::Filter;
use mssconf::runner::TargetChoice;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub(crate) const TOKEN: &str = "canary-eyJ0eXAiOiJKV1QifQ.Q0FOQVJZLXBheWxvYWQtZm9yLXJlZGFjdGlvbg.c2lnbmF0dXJl-4242";

/// A CA and a `localhost` certificate, as PEM (CA, chain, key).
pub(crate) fn pki() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "redaction test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// The token inside an XOAUTH2 initial response (`user=…\x01auth=Bearer <token>\x01\x01`).
fn bearer_of(b64: &str) -> String {
    let raw = STANDARD.decode(b64.trim()).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw).to_string();
    text.split("auth=Bearer ").nth(1).unwrap_or("").split('\u{1}').next().unwrap_or("").to_string()
}

/// Serves connections (implicit TLS) until the test ends: greeting, EHLO, and a 535 that quotes
/// the token it received, in clear and as the client sent it.
pub(crate) async fn echo_server(listener: TcpListener, cert_pem: String, key_pem: String) {
    let chain = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else { return };
            let (r, mut w) = tokio::io::split(tls);
            let mut lines = BufReader::new(r).lines();
            let _ = w.write_all(b"220 localhost ESMTP scripted echo server\r\n").await;
            while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await {
                let upper = line.to_ascii_uppercase();
                let reply = if upper.starts_with("EHLO") {
                    "250-localhost\r\n250-AUTH XOAUTH2\r\n250 ENHANCEDSTATUSCODES\r\n".to_string()
                } else if let Some(b64) = line.strip_prefix("AUTH XOAUTH2 ") {
                    format!("535 5.7.8 token {} refused (you sent {b64})\r\n", bearer_of(b64))
                } else if upper.starts_with("QUIT") {
                    let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                    return;
                } else {
                    "500 5.5.1 unknown\r\n".to_string()
                };
                if w.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

pub(crate) const SCENARIO: &str = r#"
id: OPE/AUTH.01.91
title: "Un jeton renvoyé par le serveur est masqué"
requirements: [OPE/AUTH.01]
profile: per-org
tags: [evidence-test]
proofs:
  - { n: "02", kind: screenshot, title: "Capture du refus" }
steps:
  - title: "AUTH XOAUTH2 auprès d'un serveur qui renvoie le jeton"
    proofs:
      - { n: "01", kind: log, title: "Log de la session" }
      - { n: "03", kind: file, title: "Faits (JSON)" }
    smtp:
      endpoint: smtp_implicit
      actions:
        - ehlo: { expect: { code: "250" } }
        # Expects success: the refusal (holding the token) lands in the failed check too.
        - auth: { mailbox: per1, mechanism: XOAUTH2, expect: { code: "235" } }
        - quit: {}
"#;

pub(crate) fn write_profile(dir: &Path, port: u16, ca_pem: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    // Secret files must be private to their owner, or the profile is refused.
    std::fs::set_permissions(dir.join("token"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let profile = format!(
        r#"name: echo-server
operator: Echo
service: Scripted
version: "1"
claims: [general, per-org]
domain: localhost.test
server_name: localhost
endpoints:
  smtp_implicit: {{ host: 127.0.0.1, port: {port}, tls: implicit }}
trust_anchors: [{ca}]
mailboxes:
  per1: {{ address: dr.canari@localhost.test, type: PER, token: {{ file: {token} }} }}
timeouts: {{ connect: 5000, reply: 5000, delivery: 5000, step: 15000, scenario: 30000 }}
"#,
        ca = dir.join("ca.pem").display(),
        token = dir.join("token").display()
    );
    let path = dir.join("target.yaml");
    std::fs::write(&path, profile).unwrap();
    path
}

#[test]
fn a_token_echoed_in_a_refusal_is_redacted_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pki();
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = server_rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    server_rt.spawn(echo_server(listener, cert, key));
    let profile = write_profile(dir.path(), port, &ca);
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(scenarios.join("echo.yaml"), SCENARIO).unwrap();
    let report_dir = dir.path().join("report");
    let filter = Filter::new(vec![], vec![], vec![], &[]).unwrap();
    let run = run_in_process(vec![scenarios], &filter, TargetChoice::Profile(profile), &report_dir);

    let s = &run.record.scenarios[0];
    assert_eq!(s.outcome, mssconf::record::Outcome::Fail, "{:?}", s.reason);
    // The server did echo: the refusal is in the transcript, with the token masked.
    let refusal = s.transcript.iter().find(|l| l.text.starts_with("535")).expect("535 in the transcript");
    assert!(refusal.text.contains("token <redacted> refused"), "{}", refusal.text);
    assert!(s.proofs.iter().all(|p| p.file.is_some()), "every proof written: {:?}", s.proofs);
    let files = all_files(&report_dir);
    assert!(files.len() >= 6, "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (name, bytes) in &files {
        assert!(find_token(bytes, TOKEN).is_none(), "{name} holds the token");
    }
    let json = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
    assert!(json.contains("token <redacted> refused"), "the failed check shows the scrubbed refusal");
    server_rt.shutdown_background();
}
