//! The link check against a real loopback https server, and the checklist end to end.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::checklist::{ItemId, Status};
use super::link::{LinkPolicy, documentation_url};
use super::model::{Contact, Dossier};
use super::render::{to_html, to_json};
use crate::lang::Lang;
use crate::exec::smtp::testkit::TestPki;
use crate::target::allow::HostAllowList;

/// An https server on loopback answering every request with `status`; returns its port.
async fn https_server(pki: &TestPki, status: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(pki.server_config());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn policy(pki: &TestPki, hosts: &[&str]) -> LinkPolicy {
    LinkPolicy {
        hosts: Some(HostAllowList::from_hosts(hosts.iter().copied())),
        trust_anchors_pem: vec![pki.ca_pem.clone().into_bytes()],
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_live_link_is_checked_and_a_dead_one_is_not() {
    let pki = TestPki::new("Dossier Test CA");
    let p = policy(&pki, &["localhost"]);
    let live = https_server(&pki, "200 OK").await;
    let item = documentation_url(Some(&format!("https://localhost:{live}/doc")), &p).await;
    assert_eq!(item.status, Status::Checked, "{:?}", item.note);
    assert!(item.note.fr.contains("HTTP 200"), "{}", item.note.fr);

    let gone = https_server(&pki, "404 Not Found").await;
    let item = documentation_url(Some(&format!("https://localhost:{gone}/doc")), &p).await;
    assert_eq!(item.status, Status::Invalid);
    assert!(item.note.fr.starts_with("lien mort : HTTP 404"), "{}", item.note.fr);

    // Nothing listens on a port just released.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let item = documentation_url(Some(&format!("https://localhost:{closed}/doc")), &p).await;
    assert_eq!(item.status, Status::Invalid);
    assert!(item.note.fr.starts_with("lien mort"), "{}", item.note.fr);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_dead_link() {
    let pki = TestPki::new("Dossier Test CA");
    let other = TestPki::new("Another CA");
    let port = https_server(&pki, "200 OK").await;
    let item = documentation_url(Some(&format!("https://localhost:{port}/")), &policy(&other, &["localhost"])).await;
    assert_eq!(item.status, Status::Invalid, "{:?}", item.note);
}

#[tokio::test]
async fn undeclared_hosts_and_plain_http_are_not_contacted() {
    let pki = TestPki::new("Dossier Test CA");
    let port = https_server(&pki, "200 OK").await;
    let url = format!("https://localhost:{port}/doc");
    let item = documentation_url(Some(&url), &policy(&pki, &["mss.example.fr"])).await;
    assert_eq!(item.status, Status::Present);
    assert!(item.note.fr.contains("l'hôte localhost n'est pas déclaré"), "{}", item.note.fr);
    let no_target = LinkPolicy { hosts: None, trust_anchors_pem: vec![], timeout: Duration::from_secs(1) };
    assert_eq!(documentation_url(Some(&url), &no_target).await.status, Status::Present);
    let plain = documentation_url(Some(&format!("http://localhost:{port}/doc")), &policy(&pki, &["localhost"])).await;
    assert_eq!(plain.status, Status::Invalid);
    assert_eq!(documentation_url(None, &no_target).await.status, Status::Missing);
}

#[tokio::test]
async fn the_checklist_lists_every_item_in_french_or_english() {
    let pki = TestPki::new("Dossier Test CA");
    let port = https_server(&pki, "200 OK").await;
    let dir = tempfile::tempdir().unwrap();
    let guide = dir.path().join("guide.pdf");
    std::fs::write(&guide, b"%PDF-1.4\n").unwrap();
    let dossier = Dossier {
        connection_guide: Some(guide),
        documentation_url: Some(format!("https://localhost:{port}/doc")),
        support_contacts: vec![Contact { name: Some("Support".into()), email: Some("support@op.fr".into()), phone: None }],
        referencing_number: Some("REF-2026-7".into()),
        dossier_number: None,
        production_bundle: None,
        production_pubkey: None,
    };
    let list = super::assess(&dossier, &policy(&pki, &["localhost"]), None).await;
    assert_eq!(list.items.len(), 6);
    assert_eq!(list.item(ItemId::ConnectionGuide).unwrap().status, Status::Checked);
    assert_eq!(list.item(ItemId::DocumentationUrl).unwrap().status, Status::Checked);
    assert_eq!(list.item(ItemId::SupportContacts).unwrap().status, Status::Checked);
    assert_eq!(list.item(ItemId::ReferencingNumber).unwrap().status, Status::Present);
    assert_eq!(list.item(ItemId::DossierNumber).unwrap().status, Status::Missing);
    assert_eq!(list.item(ItemId::ProductionProof).unwrap().status, Status::Missing);
    assert!(!list.complete());

    let at = "2026-12-07T05:00:00Z".parse().unwrap();
    let json = to_json(&list, Lang::Fr, at);
    assert_eq!(json["lang"], "fr");
    assert_eq!(json["complete"], false);
    assert_eq!(json["items"][4]["id"], "dossier_number");
    assert_eq!(json["items"][4]["status"], "missing");
    assert_eq!(json["items"][4]["status_label"], "manquant");
    let html = to_html(&list, Lang::Fr, at);
    assert!(html.contains("<html lang=\"fr\">") && html.contains("Numéro de dossier") && html.contains("présent, vérifié"), "{html}");
    assert!(html.contains("Dossier incomplet"), "{html}");
    let en = to_html(&list, Lang::En, at);
    assert!(en.contains("Dossier number") && en.contains("present, checked") && !en.contains("manquant"), "{en}");
    assert_eq!(to_json(&list, Lang::En, at)["items"][4]["status_label"], "missing");
}
