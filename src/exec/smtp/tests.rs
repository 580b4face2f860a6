//! Session tests against scripted servers on 127.0.0.1 (real sockets, real TLS).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::testkit::{ScriptedServer, Step, TestPki, expect, send};
use super::*;
use crate::secret::{Secret, SecretSet};
use crate::exec::net::{Endpoint, TlsMode};
use crate::exec::sasl::Credentials;
use crate::scenario::model::Mechanism;
use crate::exec::transcript::{Direction, Transcript};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ";

fn endpoint(port: u16, tls: TlsMode) -> Endpoint {
    Endpoint { host: "127.0.0.1".into(), port, tls }
}

fn timeouts() -> SmtpTimeouts {
    SmtpTimeouts::new(Duration::from_secs(5), Duration::from_secs(5))
}

fn transcript() -> Transcript {
    Transcript::new(SecretSet::new()).for_conn("smtp#1")
}

fn creds() -> Credentials {
    Credentials { user: "dr.martin@op.test".into(), secret: Some(Secret::new(TOKEN)) }
}

fn xoauth2_b64() -> String {
    STANDARD.encode(format!("user=dr.martin@op.test\x01auth=Bearer {TOKEN}\x01\x01"))
}

async fn plain_session(steps: Vec<Step>) -> (SmtpSession, Reply, ScriptedServer) {
    plain_session_with(steps, timeouts()).await
}

async fn plain_session_with(steps: Vec<Step>, timeouts: SmtpTimeouts) -> (SmtpSession, Reply, ScriptedServer) {
    let server = ScriptedServer::start(steps, None, false).await;
    let unused = TestPki::new("unused");
    let ep = endpoint(server.port, TlsMode::Starttls);
    let (mut session, greeting) =
        SmtpSession::connect(&ep, &unused.tls_settings(), timeouts, transcript()).await.expect("connect");
    session.allow_plaintext_auth_for_tests();
    (session, greeting, server)
}

fn greeting() -> Step {
    send("220 mx.op.test ESMTP ready\r\n")
}

fn texts(t: &Transcript) -> Vec<String> {
    t.lines().iter().map(|l| format!("{} {}", l.dir.prefix(), l.text)).collect()
}

#[tokio::test]
async fn ehlo_multi_line_capabilities() {
    let (mut s, greet, server) = plain_session(vec![
        greeting(),
        expect("EHLO harness.test"),
        send("250-mx.op.test Hello\r\n250-SIZE 10485760\r\n250-DSN\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"),
    ])
    .await;
    assert_eq!(greet.code, 220);
    let (reply, caps) = s.ehlo("harness.test").await.unwrap();
    assert_eq!(reply.lines.len(), 5);
    assert_eq!(caps.domain, "mx.op.test");
    assert!(caps.starttls() && caps.dsn() && !caps.has("AUTH"));
    assert_eq!(caps.size(), Some(10485760));
    assert_eq!(s.capabilities(), Some(&caps));
    let lines = texts(s.transcript());
    assert!(lines.contains(&"C: EHLO harness.test".to_string()), "{lines:?}");
    assert!(lines.contains(&"S: 250-DSN".to_string()), "{lines:?}");
    server.finish().await;
}

fn starttls_script() -> Vec<Step> {
    vec![
        greeting(),
        expect("EHLO h"),
        send("250-mx.op.test\r\n250 STARTTLS\r\n"),
        expect("STARTTLS"),
        send("220 2.0.0 Ready to start TLS\r\n"),
        Step::StartTls,
        expect("EHLO h"),
        send("250-mx.op.test\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n"),
        expect("QUIT"),
        send("221 2.0.0 Bye\r\n"),
        Step::Close,
    ]
}

