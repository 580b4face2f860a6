//! Greeting, CAPABILITY, STARTTLS, implicit TLS, LOGIN, raw commands, and every way of not
//! being able to observe: timeouts, garbage, closes.

use std::time::{Duration, Instant};

use crate::secret::Secret;
use crate::exec::imap::testkit::*;
use crate::exec::imap::{Fault, ImapError, ImapSession, ImapTimeouts, Stage, StatusKind};
use crate::exec::net::TlsMode;

#[tokio::test]
async fn greeting_and_capability_are_parsed() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 STARTTLS LOGINDISABLED"),
            expect("a1 CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED ID\r\na1 OK done\r\n"),
        ],
        None,
        false,
    )
    .await;
    let t = transcript();
    let (mut s, greeting) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), TIMEOUTS, t.clone())
        .await
        .unwrap();
    assert_eq!(greeting.status.kind, StatusKind::Ok);
    assert_eq!(greeting.status.text, "scripted server ready");
    assert_eq!(
        greeting.capabilities.unwrap(),
        vec!["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]
    );
    let (caps, status) = s.capability().await.unwrap();
    assert!(status.is_ok());
    assert_eq!(caps.len(), 4);
    assert_eq!(s.capabilities().unwrap().len(), 4);
    assert!(s.tls_facts().is_none());
    server.finish().await.unwrap();
    let text = rendered(&t);
    assert!(
        text.contains("C: a1 CAPABILITY\n") && text.contains("S: a1 OK done\n"),
        "{text}"
    );
}

#[tokio::test]
async fn starttls_upgrades_without_waiting_for_a_second_greeting() {
    let pki = TestPki::new();
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 STARTTLS LOGINDISABLED"),
            expect("a1 STARTTLS"),
            send("a1 OK Begin TLS negotiation now\r\n"),
            Step::StartTls,
            // No greeting after the handshake: the client speaks first.
            expect("a2 CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 IDLE\r\na2 OK done\r\n"),
        ],
        Some(pki.server.clone()),
        false,
    )
    .await;
    let t = transcript();
    let (mut s, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &pki.client(), TIMEOUTS, t.clone())
        .await
        .unwrap();
    let (status, facts) = s.starttls(&pki.client()).await.unwrap();
    assert!(status.is_ok());
    let facts = facts.unwrap();
    assert_eq!(facts.verification.as_deref(), Some("ok"));
    assert!(facts.version.is_some());
    // Capabilities from before TLS are forgotten.
    assert!(s.capabilities().is_none());
    let (caps, _) = s.capability().await.unwrap();
    assert!(caps.iter().any(|c| c == "AUTH=XOAUTH2"));
    assert!(s.tls_facts().is_some());
    server.finish().await.unwrap();
    assert!(rendered(&t).contains("verification=ok"));
}

#[tokio::test]
async fn bytes_injected_after_starttls_ok_are_discarded() {
    let pki = TestPki::new();
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 STARTTLS"),
            expect("a1 STARTTLS"),
            // A response smuggled in clear after the OK (the STARTTLS injection pattern).
            send("a1 OK go\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"),
            Step::StartTls,
            expect("a2 NOOP"),
            send("a2 OK noop\r\n"),
        ],
        Some(pki.server.clone()),
        false,
    )
    .await;
    let (mut s, t) = connect_plain_tls_ready(&server, &pki).await;
    s.starttls(&pki.client()).await.unwrap();
    let r = s.noop().await.unwrap();
    assert!(r.untagged.is_empty(), "{:?}", r.untagged);
    assert!(s.capabilities().is_none());
    server.finish().await.unwrap();
    assert!(rendered(&t).contains("before TLS: discarded"));
}

async fn connect_plain_tls_ready(
    server: &ScriptServer,
    pki: &TestPki,
) -> (ImapSession, crate::exec::transcript::Transcript) {
    let t = transcript();
    let (s, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &pki.client(), TIMEOUTS, t.clone())
        .await
        .unwrap();
    (s, t)
}

#[tokio::test]
async fn starttls_refused_is_an_observation() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 STARTTLS"),
            send("a1 BAD STARTTLS not supported\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let (status, facts) = s.starttls(&no_tls()).await.unwrap();
    assert_eq!(status.kind, StatusKind::Bad);
    assert!(facts.is_none());
    server.finish().await.unwrap();
}

