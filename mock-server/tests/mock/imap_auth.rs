//! IMAP transport and authentication of the mock operator, over real sockets and real TLS.

use crate::imap_common;

use imap_common::*;

const CHALLENGE: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

#[tokio::test]
async fn capabilities_before_and_after_starttls() {
    let mock = start(&[]).await;
    let (mut client, greeting) = mock.connect_plain().await;
    assert!(greeting.starts_with("* OK [CAPABILITY IMAP4REV1 STARTTLS LOGINDISABLED"), "{greeting}");
    assert!(!greeting.contains("AUTH="), "{greeting}");
    let caps = client.cmd("CAPABILITY").await;
    assert!(caps[0].contains("STARTTLS") && caps[0].contains("LOGINDISABLED") && !caps[0].contains("AUTH="), "{caps:?}");
    client.starttls(None).await;
    let caps = client.cmd("CAPABILITY").await;
    let line = &caps[0];
    for cap in ["IMAP4REV1", "SASL-IR", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=PLAIN", "AUTH=EXTERNAL", "IDLE", "MOVE", "UIDPLUS", "ENABLE"] {
        assert!(line.contains(cap), "{cap} missing after STARTTLS: {line}");
    }
    assert!(!line.contains("STARTTLS") && !line.contains("LOGINDISABLED"), "{line}");
    assert!(caps[1].starts_with("t3 OK"), "{caps:?}");
}

#[tokio::test]
async fn commands_pipelined_after_starttls_are_discarded() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_plain().await;
    // A man in the middle appending a clear-text command after STARTTLS (CVE-2011-0411 style).
    client.send(b"a STARTTLS\r\nb CAPABILITY\r\n").await;
    assert!(client.line().await.starts_with("a OK"));
    client.upgrade(None).await;
    let reply = client.cmd("NOOP").await;
    assert_eq!(reply.len(), 1, "nothing but the NOOP answer: {reply:?}");
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
}

#[tokio::test]
async fn implicit_tls_greets_with_the_mechanisms() {
    let mock = start(&[]).await;
    let (mut client, greeting) = mock.connect_tls(None).await;
    assert!(greeting.starts_with("* OK [CAPABILITY IMAP4REV1 SASL-IR AUTH=XOAUTH2"), "{greeting}");
    let reply = client.cmd("STARTTLS").await;
    assert!(reply[0].starts_with("t1 BAD"), "{reply:?}");
}

#[tokio::test]
async fn credentials_are_refused_before_tls() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_plain().await;
    let reply = client.cmd("LOGIN dr.martin.fictif@op.test secret").await;
    assert!(reply[0].starts_with("t1 NO [PRIVACYREQUIRED]"), "{reply:?}");
    let token = mock.token(&per1(), 300);
    let reply = client.cmd(&format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&per1(), &token))).await;
    assert!(reply[0].starts_with("t2 NO [PRIVACYREQUIRED]"), "{reply:?}");
    let reply = client.cmd("SELECT INBOX").await;
    assert!(reply[0].starts_with("t3 BAD"), "{reply:?}");
}

#[tokio::test]
async fn xoauth2_with_initial_response() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_plain().await;
    client.starttls(None).await;
    let token = mock.token(&per1(), 300);
    let reply = client.cmd(&format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&per1(), &token))).await;
    assert!(reply[0].starts_with("t2 OK [CAPABILITY IMAP4REV1"), "{reply:?}");
    assert!(!reply[0].contains("AUTH="), "{reply:?}");
    let reply = client.cmd("SELECT INBOX").await;
    assert!(reply.last().unwrap().starts_with("t3 OK [READ-WRITE]"), "{reply:?}");
}

#[tokio::test]
async fn xoauth2_without_initial_response() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    client.send(b"a1 AUTHENTICATE XOAUTH2\r\n").await;
    assert_eq!(client.line().await, "+ ");
    let token = mock.token(&per2(), 300);
    client.send(format!("{}\r\n", xoauth2(&per2(), &token)).as_bytes()).await;
    let done = client.line().await;
    assert!(done.starts_with("a1 OK"), "{done}");
}

#[tokio::test]
async fn oauthbearer_with_and_without_authzid() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    let token = mock.token(&per1(), 300);
    let reply = client.cmd(&format!("AUTHENTICATE OAUTHBEARER {}", oauthbearer(&per1(), &token))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
    // Without `a=`, the token designates the mailbox.
    let (mut client, _) = mock.connect_tls(None).await;
    let payload = b64(format!("n,,\x01auth=Bearer {token}\x01\x01").as_bytes());
    let reply = client.cmd(&format!("AUTHENTICATE OAUTHBEARER {payload}")).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
}