#[tokio::test]
async fn starttls_upgrades_and_records_tls_facts() {
    let pki = TestPki::new("Test CA");
    let server = ScriptedServer::start(starttls_script(), Some(pki.server_config()), false).await;
    let ep = endpoint(server.port, TlsMode::Starttls);
    let (mut s, _) = SmtpSession::connect(&ep, &pki.tls_settings(), timeouts(), transcript()).await.unwrap();
    s.ehlo("h").await.unwrap();
    let (reply, facts) = s.starttls(&pki.tls_settings()).await.unwrap();
    assert_eq!(reply.code, 220);
    let facts = facts.expect("handshake ran");
    assert_eq!(facts.version.as_deref(), Some("TLSv1_3"));
    assert_eq!(facts.verification.as_deref(), Some("ok"));
    assert!(facts.server_chain[0].san.contains(&"DNS:localhost".to_string()));
    assert!(s.is_tls() && s.capabilities().is_none(), "capabilities are forgotten after STARTTLS");
    assert_eq!(s.tls_facts(), Some(&facts));
    let (_, caps) = s.ehlo("h").await.unwrap();
    assert!(caps.supports_auth("XOAUTH2"));
    assert_eq!(s.quit().await.unwrap().code, 221);
    assert!(texts(s.transcript()).iter().any(|l| l.starts_with("*  TLS TLSv1_3")));
    // A second STARTTLS is the harness's mistake, not an observation.
    let err = s.starttls(&pki.tls_settings()).await.unwrap_err();
    assert_eq!(err.fault(), Fault::Harness);
    server.finish().await;
}

#[tokio::test]
async fn implicit_tls_reads_the_greeting_over_tls() {
    let pki = TestPki::new("Test CA");
    let server = ScriptedServer::start(vec![greeting()], Some(pki.server_config()), true).await;
    let ep = endpoint(server.port, TlsMode::Implicit);
    let (s, greet) = SmtpSession::connect(&ep, &pki.tls_settings(), timeouts(), transcript()).await.unwrap();
    assert_eq!(greet.code, 220);
    assert!(s.is_tls());
    assert_eq!(s.tls_facts().and_then(|f| f.verification.as_deref()), Some("ok"));
    server.finish().await;
}

#[tokio::test]
async fn refused_starttls_is_an_observation() {
    let (mut s, _, server) =
        plain_session(vec![greeting(), expect("STARTTLS"), send("554 5.7.0 TLS not available\r\n")]).await;
    let (reply, facts) = s.starttls(&TestPki::new("x").tls_settings()).await.unwrap();
    assert_eq!((reply.code, reply.enhanced.as_deref()), (554, Some("5.7.0")));
    assert!(facts.is_none() && !s.is_tls());
    server.finish().await;
}

/// A 4xx where the session opens is "try later" (RFC 3207's 454 included): no observation.
#[tokio::test]
async fn a_temporary_refusal_at_the_opening_is_unavailable() {
    let (mut s, _, server) =
        plain_session(vec![greeting(), expect("STARTTLS"), send("454 4.7.0 TLS not available due to temporary reason\r\n")]).await;
    let err = s.starttls(&TestPki::new("x").tls_settings()).await.unwrap_err();
    assert!(matches!(&err, SmtpError::Unavailable { during, reply } if *during == Stage::from("STARTTLS") && reply.starts_with("454 4.7.0")), "{err}");
    assert!(err.busy().is_some_and(|why| why.contains("454")));
    server.finish().await;
    let (mut s, _, server) = plain_session(vec![greeting(), expect("EHLO mssconf.test"), send("421 4.3.2 shutting down\r\n")]).await;
    let err = s.ehlo("mssconf.test").await.unwrap_err();
    assert!(err.to_string().contains("service temporarily unavailable (421 4.3.2 shutting down) at the EHLO"), "{err}");
    server.finish().await;
    let server = ScriptedServer::start(vec![send("421 4.7.0 Too many connections\r\n")], None, false).await;
    let err = SmtpSession::connect(&endpoint(server.port, TlsMode::Starttls), &TestPki::new("x").tls_settings(), timeouts(), transcript())
        .await
        .err()
        .expect("a 421 greeting opens no session");
    assert!(matches!(&err, SmtpError::Unavailable { during, .. } if *during == Stage::Greeting), "{err}");
    server.finish().await;
}

