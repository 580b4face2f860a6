//! `mssconf dossier --target`: the documentation link is fetched over https on a host the
//! target profile declares (here the embedded mock's 127.0.0.1, its CA as trust anchor), and a
//! dead link or an undeclared host is said so in the checklist.

use std::path::Path;
use std::sync::Arc;

use mssconf_mock::{MockConfig, MockOperator};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::evidence_bundle::mssconf;

/// An https server on 127.0.0.1 with the mock's server certificate: 200 on `/doc`, 404 elsewhere.
async fn documentation_site(chain: &Path, key: &Path) -> u16 {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(chain).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut seen = Vec::new();
                let mut buf = [0u8; 2048];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let status = if seen.starts_with(b"GET /doc ") { "200 OK" } else { "404 Not Found" };
                let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn link_item(dir: &Path) -> (String, String) {
    let list: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("dossier-checklist.json")).unwrap()).unwrap();
    let item = list["items"].as_array().unwrap().iter().find(|i| i["id"] == "documentation_url").unwrap().clone();
    (item["status"].as_str().unwrap().to_string(), item["note"].as_str().unwrap().to_string())
}

#[test]
fn the_documentation_link_is_checked_on_a_declared_host_only() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock = rt.block_on(MockOperator::start(MockConfig::new(mssconf::runner::mock_state_dir().join("pki")))).expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("mock.target.yaml");
    mock.write_target(&profile).unwrap();
    let pki = mock.pki_files();
    let port = rt.block_on(documentation_site(&pki.server_chain, &pki.server_key));
    let dossier = dir.path().join("dossier.yaml");
    let check = |url: String| {
        std::fs::write(&dossier, format!("documentation_url: {url}\n")).unwrap();
        let (code, text) = mssconf(&["dossier", "--dossier", dossier.to_str().unwrap(), "--target", profile.to_str().unwrap()]);
        assert_eq!(code, 1, "other items are missing: {text}");
        link_item(dir.path())
    };
    let (status, note) = check(format!("https://127.0.0.1:{port}/doc"));
    assert_eq!(status, "checked", "{note}");
    assert_eq!(note, "répond en https (HTTP 200)");
    let (status, note) = check(format!("https://127.0.0.1:{port}/gone"));
    assert_eq!((status.as_str(), note.as_str()), ("invalid", "lien mort : HTTP 404"));
    // `localhost` reaches the same server, but the profile declares 127.0.0.1 only: not contacted.
    let (status, note) = check(format!("https://localhost:{port}/doc"));
    assert_eq!(status, "present", "{note}");
    assert!(note.contains("l'hôte localhost n'est pas déclaré"), "{note}");
    drop(mock);
}
