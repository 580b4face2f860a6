//! Each IMAP-side fault of the mock changes exactly what it names (the fault-free behaviour is
//! asserted in imap_auth.rs and imap_mailbox.rs).

use crate::imap_common;

use std::time::{Duration, Instant};

use imap_common::*;
use mssconf_mock::faults::Fault;

#[tokio::test]
async fn auth_before_tls_offers_and_accepts_credentials_in_clear() {
    let mock = start(&[Fault::AuthBeforeTls]).await;
    let (mut client, greeting) = mock.connect_plain().await;
    assert!(greeting.contains("STARTTLS") && greeting.contains("AUTH=XOAUTH2"), "{greeting}");
    assert!(!greeting.contains("LOGINDISABLED"), "{greeting}");
    let token = mock.token(&per1(), 300);
    let reply = client.cmd(&format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&per1(), &token))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
    assert!(client.cmd("SELECT INBOX").await.last().unwrap().starts_with("t2 OK"));
}

#[tokio::test]
async fn no_idle_hides_and_refuses_idle() {
    let mock = start(&[Fault::NoIdle]).await;
    let (_, greeting) = mock.connect_tls(None).await;
    assert!(!greeting.contains("IDLE"), "{greeting}");
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    client.send(b"i1 IDLE\r\n").await;
    assert!(client.line().await.starts_with("i1 BAD"));
    assert!(client.cmd("NOOP").await[0].starts_with("t2 OK"));
}

#[tokio::test]
async fn accept_expired_token_lets_an_expired_token_in() {
    let mock = start(&[Fault::AcceptExpiredToken]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    let expired = mock.token(&per1(), -3600);
    let reply = client.cmd(&format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&per1(), &expired))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
    // Only expiry is relaxed: another mailbox's token is still refused.
    let (mut client, _) = mock.connect_tls(None).await;
    let of_per2 = mock.token(&per2(), 300);
    client.send(format!("a1 AUTHENTICATE XOAUTH2 {}\r\n", xoauth2(&per1(), &of_per2)).as_bytes()).await;
    assert!(client.line().await.starts_with("+ "));
}

#[tokio::test]
async fn accept_foreign_token_opens_another_mailbox() {
    let mock = start(&[Fault::AcceptForeignToken]).await;
    let (mut client, _) = mock.connect_tls(None).await;
    let of_per2 = mock.token(&per2(), 300);
    let reply = client.cmd(&format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&per1(), &of_per2))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
}

#[tokio::test]
async fn accept_any_client_cert_skips_the_binding() {
    let mock = start(&[Fault::AcceptAnyClientCert]).await;
    let cert2 = mock.pki.client(&app2());
    let (mut client, _) = mock.connect_tls(Some(&cert2)).await;
    let reply = client.cmd(&format!("AUTHENTICATE PLAIN {}", plain(&app1()))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
    let (mut client, _) = mock.connect_tls(Some(&cert2)).await;
    let reply = client.cmd(&format!("AUTHENTICATE EXTERNAL {}", b64(app1().as_bytes()))).await;
    assert!(reply[0].starts_with("t1 OK"), "{reply:?}");
}

#[tokio::test]
async fn slow_delays_every_answer_but_not_the_greeting() {
    let mock = start(&[Fault::Slow]).await;
    let delay = options().slow_delay;
    let started = Instant::now();
    let (mut client, _) = mock.connect_plain().await;
    assert!(started.elapsed() < delay, "greeting took {:?}", started.elapsed());
    let started = Instant::now();
    client.cmd("CAPABILITY").await;
    assert!(started.elapsed() >= delay, "CAPABILITY answered after {:?}", started.elapsed());
    let started = Instant::now();
    client.cmd("NOOP").await;
    assert!(started.elapsed() >= delay, "NOOP answered after {:?}", started.elapsed());
}

#[test]
fn slow_default_is_three_seconds() {
    assert_eq!(mssconf_mock::imap::ImapOptions::default().slow_delay, Duration::from_secs(3));
}

#[tokio::test]
async fn garbage_sends_one_malformed_line_per_session() {
    let mock = start(&[Fault::Garbage]).await;
    let (mut client, greeting) = mock.connect_plain().await;
    assert!(greeting.starts_with("* OK"), "the greeting itself is clean: {greeting}");
    client.send(b"a1 CAPABILITY\r\n").await;
    let garbage = client.raw_line().await.unwrap();
    assert_eq!(garbage, b"* \x01GARBAGE {\r\n");
    assert!(client.line().await.starts_with("* CAPABILITY"));
    assert!(client.line().await.starts_with("a1 OK"));
    // Once per connection, STARTTLS included.
    client.starttls(None).await;
    let reply = client.cmd("NOOP").await;
    assert_eq!(reply.len(), 1, "{reply:?}");
    // A new connection gets its own.
    let (mut client, _) = mock.connect_tls(None).await;
    let reply = client.cmd_raw("NOOP").await;
    assert_eq!(reply[0], b"* \x01GARBAGE {\r\n");
}