/// A server that closes before its greeting is "try later" (the opening retries it); one that
/// closes after greeting, at EHLO, is not: the stage the session was in decides, typed.
#[tokio::test]
async fn a_close_before_the_greeting_is_busy_and_after_it_is_not() {
    let server = ScriptedServer::start(vec![Step::Close], None, false).await;
    let err = SmtpSession::connect(&endpoint(server.port, TlsMode::Starttls), &TestPki::new("x").tls_settings(), timeouts(), transcript())
        .await
        .err()
        .expect("no greeting, no session");
    assert!(matches!(&err, SmtpError::Closed { during: Stage::Greeting, .. }), "{err}");
    assert_eq!(err.to_string(), "the server closed the connection while the harness waited for the greeting");
    assert_eq!(err.busy().as_deref(), Some("connection closed before the greeting: greeting"));
    server.finish().await;
    let (mut s, _, server) = plain_session(vec![greeting(), expect("EHLO h"), Step::Close]).await;
    let err = s.ehlo("h").await.unwrap_err();
    assert!(matches!(&err, SmtpError::Closed { during: Stage::Named(_), .. }), "{err}");
    assert_eq!(err.busy(), None);
    server.finish().await;
}

/// Exim beyond `smtp_accept_max` on port 465: a plaintext 421 where the ServerHello should be.
#[tokio::test]
async fn a_plaintext_421_on_an_implicit_tls_port_is_unavailable_not_a_corrupt_record() {
    let server = ScriptedServer::start(vec![send("421 4.7.0 Too many concurrent SMTP connections\r\n")], None, false).await;
    let pki = TestPki::new("Test CA");
    let err = SmtpSession::connect(&endpoint(server.port, TlsMode::Implicit), &pki.tls_settings(), timeouts(), transcript())
        .await
        .err()
        .expect("no TLS session");
    assert!(
        matches!(&err, SmtpError::Unavailable { during, reply } if *during == Stage::from("implicit TLS handshake") && reply == "421 4.7.0 Too many concurrent SMTP connections"),
        "{err}"
    );
    server.finish().await;
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error_with_facts() {
    let server_pki = TestPki::new("Rogue CA");
    let client_pki = TestPki::new("Expected CA");
    let steps = vec![greeting(), expect("STARTTLS"), send("220 go ahead\r\n"), Step::StartTlsRefusedByClient];
    let server = ScriptedServer::start(steps, Some(server_pki.server_config()), false).await;
    let ep = endpoint(server.port, TlsMode::Starttls);
    let (mut s, _) = SmtpSession::connect(&ep, &client_pki.tls_settings(), timeouts(), transcript()).await.unwrap();
    let err = s.starttls(&client_pki.tls_settings()).await.unwrap_err();
    let facts = err.tls_facts().expect("facts kept");
    assert!(facts.server_chain[0].issuer.contains("Rogue CA"), "{facts:?}");
    assert_ne!(facts.verification.as_deref(), Some("ok"));
    assert_eq!(err.fault(), Fault::Target);
    assert!(texts(s.transcript()).iter().any(|l| l.contains("TLS handshake failed")));
    // The connection is gone: further use is reported, not attempted.
    assert_eq!(s.command("NOOP").await.unwrap_err().fault(), Fault::Harness);
    server.finish().await;
}

#[tokio::test]
async fn xoauth2_with_initial_response() {
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        Step::Expect(format!("AUTH XOAUTH2 {}", xoauth2_b64())),
        send("235 2.7.0 Authentication successful\r\n"),
    ])
    .await;
    let ex = s.auth(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert!(ex.initial_response && !ex.closed_by_peer);
    assert_eq!(ex.steps.len(), 1);
    assert_eq!(ex.final_reply().map(|r| r.code), Some(235));
    let lines = texts(s.transcript());
    assert!(
        lines.iter().any(|l| l.starts_with("C: AUTH XOAUTH2 <XOAUTH2 response: user=dr.martin@op.test")),
        "{lines:?}"
    );
    server.finish().await;
}

