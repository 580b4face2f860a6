//! Probe tests against real TLS servers on 127.0.0.1: rustls (TLS 1.2/1.3 only, the mock's
//! stack), `openssl s_server` restricted to TLS 1.0 (a legacy server), and scripted servers for
//! the STARTTLS preambles and for garbage.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::secret::SecretSet;
use crate::exec::smtp::SmtpTimeouts;
use crate::exec::smtp::testkit::{ScriptedServer, Step, TestPki, expect, send};

const WAIT: Duration = Duration::from_secs(5);

fn transcript() -> Transcript {
    Transcript::new(SecretSet::new()).for_conn("probe#1")
}

async fn connect(port: u16) -> TcpStream {
    crate::exec::net::connect("127.0.0.1", port, WAIT).await.expect("connect")
}

/// A rustls server accepting any number of handshakes (each may fail: the probe aborts them).
async fn rustls_server(config: Arc<ServerConfig>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = TlsAcceptor::from(config.clone());
            tokio::spawn(async move {
                let _ = tokio::time::timeout(WAIT, acceptor.accept(tcp)).await;
            });
        }
    });
    port
}

async fn probe_port(port: u16, offer: &Offer) -> ProbeOutcome {
    probe(connect(port).await, offer, WAIT, &transcript()).await.expect("probe")
}

