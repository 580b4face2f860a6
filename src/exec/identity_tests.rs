//! The identity exchange against scripted IMAP servers: `ID NIL` only when advertised, the
//! response and the TLS chain recorded as sent.

use super::*;
use crate::exec::imap::testkit::*;

#[test]
fn id_fields_reads_quoted_pairs_and_nil() {
    let f = id_fields(r#"("name" "Dovecot" "version" "2.3.21" "x-note" NIL "vendor" "Open \"Source\"")"#);
    assert_eq!(
        f,
        [("name".to_string(), "Dovecot".to_string()), ("version".into(), "2.3.21".into()), ("vendor".into(), "Open \"Source\"".into())]
    );
    assert!(id_fields("NIL").is_empty());
}

#[tokio::test]
async fn id_nil_is_sent_when_advertised_and_its_answer_recorded() {
    let pki = TestPki::new();
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 STARTTLS LOGINDISABLED"),
            expect("a1 STARTTLS"),
            send("a1 OK Begin TLS negotiation now\r\n"),
            Step::StartTls,
            expect("a2 CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 ID AUTH=XOAUTH2\r\na2 OK done\r\n"),
            expect("a3 ID NIL"),
            send("* ID (\"name\" \"Dovecot\" \"version\" \"2.3.21\")\r\na3 OK ID completed\r\n"),
            expect("a4 LOGOUT"),
            send("* BYE bye\r\na4 OK done\r\n"),
        ],
        Some(pki.server.clone()),
        false,
    )
    .await;
    let ep = server.endpoint(TlsMode::Starttls);
    let (s, g) = ImapSession::connect(&ep, &pki.client(), TIMEOUTS, transcript()).await.unwrap();
    let id = imap_identity(s, &g, TlsMode::Starttls, &pki.client(), "imap_starttls=x").await;
    server.finish().await.unwrap();
    assert!(id.greeting.starts_with("OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] scripted server ready"), "{id:?}");
    assert!(id.id_advertised);
    assert_eq!(id.id_response.as_deref(), Some("* ID (\"name\" \"Dovecot\" \"version\" \"2.3.21\")"));
    assert_eq!(id.id_fields[1], ("version".to_string(), "2.3.21".to_string()));
    let chain = &id.tls.as_ref().expect("the chain after STARTTLS").server_chain;
    assert!(!chain.is_empty() && !chain[0].serial.is_empty() && chain[0].sha256.len() == 64, "{chain:?}");
    assert_eq!(id.stopped, None);
}

#[tokio::test]
async fn no_id_command_when_the_server_does_not_advertise_it() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 IDLE\r\na1 OK done\r\n"),
            // The next line must be LOGOUT: an `ID NIL` here fails the script.
            expect("a2 LOGOUT"),
            send("* BYE bye\r\na2 OK done\r\n"),
        ],
        None,
        false,
    )
    .await;
    let ep = server.endpoint(TlsMode::Implicit);
    let (s, _) = connect_plain(&server, TIMEOUTS).await;
    let g = Greeting { status: crate::exec::imap::Status::parse("OK scripted").unwrap(), capabilities: None };
    let id = imap_identity(s, &g, TlsMode::Implicit, &no_tls(), &format!("imap_implicit={ep}")).await;
    server.finish().await.unwrap();
    assert!(!id.id_advertised);
    assert_eq!(id.id_response, None);
}