#[tokio::test]
async fn xoauth2_without_initial_response() {
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        expect("AUTH XOAUTH2"),
        send("334 \r\n"),
        Step::Expect(xoauth2_b64()),
        send("235 2.7.0 Authentication successful\r\n"),
    ])
    .await;
    let ex = s.auth(Mechanism::Xoauth2, &creds(), false).await.unwrap();
    assert_eq!(ex.steps.len(), 2);
    assert_eq!(ex.steps[0].decoded_challenge.as_deref(), Some(""));
    assert_eq!(ex.final_reply().map(|r| r.code), Some(235));
    let lines = texts(s.transcript());
    assert!(lines.contains(&"C: AUTH XOAUTH2".to_string()));
    assert!(lines.iter().any(|l| l.starts_with("C: <XOAUTH2 response:")), "{lines:?}");
    server.finish().await;
}

#[tokio::test]
async fn xoauth2_refusal_dance_is_recorded_in_order() {
    let error_json = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        Step::Expect(format!("AUTH XOAUTH2 {}", xoauth2_b64())),
        Step::Send(format!("334 {}\r\n", STANDARD.encode(error_json))),
        expect(""),
        send("535 5.7.8 Authentication credentials invalid\r\n"),
        Step::Close,
    ])
    .await;
    let ex = s.auth(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert_eq!(ex.steps.len(), 2);
    assert_eq!(ex.steps[0].reply.code, 334);
    assert_eq!(ex.steps[0].decoded_challenge.as_deref(), Some(error_json));
    let last = ex.final_reply().expect("final reply");
    assert_eq!((last.code, last.enhanced.as_deref()), (535, Some("5.7.8")));
    assert!(ex.closed_by_peer, "the server hung up after 535");
    let lines = texts(s.transcript());
    assert!(lines.iter().any(|l| l.contains(r#"SASL challenge decoded: {"status":"401""#)), "{lines:?}");
    assert!(lines.contains(&"C: ".to_string()), "the empty acknowledgement is recorded: {lines:?}");
    server.finish().await;
}

#[tokio::test]
async fn secret_never_reaches_the_transcript_even_when_echoed() {
    let secrets = SecretSet::new();
    secrets.register(&Secret::new(TOKEN));
    let t = Transcript::new(secrets).for_conn("smtp#1");
    let steps = vec![
        greeting(),
        expect("AUTH XOAUTH2"),
        send("334 \r\n"),
        Step::ExpectAny,
        Step::Send(format!("535-5.7.8 token {TOKEN} refused\r\n535 5.7.8 you sent {}\r\n", xoauth2_b64())),
    ];
    let server = ScriptedServer::start(steps, None, false).await;
    let ep = endpoint(server.port, TlsMode::Starttls);
    let (mut s, _) = SmtpSession::connect(&ep, &TestPki::new("x").tls_settings(), timeouts(), t.clone()).await.unwrap();
    s.allow_plaintext_auth_for_tests();
    let ex = s.auth(Mechanism::Xoauth2, &creds(), false).await.unwrap();
    assert_eq!(ex.final_reply().map(|r| r.code), Some(535));
    let all = t.lines();
    assert!(all.iter().any(|l| l.dir == Direction::Received && l.text.contains("<redacted>")));
    for line in &all {
        assert!(!line.text.contains(TOKEN) && !line.text.contains(&xoauth2_b64()), "leak: {}", line.text);
        assert!(!line.text.contains("c2lnbmF0dXJlLWNhbmFyeQ"), "leak: {}", line.text);
    }
    // The server did get the real response.
    assert_eq!(server.finish().await.received[1], xoauth2_b64());
}

#[tokio::test]
async fn reply_timeout_is_bounded() {
    let steps = vec![greeting(), expect("EHLO h"), send("250-mx.op.test\r\n"), Step::Pause(Duration::from_secs(2))];
    let quick = SmtpTimeouts::new(Duration::from_secs(5), Duration::from_millis(300));
    let (mut s, _, server) = plain_session_with(steps, quick).await;
    let started = Instant::now();
    let err = s.ehlo("h").await.unwrap_err();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(1500), "took {took:?}");
    assert!(matches!(err, SmtpError::Timeout { .. }), "{err}");
    assert!(texts(s.transcript()).contains(&"S: 250-mx.op.test".to_string()));
    server.finish().await;
}

#[tokio::test]
async fn malformed_reply_is_reported() {
    let (mut s, _, server) = plain_session(vec![greeting(), expect("EHLO h"), send("hello there\r\n")]).await;
    let err = s.ehlo("h").await.unwrap_err();
    match err {
        SmtpError::Malformed { line, .. } => assert_eq!(line, "hello there"),
        other => panic!("{other}"),
    }
    server.finish().await;
}

#[tokio::test]
async fn close_in_the_middle_of_a_reply() {
    let (mut s, _, server) =
        plain_session(vec![greeting(), expect("EHLO h"), send("250-mx.op.test\r\n250-SIZ"), Step::Close]).await;
    let err = s.ehlo("h").await.unwrap_err();
    match &err {
        SmtpError::Closed { partial, .. } => assert_eq!(partial.as_deref(), Some("250-SIZ")),
        other => panic!("{other}"),
    }
    assert_eq!(err.fault(), Fault::Target);
    server.finish().await;
}

#[tokio::test]
async fn envelope_and_data_with_dot_stuffing() {
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        expect("MAIL FROM:<dr.martin@op.test> RET=HDRS ENVID=e1"),
        send("250 2.1.0 Ok\r\n"),
        expect("RCPT TO:<patient@op.test> NOTIFY=SUCCESS,FAILURE"),
        send("250 2.1.5 Ok\r\n"),
        expect("DATA"),
        send("354 End data with <CR><LF>.<CR><LF>\r\n"),
        Step::ReadBody,
        send("250 2.0.0 Ok: queued as ABC\r\n"),
    ])
    .await;
    let params = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(s.mail_from("dr.martin@op.test", &params(&["RET=HDRS", "ENVID=e1"])).await.unwrap().code, 250);
    assert_eq!(s.rcpt_to("patient@op.test", &params(&["NOTIFY=SUCCESS,FAILURE"])).await.unwrap().code, 250);
    let mut message = b"Subject: Compte rendu\r\nMessage-ID: <m1@op.test>\r\n\r\n.leading dot\r\n".to_vec();
    let filler = "x".repeat(70) + "\r\n";
    while message.len() < 200_000 {
        message.extend_from_slice(filler.as_bytes());
    }
    message.extend_from_slice(b".\r\nlast line without end");
    let ex = s.data(&message).await.unwrap();
    assert_eq!(ex.intermediate.code, 354);
    assert_eq!(ex.final_reply.as_ref().map(|r| r.code), Some(250));
    let script = server.finish().await;
    let mut expected = String::from_utf8(message.clone()).unwrap().replace("\r\n.", "\r\n..").into_bytes();
    expected.extend_from_slice(b"\r\n.\r\n");
    assert_eq!(script.body.len(), expected.len());
    assert!(script.body == expected, "body differs on the wire");
    let lines = texts(s.transcript());
    let summary = lines.iter().find(|l| l.starts_with("C: <message:")).expect("summary");
    assert!(summary.contains(&format!("{} bytes", message.len())) && summary.contains("Subject: \"Compte rendu\""));
    assert!(!lines.iter().any(|l| l.contains("xxxxxxxx") || l.contains("leading dot")), "body leaked into transcript");
    assert!(lines.contains(&"*  2 line(s) dot-stuffed".to_string()), "{lines:?}");
}