/// A refused token: `+ ` and the JSON error, the client's dummy answer, then the NO; the
/// session stays unauthenticated.
async fn assert_bearer_refused(mock: &Mock, payload: &str) {
    let (mut client, _) = mock.connect_tls(None).await;
    client.send(format!("a1 AUTHENTICATE XOAUTH2 {payload}\r\n").as_bytes()).await;
    let challenge = client.line().await;
    let json = challenge.strip_prefix("+ ").unwrap_or_else(|| panic!("no challenge: {challenge}"));
    assert_eq!(String::from_utf8(unb64(json)).unwrap(), CHALLENGE);
    client.send(b"\r\n").await;
    let done = client.line().await;
    assert_eq!(done, "a1 NO [AUTHENTICATIONFAILED] Authentication failed");
    let reply = client.cmd("SELECT INBOX").await;
    assert!(reply[0].starts_with("t1 BAD"), "{reply:?}");
}

#[tokio::test]
async fn expired_foreign_and_malformed_tokens_are_refused() {
    let mock = start(&[]).await;
    let expired = mock.token(&per1(), -60);
    assert_bearer_refused(&mock, &xoauth2(&per1(), &expired)).await;
    let of_per2 = mock.token(&per2(), 300);
    assert_bearer_refused(&mock, &xoauth2(&per1(), &of_per2)).await;
    assert_bearer_refused(&mock, &xoauth2(&per1(), "not.a.token")).await;
    assert_bearer_refused(&mock, &b64(b"no separators at all")).await;
}

#[tokio::test]
async fn refusal_without_initial_response() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    client.send(b"a1 AUTHENTICATE XOAUTH2\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client.send(format!("{}\r\n", xoauth2(&per1(), "forged")).as_bytes()).await;
    assert!(client.line().await.starts_with("+ ey"));
    client.send(b"AQ==\r\n").await;
    assert_eq!(client.line().await, "a1 NO [AUTHENTICATIONFAILED] Authentication failed");
}

#[tokio::test]
async fn login_is_refused_after_tls() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    let token = mock.token(&per1(), 300);
    let reply = client.cmd(&format!("LOGIN {} {token}", per1())).await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");
}

#[tokio::test]
async fn plain_needs_the_bound_client_certificate() {
    let mock = start(&[]).await;
    let cert1 = mock.pki.client(&app1());
    let (mut client, _) = mock.connect_tls(Some(&cert1)).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&app1()))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
    assert!(client.cmd("SELECT INBOX").await.last().unwrap().starts_with("t2 OK"));

    // app2's certificate does not open app1.
    let cert2 = mock.pki.client(&app2());
    let (mut client, _) = mock.connect_tls(Some(&cert2)).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&app1()))).await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");

    // No certificate: refused.
    let (mut client, _) = mock.connect_tls(None).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&app1()))).await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");

    // PLAIN is for APP mailboxes only.
    let (mut client, _) = mock.connect_tls(Some(&cert1)).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&per1()))).await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");
}

#[tokio::test]
async fn plain_after_starttls_with_certificate() {
    let mock = start(&[]).await;
    let cert = mock.pki.client(&app2());
    let (mut client, _) = mock.connect_plain().await;
    client.starttls(Some(&cert)).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&app2()))).await;
    assert!(reply[0].starts_with("t2 OK"), "{reply:?}");
}

#[tokio::test]
async fn external_uses_the_certificate_identity() {
    let mock = start(&[]).await;
    let cert = mock.pki.client(&app1());
    let (mut client, _) = mock.connect_tls(Some(&cert)).await;
    let reply = client.cmd("AUTHENTICATE EXTERNAL =").await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");

    let (mut client, _) = mock.connect_tls(Some(&cert)).await;
    let reply = client.cmd(&format!("AUTHENTICATE EXTERNAL {}", b64(app2().as_bytes()))).await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");

    let (mut client, _) = mock.connect_tls(None).await;
    let reply = client.cmd("AUTHENTICATE EXTERNAL =").await;
    assert!(reply[0].starts_with("t1 NO [AUTHENTICATIONFAILED]"), "{reply:?}");
}

#[tokio::test]
async fn cancelled_and_unknown_mechanisms() {
    let mock = start(&[]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    client.send(b"a1 AUTHENTICATE OAUTHBEARER\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client.send(b"*\r\n").await;
    assert!(client.line().await.starts_with("a1 BAD"));
    let reply = client.cmd("AUTHENTICATE CRAM-MD5").await;
    assert!(reply[0].starts_with("t1 NO"), "{reply:?}");
    client.send(b"a2 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(client.line().await, "+ ");
    client.send(b"!!not base64!!\r\n").await;
    assert!(client.line().await.starts_with("a2 BAD"));
    assert!(client.cmd("NOOP").await[0].starts_with("t2 OK"));
}