#[tokio::test]
async fn rustls_refuses_tls10_and_tls11() {
    let port = rustls_server(TestPki::new("Test CA").server_config()).await;
    for version in [0x0301, 0x0302] {
        let outcome = probe_port(port, &Offer::legacy(version, "localhost")).await;
        assert!(
            matches!(outcome, ProbeOutcome::Alert { level: 2, .. } | ProbeOutcome::Closed),
            "0x{version:04X}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn rustls_accepts_a_tls12_suite_it_supports() {
    let port = rustls_server(TestPki::new("Test CA").server_config()).await;
    let t = transcript();
    let offer = Offer::tls12(&[0xC02B], "localhost");
    let outcome = probe(connect(port).await, &offer, WAIT, &t).await.unwrap();
    assert_eq!(outcome, ProbeOutcome::ServerHello { version: 0x0303, cipher_suite: 0xC02B });
    let lines: Vec<String> = t.lines().iter().map(|l| l.render()).collect();
    assert!(lines[0].contains("C: <TLS ClientHello: version TLS 1.2 (0x0303)"), "{lines:?}");
    assert!(
        lines[1]
            .contains("S: <TLS ServerHello: version TLS 1.2 (0x0303), suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    );
}

#[tokio::test]
async fn rustls_refuses_a_tls12_offer_of_only_unsupported_suites() {
    let port = rustls_server(TestPki::new("Test CA").server_config()).await;
    // RSA key exchange and 3DES: outside rustls's suites whatever the certificate.
    let outcome = probe_port(port, &Offer::tls12(&[0x009C, 0x000A], "localhost")).await;
    assert!(matches!(outcome, ProbeOutcome::Alert { level: 2, description: 40 }), "{outcome:?}");
}

/// `openssl s_server` limited to TLS 1.0, killed on drop (also when the test fails).
struct OpensslServer {
    child: Child,
    _stdin: ChildStdin,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OPENSSL: &str = "/usr/bin/openssl";

fn start_openssl_tls10(pki: &TestPki) -> Option<OpensslServer> {
    if !std::path::Path::new(OPENSSL).exists() {
        eprintln!("skipping: {OPENSSL} is not installed");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &pki.cert_pem).expect("write cert");
    std::fs::write(&key, &pki.key_pem).expect("write key");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut child = Command::new(OPENSSL)
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        // s_server quits when its stdin closes: keep it open for the server's lifetime.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn openssl");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let server = OpensslServer { child, _stdin: stdin, _dir: dir, port };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == "ACCEPT" {
                let _ = ready_tx.send(());
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).expect("openssl s_server did not start listening");
    Some(server)
}

#[tokio::test]
async fn openssl_tls10_server_accepts_a_tls10_offer() {
    let pki = TestPki::new("Test CA");
    let Some(server) = start_openssl_tls10(&pki) else { return };
    let outcome = probe_port(server.port, &Offer::legacy(0x0301, "localhost")).await;
    let ProbeOutcome::ServerHello { version, cipher_suite } = outcome else { panic!("{outcome:?}") };
    assert_eq!(version, 0x0301);
    assert!(LEGACY_SUITES.contains(&cipher_suite), "picked 0x{cipher_suite:04X}, not offered");
    // The same server refuses what it does not speak.
    let outcome = probe_port(server.port, &Offer::tls12(&[0xC02B, 0xC02F], "localhost")).await;
    assert!(matches!(outcome, ProbeOutcome::Alert { level: 2, .. } | ProbeOutcome::Closed), "{outcome:?}");
}

fn smtp_timeouts() -> SmtpTimeouts {
    SmtpTimeouts::new(WAIT, WAIT)
}

#[tokio::test]
async fn smtp_starttls_preamble_then_probe() {
    let pki = TestPki::new("Test CA");
    let steps = vec![
        send("220 mx.op.test ESMTP\r\n"),
        expect("EHLO probe.test"),
        send("250-mx.op.test\r\n250 STARTTLS\r\n"),
        expect("STARTTLS"),
        send("220 2.0.0 Ready\r\n"),
        Step::StartTlsRefusedByClient,
    ];
    let server = ScriptedServer::start(steps, Some(pki.server_config()), false).await;
    let t = transcript();
    let preamble = starttls_preamble_smtp(connect(server.port).await, "probe.test", smtp_timeouts(), &t).await.unwrap();
    let Preamble::Ready(tcp) = preamble else { panic!("{preamble:?}") };
    let outcome = probe(tcp, &Offer::tls12(&[0xC02F, 0xC02B], "localhost"), WAIT, &t).await.unwrap();
    assert_eq!(outcome, ProbeOutcome::ServerHello { version: 0x0303, cipher_suite: 0xC02B });
    server.finish().await;
}

#[tokio::test]
async fn smtp_preamble_reports_a_refused_starttls() {
    let steps = vec![
        send("220 mx.op.test ESMTP\r\n"),
        expect("EHLO probe.test"),
        send("250 mx.op.test\r\n"),
        expect("STARTTLS"),
        send("502 5.5.1 Command not implemented\r\n"),
    ];
    let server = ScriptedServer::start(steps, None, false).await;
    let preamble =
        starttls_preamble_smtp(connect(server.port).await, "probe.test", smtp_timeouts(), &transcript()).await.unwrap();
    match preamble {
        Preamble::Refused { step, reply } => {
            assert_eq!((step, reply.as_str()), ("STARTTLS", "502 5.5.1 Command not implemented"))
        }
        other => panic!("{other:?}"),
    }
    server.finish().await;
}

#[tokio::test]
async fn imap_starttls_preamble_then_legacy_probe() {
    let pki = TestPki::new("Test CA");
    let steps = vec![
        send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
        expect("a1 STARTTLS"),
        send("* BYE not really\r\na1 OK Begin TLS negotiation now\r\n"),
        Step::StartTlsRefusedByClient,
    ];
    let server = ScriptedServer::start(steps, Some(pki.server_config()), false).await;
    let t = transcript();
    let preamble = starttls_preamble_imap(connect(server.port).await, WAIT, &t).await.unwrap();
    let Preamble::Ready(tcp) = preamble else { panic!("{preamble:?}") };
    let outcome = probe(tcp, &Offer::legacy(0x0301, "localhost"), WAIT, &t).await.unwrap();
    assert!(matches!(outcome, ProbeOutcome::Alert { level: 2, .. } | ProbeOutcome::Closed), "{outcome:?}");
    let lines: Vec<String> = t.lines().iter().map(|l| l.text.clone()).collect();
    assert!(
        lines.contains(&"a1 STARTTLS".to_string()) && lines.contains(&"a1 OK Begin TLS negotiation now".to_string())
    );
    server.finish().await;
}

#[tokio::test]
async fn imap_preamble_reports_a_refusal() {
    let steps = vec![send("* OK ready\r\n"), expect("a1 STARTTLS"), send("a1 BAD unknown command\r\n")];
    let server = ScriptedServer::start(steps, None, false).await;
    let preamble = starttls_preamble_imap(connect(server.port).await, WAIT, &transcript()).await.unwrap();
    assert!(matches!(preamble, Preamble::Refused { step: "STARTTLS", ref reply } if reply == "a1 BAD unknown command"));
    server.finish().await;
}

#[tokio::test]
async fn plaintext_answer_is_malformed_with_what_was_seen() {
    let server = ScriptedServer::start(
        vec![send("220 mx.op.test ESMTP\r\n"), Step::Pause(Duration::from_millis(500))],
        None,
        false,
    )
    .await;
    let err = probe(connect(server.port).await, &Offer::tls12(&[0xC02F], "localhost"), WAIT, &transcript())
        .await
        .unwrap_err();
    match &err {
        ProbeError::Malformed { seen, reason, .. } => {
            assert!(seen.contains("220 mx.op.test ESMTP") && reason.contains("not a TLS record"), "{err}");
            assert!(reason.contains("a plaintext reply where a TLS record was expected"), "{err}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(err.fault(), Fault::Target);
    server.finish().await;
}

/// The refusals of a busy server where the ServerHello should be: named, not a corrupt record.
#[tokio::test]
async fn a_plaintext_refusal_is_unavailable() {
    for refusal in ["421 4.7.0 Too many concurrent SMTP connections", "* BYE Too many connections from your IP"] {
        let steps = vec![send(&format!("{refusal}\r\n")), Step::Pause(Duration::from_millis(300))];
        let server = ScriptedServer::start(steps, None, false).await;
        let err = probe(connect(server.port).await, &Offer::legacy(0x0301, "localhost"), WAIT, &transcript()).await.unwrap_err();
        assert!(matches!(&err, ProbeError::Unavailable { reply, .. } if reply == refusal), "{err}");
        assert!(err.to_string().contains("service temporarily unavailable"), "{err}");
        server.finish().await;
    }
    let steps = vec![send("* BYE busy\r\n")];
    let server = ScriptedServer::start(steps, None, false).await;
    let err = starttls_preamble_imap(connect(server.port).await, WAIT, &transcript()).await.unwrap_err();
    assert!(matches!(&err, ProbeError::Unavailable { during, .. } if during == "IMAP greeting"), "{err}");
    server.finish().await;
}

#[tokio::test]
async fn silent_server_times_out_within_the_bound() {
    let server = ScriptedServer::start(vec![Step::Pause(Duration::from_secs(2))], None, false).await;
    let started = Instant::now();
    let err = probe(connect(server.port).await, &Offer::legacy(0x0301, "x"), Duration::from_millis(300), &transcript())
        .await
        .unwrap_err();
    assert!(matches!(err, ProbeError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    server.finish().await;
}

#[tokio::test]
async fn server_hanging_up_is_closed() {
    let server = ScriptedServer::start(vec![Step::Close], None, false).await;
    let tcp = connect(server.port).await;
    server.finish().await;
    let outcome = probe(tcp, &Offer::legacy(0x0302, "localhost"), WAIT, &transcript()).await.unwrap();
    assert_eq!(outcome, ProbeOutcome::Closed);
}

#[tokio::test]
async fn invalid_offer_is_a_harness_error() {
    let server = ScriptedServer::start(vec![], None, false).await;
    let offer = Offer { version: 0x0304, cipher_suites: vec![0x1301], server_name: "x".into() };
    let err = probe(connect(server.port).await, &offer, WAIT, &transcript()).await.unwrap_err();
    assert_eq!(err.fault(), Fault::Harness);
    server.finish().await;
}