#[tokio::test]
async fn refused_data_sends_no_body() {
    let (mut s, _, server) =
        plain_session(vec![greeting(), expect("DATA"), send("554 5.5.1 No valid recipients\r\n"), expect("QUIT")])
            .await;
    let ex = s.data(b"Subject: x\r\n\r\nbody\r\n").await.unwrap();
    assert_eq!(ex.intermediate.code, 554);
    assert!(ex.final_reply.is_none());
    // The next line the server reads is QUIT, not the body.
    s.send_raw(b"QUIT\r\n").await.unwrap();
    server.finish().await;
}

#[tokio::test]
async fn line_breaks_in_addresses_are_harness_errors() {
    let (mut s, _, server) = plain_session(vec![greeting()]).await;
    let err = s.rcpt_to("a@op.test>\r\nDATA", &[]).await.unwrap_err();
    assert_eq!(err.fault(), Fault::Harness);
    server.finish().await;
}

#[tokio::test]
async fn peer_close_is_detected_within_the_wait() {
    let (mut s, _, server) =
        plain_session(vec![greeting(), expect("NOOP"), send("421 4.7.0 closing\r\n"), Step::Close]).await;
    assert_eq!(s.command("NOOP").await.unwrap().code, 421);
    assert!(s.is_closed_by_peer(Duration::from_secs(2)).await);
    server.finish().await;

    let (mut s, _, server) = plain_session(vec![greeting(), Step::Pause(Duration::from_millis(800))]).await;
    let started = Instant::now();
    assert!(!s.is_closed_by_peer(Duration::from_millis(200)).await);
    assert!(started.elapsed() < Duration::from_millis(700));
    server.finish().await;
}