#[tokio::test]
async fn implicit_tls_reads_the_greeting_inside_tls() {
    let pki = TestPki::new();
    let server = ScriptServer::start(
        vec![greeting("IMAP4rev1 AUTH=XOAUTH2"), expect("a1 NOOP"), send("a1 OK\r\n")],
        Some(pki.server.clone()),
        true,
    )
    .await;
    let (mut s, greeting) = ImapSession::connect(
        &server.endpoint(TlsMode::Implicit),
        &pki.client(),
        TIMEOUTS,
        transcript(),
    )
    .await
    .unwrap();
    assert!(greeting.status.is_ok());
    assert_eq!(s.tls_facts().unwrap().verification.as_deref(), Some("ok"));
    assert!(s.noop().await.unwrap().status.is_ok());
    server.finish().await.unwrap();
}

#[tokio::test]
async fn untrusted_server_certificate_is_a_tls_error_with_facts() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let server = ScriptServer::start(vec![greeting("IMAP4rev1")], Some(pki.server.clone()), true).await;
    let err = ImapSession::connect(
        &server.endpoint(TlsMode::Implicit),
        &other.client(),
        TIMEOUTS,
        transcript(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.fault(), Fault::Server);
    let facts = err.tls_facts().unwrap();
    assert_eq!(facts.server_chain.len(), 2);
    assert_ne!(facts.verification.as_deref(), Some("ok"));
    let _ = server.finish().await;
}

#[tokio::test]
async fn login_is_recorded_without_the_password() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 LOGIN app@op.test \"pw with space-secret\""),
            send("a1 NO [PRIVACYREQUIRED] LOGIN refused before TLS\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let status = s
        .login("app@op.test", &Secret::new("pw with space-secret"))
        .await
        .unwrap();
    assert_eq!(status.kind, StatusKind::No);
    assert_eq!(status.code.as_deref(), Some("PRIVACYREQUIRED"));
    server.finish().await.unwrap();
    let text = rendered(&t);
    assert!(!text.contains("space-secret"), "{text}");
    assert!(text.contains("a1 LOGIN app@op.test <redacted password>"), "{text}");
}

#[tokio::test]
async fn raw_command_after_refusal_and_bye() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 SELECT INBOX"),
            send("a1 BAD [CLIENTBUG] not authenticated\r\n"),
            expect("a2 LOGOUT"),
            send("* BYE see you\r\n"),
            Step::Close,
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let r = s.command("SELECT INBOX").await.unwrap();
    assert_eq!(r.status.kind, StatusKind::Bad);
    assert_eq!(r.status.code.as_deref(), Some("CLIENTBUG"));
    // The server said BYE then closed without a tagged OK: that is still an answer.
    let r = s.logout().await.unwrap();
    assert_eq!(r.status.kind, StatusKind::Bye);
    assert_eq!(r.untagged, vec!["* BYE see you"]);
    server.finish().await.unwrap();
}

#[tokio::test]
async fn silent_server_times_out_within_bound() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 NOOP"),
            Step::Sleep(Duration::from_secs(3)),
        ],
        None,
        false,
    )
    .await;
    let timeouts = ImapTimeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_millis(300),
    };
    let (mut s, _) = connect_plain(&server, timeouts).await;
    let start = Instant::now();
    let err = s.noop().await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, ImapError::Timeout { .. }), "{err}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(1000),
        "{took:?}"
    );
    assert_eq!(err.fault(), Fault::Server);
    assert!(err.to_string().contains("NOOP"), "{err}");
}

#[tokio::test]
async fn silent_greeting_times_out() {
    let server = ScriptServer::start(vec![Step::Sleep(Duration::from_secs(2))], None, false).await;
    let timeouts = ImapTimeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_millis(200),
    };
    let err = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), timeouts, transcript())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImapError::Timeout { waiting_for, .. } if *waiting_for == Stage::Greeting),
        "{err}"
    );
}

#[tokio::test]
async fn garbage_greeting_is_malformed() {
    let server = ScriptServer::start(vec![send("HTTP/1.1 400 Bad Request\r\n\r\n")], None, false).await;
    let err = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), TIMEOUTS, transcript())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImapError::Malformed { excerpt, .. } if excerpt.contains("HTTP/1.1")),
        "{err}"
    );
}

#[tokio::test]
async fn garbage_and_unknown_tags_are_malformed_not_panics() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 NOOP"),
            Step::SendBytes(b"zz9 OK\r\n\xff\xfe\x00garbage\r\n".to_vec()),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let err = s.noop().await.unwrap_err();
    assert!(
        matches!(&err, ImapError::Malformed { reason, .. } if reason.contains("a1")),
        "{err}"
    );
}

