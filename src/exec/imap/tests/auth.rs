//! AUTHENTICATE: SASL-IR and continuation forms, the RFC 7628 refusal, and the token never
//! reaching the transcript (even when a server echoes it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::secret::Secret;
use crate::exec::imap::{ImapError, ImapSession, StatusKind};
use crate::exec::net::TlsMode;
use crate::exec::imap::testkit::*;
use crate::exec::sasl::{self, Credentials};
use crate::scenario::model::Mechanism;

fn creds() -> Credentials {
    Credentials {
        user: "per@op.test".into(),
        secret: Some(Secret::new(TOKEN)),
    }
}

fn xoauth2_b64() -> String {
    sasl::client_response_b64(Mechanism::Xoauth2, &creds(), "127.0.0.1", 0)
}

const ERROR_JSON: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

#[tokio::test]
async fn xoauth2_with_sasl_ir() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 SASL-IR AUTH=XOAUTH2"),
            expect(&format!("a1 AUTHENTICATE XOAUTH2 {}", xoauth2_b64())),
            send("a1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] authenticated\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let x = s.authenticate(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert!(x.status.is_ok());
    assert!(x.challenges.is_empty());
    assert_eq!(s.capabilities().unwrap(), ["IMAP4rev1", "IDLE", "MOVE"]);
    let trace = server.finish().await.unwrap();
    // The token did go on the wire (so the redaction check below means something)…
    assert!(trace.lines[0].contains(&xoauth2_b64()));
    // …but not into the transcript.
    let text = rendered(&t);
    assert!(!t.secrets().leaks(&text) && !text.contains(&xoauth2_b64()), "{text}");
    assert!(
        text.contains("C: a1 AUTHENTICATE XOAUTH2 <XOAUTH2 response: user=per@op.test"),
        "{text}"
    );
}

#[tokio::test]
async fn xoauth2_without_sasl_ir_answers_the_empty_continuation() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 AUTH=XOAUTH2"),
            expect("a1 AUTHENTICATE XOAUTH2"),
            send("+ \r\n"),
            expect(&xoauth2_b64()),
            send("a1 OK authenticated\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let x = s.authenticate(Mechanism::Xoauth2, &creds(), false).await.unwrap();
    assert!(x.status.is_ok());
    // No CAPABILITY code on the OK: the capabilities must be asked again.
    assert!(s.capabilities().is_none());
    server.finish().await.unwrap();
    let text = rendered(&t);
    assert!(
        text.contains("C: a1 AUTHENTICATE XOAUTH2\n") && text.contains("S: + \n"),
        "{text}"
    );
    assert!(!t.secrets().leaks(&text), "{text}");
}

#[tokio::test]
async fn refusal_decodes_the_challenge_and_keeps_the_code() {
    let challenge = STANDARD.encode(ERROR_JSON);
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 SASL-IR AUTH=XOAUTH2"),
            expect("a1 AUTHENTICATE XOAUTH2 "),
            send(&format!("+ {challenge}\r\n")),
            // The client must answer the error challenge with an empty line.
            Step::Expect(String::new()),
            send("a1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let x = s.authenticate(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert_eq!(x.challenges, vec![ERROR_JSON.to_string()]);
    assert_eq!(x.status.kind, StatusKind::No);
    assert_eq!(x.status.code_name().as_deref(), Some("AUTHENTICATIONFAILED"));
    let trace = server.finish().await.unwrap();
    assert_eq!(trace.lines[1], "");
    let text = rendered(&t);
    assert!(text.contains(&format!("S: + {challenge}")), "{text}");
    assert!(text.contains(r#"challenge decoded: {"status":"401""#), "{text}");
}

#[tokio::test]
async fn oauthbearer_refusal_is_answered_with_ctrl_a() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 SASL-IR AUTH=OAUTHBEARER"),
            expect("a1 AUTHENTICATE OAUTHBEARER "),
            send(&format!("+ {}\r\n", STANDARD.encode(ERROR_JSON))),
            expect("AQ=="),
            send("a1 NO [AUTHENTICATIONFAILED] nope\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let x = s.authenticate(Mechanism::OAuthBearer, &creds(), true).await.unwrap();
    assert_eq!(x.status.kind, StatusKind::No);
    server.finish().await.unwrap();
}

#[tokio::test]
async fn token_echoed_by_the_server_is_scrubbed() {
    let echoed_b64 = xoauth2_b64();
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 SASL-IR AUTH=XOAUTH2"),
            expect("a1 AUTHENTICATE XOAUTH2 "),
            send(&format!(
                "+ {}\r\n",
                STANDARD.encode(format!(r#"{{"status":"401","token":"{TOKEN}"}}"#))
            )),
            Step::Expect(String::new()),
            send(&format!(
                "* BAD bogus {TOKEN} {echoed_b64}\r\na1 NO [AUTHENTICATIONFAILED] token {TOKEN}\r\n"
            )),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let x = s.authenticate(Mechanism::Xoauth2, &creds(), true).await.unwrap();
    assert_eq!(x.status.kind, StatusKind::No);
    server.finish().await.unwrap();
    let text = rendered(&t);
    assert!(!text.contains(TOKEN) && !t.secrets().leaks(&text), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
}

#[tokio::test]
async fn endless_challenges_are_cancelled() {
    let c = format!("+ {}\r\n", STANDARD.encode("again"));
    let mut steps = vec![
        greeting("IMAP4rev1 AUTH=PLAIN"),
        expect("a1 AUTHENTICATE PLAIN "),
        send(&c),
    ];
    for _ in 0..3 {
        steps.extend([Step::Expect(String::new()), send(&c)]);
    }
    steps.extend([expect("*"), send("a1 BAD cancelled\r\n")]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let app = Credentials {
        user: "app@op.test".into(),
        secret: None,
    };
    let x = s.authenticate(Mechanism::Plain, &app, true).await.unwrap();
    assert_eq!(x.challenges.len(), 4);
    assert_eq!(x.status.kind, StatusKind::Bad);
    server.finish().await.unwrap();
}

#[tokio::test]
async fn external_without_ir_sends_an_empty_line() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 AUTH=EXTERNAL"),
            expect("a1 AUTHENTICATE EXTERNAL"),
            send("+\r\n"),
            Step::Expect(String::new()),
            send("a1 OK welcome\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let app = Credentials {
        user: "app@op.test".into(),
        secret: None,
    };
    assert!(
        s.authenticate(Mechanism::External, &app, false)
            .await
            .unwrap()
            .status
            .is_ok()
    );
    let trace = server.finish().await.unwrap();
    assert_eq!(trace.lines, vec!["a1 AUTHENTICATE EXTERNAL", ""]);
}

/// No real credential over a plaintext connection: AUTHENTICATE before TLS is refused before a
/// byte is sent (the next command the server reads is a1 NOOP).
#[tokio::test]
async fn no_real_credential_is_sent_without_tls() {
    let server = ScriptServer::start(vec![greeting("IMAP4rev1 AUTH=XOAUTH2"), expect("a1 NOOP"), send("a1 OK done\r\n")], None, false).await;
    let t = transcript();
    let (mut s, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), TIMEOUTS, t.clone()).await.unwrap();
    let err = s.authenticate(Mechanism::Xoauth2, &creds(), true).await.unwrap_err();
    assert!(matches!(err, ImapError::Harness(ref m) if m.contains("TLS is not up")), "{err}");
    assert!(s.command("NOOP").await.unwrap().status.is_ok());
    server.finish().await.unwrap();
}