#[tokio::test]
async fn raw_commands_and_pipelined_replies() {
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        expect("RSET"),
        expect("NOOP"),
        send("250 2.0.0 reset\r\n250 2.0.0 ok\r\n"),
        expect("BDAT 0 LAST"),
        send("502 5.5.1 unrecognized\r\n"),
    ])
    .await;
    s.send_raw(b"RSET\r\nNOOP\r\n").await.unwrap();
    assert_eq!(s.read_reply().await.unwrap().first_line(), "2.0.0 reset");
    assert_eq!(s.read_reply().await.unwrap().first_line(), "2.0.0 ok");
    assert_eq!(s.command("BDAT 0 LAST").await.unwrap().code, 502);
    server.finish().await;
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let pki = TestPki::new("x");
    let err = SmtpSession::connect(&endpoint(port, TlsMode::Starttls), &pki.tls_settings(), timeouts(), transcript())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, SmtpError::Connect(_)), "{err}");
}

#[tokio::test]
async fn reply_before_the_end_of_a_large_body_is_observed() {
    let (mut s, _, server) = plain_session(vec![
        greeting(),
        expect("DATA"),
        send("354 go ahead\r\n"),
        Step::ReadBytes(100_000),
        send("552 5.3.4 Message size exceeds fixed limit\r\n"),
        Step::Close,
    ])
    .await;
    let message = vec![b'x'; 8 * 1024 * 1024];
    let ex = s.data(&message).await.unwrap();
    let last = ex.final_reply.expect("the early reply");
    assert_eq!((last.code, last.enhanced.as_deref()), (552, Some("5.3.4")));
    let lines = texts(s.transcript());
    assert!(lines.iter().any(|l| l.contains("closed before the end of the body")), "{lines:?}");
    server.finish().await;
}