#[tokio::test]
async fn tagged_line_without_status_is_malformed() {
    let server = ScriptServer::start(
        vec![greeting("IMAP4rev1"), expect("a1 NOOP"), send("a1 MAYBE\r\n")],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    assert!(matches!(s.noop().await.unwrap_err(), ImapError::Malformed { .. }));
}

#[tokio::test]
async fn close_mid_command_is_closed_and_stays_closed() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 NOOP"),
            send("* 3 EXISTS\r\n* 1 FETCH (BODY[] {50}\r\npartial"),
            Step::Close,
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let err = s.noop().await.unwrap_err();
    assert!(matches!(err, ImapError::Closed { .. }), "{err}");
    let err = s.noop().await.unwrap_err();
    assert!(matches!(err, ImapError::Closed { .. }), "{err}");
    assert!(s.is_closed_by_peer(Duration::from_millis(10)).await);
    let text = rendered(&t);
    assert!(
        text.contains("incomplete data before the close") && text.contains("connection closed"),
        "{text}"
    );
}

#[tokio::test]
async fn close_detection() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            Step::Sleep(Duration::from_millis(300)),
            send("* BYE too many errors\r\n"),
            Step::Close,
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    assert!(!s.is_closed_by_peer(Duration::from_millis(50)).await);
    assert!(s.is_closed_by_peer(Duration::from_secs(2)).await);
    assert!(rendered(&t).contains("S: * BYE too many errors"));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let endpoint = crate::exec::net::Endpoint {
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::Starttls,
    };
    let err = ImapSession::connect(&endpoint, &no_tls(), TIMEOUTS, transcript())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ImapError::Connect(_)), "{err}");
}

#[tokio::test]
async fn late_response_to_a_timed_out_command_is_skipped() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 NOOP"),
            Step::Sleep(Duration::from_millis(400)),
            send("a1 OK late\r\n"),
            expect("a2 NOOP"),
            send("a2 OK on time\r\n"),
        ],
        None,
        false,
    )
    .await;
    let timeouts = ImapTimeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_millis(200),
    };
    let (mut s, t) = connect_plain(&server, timeouts).await;
    assert!(s.noop().await.is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = s.noop().await.unwrap();
    assert_eq!(r.status.text, "on time");
    assert!(rendered(&t).contains("late response to earlier command a1"));
    server.finish().await.unwrap();
}

/// A `* BYE` greeting refuses the connection (RFC 9051 §7.1.5): "try later", not a session.
#[tokio::test]
async fn a_bye_greeting_is_unavailable() {
    let server = ScriptServer::start(vec![send("* BYE Too many connections, try later\r\n")], None, false).await;
    let err = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), TIMEOUTS, transcript()).await.err().expect("no session");
    assert!(matches!(&err, ImapError::Unavailable(why) if why == "* BYE Too many connections, try later"), "{err}");
    assert_eq!(err.busy().as_deref(), Some("* BYE Too many connections, try later"));
}

/// A raw command holding CR or LF is refused before any byte leaves: the next line the server
/// reads is the next real command, under the next tag.
#[tokio::test]
async fn a_raw_command_with_a_line_break_is_never_written() {
    let server = ScriptServer::start(
        vec![greeting("IMAP4rev1"), expect("a1 NOOP"), send("a1 OK done\r\n")],
        None,
        false,
    )
    .await;
    let (mut s, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), TIMEOUTS, transcript()).await.unwrap();
    for smuggled in ["NOOP\r\nx1 DELETE INBOX", "NOOP\nx1 LOGOUT", "NOOP\rx"] {
        let err = s.command(smuggled).await.unwrap_err();
        assert!(matches!(err, ImapError::Harness(ref m) if m.contains("line break")), "{smuggled:?}: {err}");
    }
    assert!(s.command("NOOP").await.unwrap().status.is_ok());
    server.finish().await.unwrap();
}

/// A server flooding untagged responses before the tagged one is stopped at the bound, with a
/// clear reason, instead of growing the response without end.
#[tokio::test]
async fn an_untagged_flood_is_stopped_at_the_bound() {
    let flood = "* OK flood\r\n".repeat(100_001);
    let server = ScriptServer::start(
        vec![greeting("IMAP4rev1"), expect("a1 NOOP"), send(&format!("{flood}a1 OK done\r\n"))],
        None,
        false,
    )
    .await;
    let (mut s, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), FLOOD_TIMEOUTS, transcript()).await.unwrap();
    let err = s.command("NOOP").await.unwrap_err();
    assert!(matches!(err, ImapError::Malformed { ref reason, .. } if reason.contains("more than 100000 untagged")), "{err}");
    drop(s);
    let _ = server.finish().await;
}
