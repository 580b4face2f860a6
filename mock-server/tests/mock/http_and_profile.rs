//! The mock's HTTP services, its start/stop API and the target profile it writes.

use crate::support;

use mssconf_mock::{MockConfig, MockOperator};
use support::*;

#[tokio::test]
async fn token_issuer_and_introspection() {
    let mock = start(&[]).await;
    let addr = mock.endpoints().http;
    let per1 = address(&mock, "per1");
    let (status, body) = http(addr, "POST", "/psc/token", Some(&format!("mailbox={per1}"))).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((json["token_type"].as_str(), json["expires_in"].as_i64()), (Some("Bearer"), Some(300)));
    let token = json["access_token"].as_str().unwrap().to_string();
    assert_eq!(token.split('.').count(), 3, "JWT-shaped");

    let (status, body) = http(addr, "POST", "/psc/introspect", Some(&format!("token={token}"))).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["active"], true);
    assert_eq!(json["mailbox"].as_str(), Some(per1.as_str()));
    assert_eq!(json["SubjectNameID"].as_str(), Some("899900000001"));
    assert!(json["exp"].as_i64().is_some() && json["scope"].as_str().is_some());

    let expired = support::token(&mock, &per1, -60).await;
    for unknown in [expired.as_str(), "nope"] {
        let (_, body) = http(addr, "POST", "/psc/introspect", Some(&format!("token={unknown}"))).await;
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), serde_json::json!({"active": false}));
    }

    let app1 = address(&mock, "app1");
    for form in [format!("mailbox={app1}"), "mailbox=nobody@x.test".into(), "lifetime=10".into(), format!("mailbox={per1}&lifetime=abc")] {
        let (status, body) = http(addr, "POST", "/psc/token", Some(&form)).await;
        assert_eq!(status, 400, "{form}: {body}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"], "invalid_request");
    }
    let (status, _) = http(addr, "POST", "/psc/token", None).await;
    assert_eq!(status, 400, "no form body");
}

/// `revoked=true` hands out a token that is already revoked: introspection says inactive and
/// SMTP AUTH refuses it, unless fault `accept-revoked-token` is on.
#[tokio::test]
async fn revoked_tokens_are_issued_inactive_and_refused_unless_faulted() {
    for (faults, accepted) in [(&[][..], false), (&[mssconf_mock::faults::Fault::AcceptRevokedToken][..], true)] {
        let mock = start(faults).await;
        let addr = mock.endpoints().http;
        let per1 = address(&mock, "per1");
        let (status, body) = http(addr, "POST", "/psc/token", Some(&format!("mailbox={per1}&lifetime=600&revoked=true"))).await;
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let token = json["access_token"].as_str().unwrap().to_string();
        assert_eq!(json["expires_in"].as_i64(), Some(600), "revoked, not expired");
        let (_, body) = http(addr, "POST", "/psc/introspect", Some(&format!("token={token}"))).await;
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), serde_json::json!({"active": false}));
        assert_eq!(mock.context().tokens.validate(&token, &per1).is_ok(), accepted, "faults {faults:?}");
        let (status, _) = http(addr, "POST", "/psc/token", Some(&format!("mailbox={per1}&revoked=maybe"))).await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn whitelist_and_autoconfig_documents() {
    let mock = start(&[]).await;
    let (status, xml) = http(mock.endpoints().http, "GET", "/listeblanchemssante.xml", None).await;
    assert_eq!(status, 200);
    assert!(xml.contains("xmlns=\"https://listeblanche.mssante.fr/schema\""));
    for domain in &mock.context().whitelist {
        assert!(xml.contains(&format!("<Domaine>\n    <Nom>{domain}</Nom>")), "{domain} in\n{xml}");
    }
    assert!(xml.contains("<Nom>hôpital-fictif.mssante.test</Nom>") && xml.contains("<Nom>patient.mssante.test</Nom>"));

    let (status, xml) = http(mock.endpoints().http, "GET", "/.well-known/autoconfig/mail/config-v1.1.xml", None).await;
    assert_eq!(status, 200);
    let e = mock.endpoints();
    for port in [e.smtp_starttls.port(), e.smtp_implicit.port(), e.imap_starttls.port(), e.imap_implicit.port()] {
        assert!(xml.contains(&format!("<port>{port}</port>")), "{xml}");
    }
}

#[tokio::test]
async fn start_measures_itself_writes_a_profile_and_shutdown_frees_the_ports() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let mock = MockOperator::start(MockConfig::new(&pki)).await.unwrap();
    let first = mock.startup_time();
    assert!(!mock.pki_reused());
    eprintln!("{}", mock.describe_endpoints());
    let target = dir.path().join("targets/mock.yaml");
    mock.write_target(&target).unwrap();
    let yaml = std::fs::read_to_string(&target).unwrap();
    eprintln!("{yaml}");
    let e = *mock.endpoints();
    for needle in [
        format!("smtp_starttls: {{ host: 127.0.0.1, port: {}, tls: starttls }}", e.smtp_starttls.port()),
        format!("imap_implicit: {{ host: 127.0.0.1, port: {}, tls: implicit }}", e.imap_implicit.port()),
        format!("token_issuer: http://{}/psc/token", e.http),
        "server_name: mock.mssante.test".to_string(),
        "expired_token: issuer".to_string(),
    ] {
        assert!(yaml.contains(&needle), "missing {needle}");
    }
    let files = mock.pki_files().clone();
    for path in [&files.ca, &files.app1.cert, &files.app1.key, &files.app2.key, &files.app1_expired.cert, &files.app1_foreign.key] {
        assert!(path.is_absolute() && path.exists(), "{}", path.display());
        assert!(yaml.contains(&*path.to_string_lossy()), "{} in the profile", path.display());
    }
    // The IMAP listeners listen (the real server is merged from another branch).
    assert!(tokio::net::TcpStream::connect(e.imap_starttls).await.is_ok());
    mock.shutdown().await;
    assert!(tokio::net::TcpStream::connect(e.smtp_starttls).await.is_err(), "listener closed after shutdown");

    let again = MockOperator::start(MockConfig::new(&pki)).await.unwrap();
    assert!(again.pki_reused());
    eprintln!("start with a fresh PKI: {first:?}; with the reused PKI: {:?}", again.startup_time());
    assert!(first < std::time::Duration::from_secs(5), "start took {first:?}");
}

#[tokio::test]
async fn fixed_ports_in_use_give_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = MockConfig::new(shared_pki_dir());
    config.ports.http = taken.local_addr().unwrap().port();
    let err = MockOperator::start(config).await.err().expect("bind fails");
    assert!(err.to_string().contains("cannot listen for HTTP"), "{err}");
}