#[tokio::test]
async fn endless_challenges_are_cancelled() {
    let mut steps = vec![greeting(), Step::Expect(format!("AUTH XOAUTH2 {}", xoauth2_b64()))];
    for _ in 0..3 {
        steps.extend([send("334 e30=\r\n"), expect("")]);
    }
    steps.extend([send("334 e30=\r\n"), expect("*"), send("501 5.7.0 Authentication cancelled\r\n")]);
    let (mut s, _, server) = plain_session(steps).await;
    let ex = s.auth(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert_eq!(ex.challenges().count(), 4);
    assert_eq!(ex.steps[0].decoded_challenge.as_deref(), Some("{}"));
    assert_eq!(ex.final_reply().map(|r| r.code), Some(501));
    server.finish().await;
}

#[tokio::test]
async fn oauthbearer_and_external_lines() {
    let (mut s, _, server) = plain_session(vec![greeting(), Step::ExpectAny, send("235 ok\r\n")]).await;
    let ex = s.auth(Mechanism::OAuthBearer, &creds(), true).await.unwrap();
    assert_eq!(ex.final_reply().map(|r| r.code), Some(235));
    let port = server.port;
    let script = server.finish().await;
    let b64 = script.received[0].strip_prefix("AUTH OAUTHBEARER ").expect("AUTH line");
    let raw = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
    assert!(raw.starts_with(&format!("n,a=dr.martin@op.test,\x01host=127.0.0.1\x01port={port}\x01auth=Bearer ")));

    let (mut s, _, server) = plain_session(vec![greeting(), expect("AUTH EXTERNAL ="), send("235 ok\r\n")]).await;
    let app = Credentials { user: "app@op.test".into(), secret: None };
    assert_eq!(s.auth(Mechanism::External, &app, true).await.unwrap().final_reply().map(|r| r.code), Some(235));
    assert!(texts(s.transcript()).iter().any(|l| l.starts_with("C: AUTH EXTERNAL <EXTERNAL response")));
    server.finish().await;
}

/// Every command line written goes through one check: a raw command (or a `${…}` value in
/// one) holding CR or LF is refused before any byte leaves, so the next line the server reads
/// is the next real command.
#[tokio::test]
async fn a_raw_command_with_a_line_break_is_never_written() {
    let (mut s, _, server) = plain_session(vec![greeting(), expect("NOOP"), send("250 2.0.0 ok\r\n")]).await;
    for smuggled in ["RSET\r\nRCPT TO:<anyone@elsewhere.example>", "RSET\nDATA", "NOOP\rMAIL FROM:<x@y>"] {
        let err = s.command(smuggled).await.unwrap_err();
        assert_eq!(err.fault(), Fault::Harness, "{smuggled:?}");
        assert!(err.to_string().contains("line break") && !err.to_string().contains("elsewhere"), "{err}");
    }
    assert_eq!(s.command("NOOP").await.unwrap().code, 250);
    server.finish().await;
}

/// No real credential over a plaintext connection: before TLS (or after a STARTTLS answered
/// with a non-220 refusal; a 454 is "try later", see busy), AUTH with a token, a password or none (certificate form) is refused before
/// a byte is sent; the made-up token of a negative test goes, and the transcript says so.
#[tokio::test]
async fn no_real_credential_is_sent_without_tls() {
    let t = transcript();
    let steps = vec![greeting(), expect("STARTTLS"), send("554 5.7.0 TLS not available\r\n"), Step::ExpectAny, send("535 5.7.8 no\r\n")];
    let server = ScriptedServer::start(steps, None, false).await;
    let ep = endpoint(server.port, TlsMode::Starttls);
    let (mut s, _) = SmtpSession::connect(&ep, &TestPki::new("x").tls_settings(), timeouts(), t.clone()).await.unwrap();
    let (reply, facts) = s.starttls(&TestPki::new("x").tls_settings()).await.unwrap();
    assert_eq!((reply.code, facts.is_none()), (554, true));
    let password = Credentials { user: "app@op.test".into(), secret: Some(Secret::new("real-password")) };
    let certificate_form = Credentials { user: "app@op.test".into(), secret: None };
    for (mech, c) in [(Mechanism::Xoauth2, creds()), (Mechanism::Plain, password), (Mechanism::External, certificate_form)] {
        let err = s.auth(mech, &c, true).await.unwrap_err();
        assert_eq!(err.fault(), Fault::Harness, "{mech:?}");
        assert!(err.to_string().contains("TLS is not up"), "{err}");
    }
    let made_up = Credentials {
        user: "dr.martin@op.test".into(),
        secret: Some(Secret::new(format!("{}run-1", crate::exec::sasl::MADE_UP_TOKEN_PREFIX))),
    };
    let ex = s.auth(Mechanism::Xoauth2, &made_up, true).await.unwrap();
    assert_eq!(ex.final_reply().map(|r| r.code), Some(535));
    assert!(t.lines().iter().any(|l| l.text.contains("in clear (no TLS): the made-up token of a negative test")));
    server.finish().await;
}

/// Waiting for a close is bounded too (issue #17 item 7): a server that streams 2 MiB and only
/// then closes is talking, not closing; the wait stops buffering past 1 MiB and says so (without
/// the bound, every byte would be kept and the late close seen).
#[tokio::test]
async fn waiting_for_a_close_keeps_a_bounded_buffer() {
    let flood = "x".repeat(2 << 20);
    let (mut s, _, server) = plain_session(vec![greeting(), send(&flood), Step::Close]).await;
    assert!(!s.is_closed_by_peer(Duration::from_secs(10)).await, "stopped at the bound, before the close");
    drop(s);
    server.finish().await;
}
