//! SMTP submission against a running mock, over real sockets and TLS.

use crate::support;

use mssconf_mock::faults::Fault;
use mail_parser::MimeHeaders;
use support::*;

fn message(from: &str, to: &str, extra: &str) -> String {
    format!(
        "From: Dr Martin <{from}>\r\nTo: <{to}>\r\nSubject: Compte rendu =?utf-8?q?fictif?=\r\n\
         Message-ID: <cr-1@client.test>\r\nX-MSS-NIL: DEV935997\r\nX-MSS-CODECDA: 34112-3\r\nX-MSS-INS: O\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n.leading dot line\r\n\
         Texte accentué.\r\n"
    )
}

#[tokio::test]
async fn xoauth2_submission_is_delivered_byte_for_byte_with_only_trace_headers_added() {
    let mock = start(&[]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    let body = message(&per1, &per2, "");
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &body).await;
    assert_eq!(r.code, 250, "{r:?}");
    assert_eq!(smtp.cmd("QUIT").await.code, 221);

    let stored = inbox(&mock, &per2);
    assert_eq!(stored.len(), 1);
    let stored = String::from_utf8(stored[0].clone()).unwrap();
    assert!(stored.ends_with(&body), "stored copy must end with the submitted bytes:\n{stored}");
    let added = &stored[..stored.len() - body.len()];
    assert!(added.starts_with(&format!("Return-Path: <{per1}>\r\nReceived: from client.test")), "{added}");
    let added_fields: Vec<_> = added.lines().filter(|l| !l.starts_with('\t')).collect();
    assert_eq!(added_fields.len(), 2, "only Return-Path and Received are added: {added}");
    assert!(inbox(&mock, &per1).is_empty(), "no DSN without NOTIFY and no failure");
}

#[tokio::test]
async fn xoauth2_without_initial_response_and_oauthbearer_both_log_in() {
    let mock = start(&[]).await;
    let org1 = address(&mock, "org1");
    let token = token(&mock, &org1, 300).await;
    let (mut smtp, ehlo) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert!(ehlo.lines.contains(&"AUTH XOAUTH2 OAUTHBEARER PLAIN".to_string()), "{ehlo:?}");
    let r = smtp.cmd("AUTH XOAUTH2").await;
    assert_eq!((r.code, r.text()), (334, String::new()));
    assert_eq!(smtp.cmd(&xoauth2_payload(&org1, &token)).await.code, 235);

    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    let bearer = b64(&format!("n,a={org1},\x01host=mock.mssante.test\x01port=587\x01auth=Bearer {token}\x01\x01"));
    assert_eq!(smtp.cmd(&format!("AUTH OAUTHBEARER {bearer}")).await.code, 235);
}

#[tokio::test]
async fn refused_token_gets_the_rfc7628_challenge_then_535_and_the_connection_closes() {
    let mock = start(&[]).await;
    let per1 = address(&mock, "per1");
    for token in [token(&mock, &per1, -60).await, "not-a-token".to_string(), token(&mock, &address(&mock, "per2"), 300).await] {
        let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
        let r = smtp.xoauth2(&per1, &token).await;
        assert_eq!(r.code, 334);
        let json = String::from_utf8(base64_decode(&r.text())).unwrap();
        assert_eq!(json, r#"{"status":"401","schemes":"bearer","scope":"mail"}"#);
        let r = smtp.cmd("").await;
        assert_eq!(r.code, 535);
        assert!(r.text().starts_with("5.7.8"), "{r:?}");
        assert!(smtp.closed().await, "the server hangs up after a refused token");
    }
}

#[tokio::test]
async fn faults_accept_expired_and_foreign_tokens() {
    let mock = start(&[Fault::AcceptExpiredToken, Fault::AcceptForeignToken]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let expired = token(&mock, &per1, -60).await;
    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert_eq!(smtp.xoauth2(&per1, &expired).await.code, 235);
    let foreign = token(&mock, &per1, 300).await;
    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert_eq!(smtp.xoauth2(&per2, &foreign).await.code, 235);
}

#[tokio::test]
async fn auth_before_tls_is_refused_and_not_offered_unless_faulted() {
    let mock = start(&[]).await;
    let (mut smtp, greeting) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    assert_eq!(greeting.code, 220);
    let ehlo = smtp.cmd("EHLO client.test").await;
    assert!(ehlo.lines.contains(&"STARTTLS".to_string()));
    assert!(!ehlo.lines.iter().any(|l| l.starts_with("AUTH")), "{ehlo:?}");
    let r = smtp.cmd("AUTH PLAIN AGZvbwBiYXI=").await;
    assert_eq!((r.code, r.text().starts_with("5.7.0")), (530, true));
    assert_eq!(smtp.cmd("MAIL FROM:<a@b.test>").await.code, 530);

    let mock = start(&[Fault::AuthBeforeTls]).await;
    let per1 = address(&mock, "per1");
    let token = token(&mock, &per1, 300).await;
    let (mut smtp, _) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    let ehlo = smtp.cmd("EHLO client.test").await;
    assert!(ehlo.lines.iter().any(|l| l.starts_with("AUTH XOAUTH2")), "{ehlo:?}");
    assert_eq!(smtp.xoauth2(&per1, &token).await.code, 235, "accepted in clear with the fault");
}

#[tokio::test]
async fn implicit_tls_listener_offers_auth_at_once() {
    let mock = start(&[]).await;
    let (mut smtp, greeting) = Smtp::connect_tls(mock.endpoints().smtp_implicit, default_tls(&mock)).await;
    assert_eq!(greeting.code, 220);
    let ehlo = smtp.cmd("EHLO client.test").await;
    assert!(ehlo.lines.iter().any(|l| l.starts_with("AUTH")) && !ehlo.lines.contains(&"STARTTLS".to_string()));
    assert!(ehlo.lines.contains(&"DSN".to_string()) && ehlo.lines.contains(&"SMTPUTF8".to_string()));
    assert!(ehlo.lines.contains(&format!("SIZE {}", 10 * 1024 * 1024)));
}

#[tokio::test]
async fn sender_must_be_the_authenticated_mailbox_in_envelope_and_header() {
    let mock = start(&[]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    let r = smtp.cmd(&format!("MAIL FROM:<{per2}>")).await;
    assert_eq!((r.code, r.text().starts_with("5.7.1")), (553, true), "{r:?}");
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per2, &per2, "")).await;
    assert_eq!((r.code, r.text().starts_with("5.7.1")), (550, true), "{r:?}");
    assert!(inbox(&mock, &per2).is_empty());

    let mock = start(&[Fault::NoSenderCheck]).await;
    let mut smtp = logged_in(&mock, "per1").await;
    let r = smtp.send_message(&format!("<{per2}>"), &[&format!("<{per2}>")], &message(&per2, &per2, "")).await;
    assert_eq!(r.code, 250, "{r:?}");
}

#[tokio::test]
async fn recipients_outside_the_whitelist_are_refused_unless_faulted() {
    let mock = start(&[]).await;
    let per1 = address(&mock, "per1");
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    let r = smtp.cmd("RCPT TO:<destinataire@exterieur.example>").await;
    assert_eq!((r.code, r.text().starts_with("5.7.1")), (550, true), "{r:?}");
    assert_eq!(smtp.cmd("RCPT TO:<146026322000196@patient.mssante.test>").await.code, 250);
    assert_eq!(smtp.cmd("RCPT TO:<confrere@autre-operateur.mssante.test>").await.code, 250);

    let mock = start(&[Fault::NoWhitelist]).await;
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd("RCPT TO:<destinataire@exterieur.example>").await.code, 250);
}

#[tokio::test]
async fn size_limits_apply_to_the_declared_and_the_actual_size() {
    let mock = start_with(faults(&[]), |c| c.max_message_size = 2000).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    let r = smtp.cmd(&format!("MAIL FROM:<{per1}> SIZE=5000")).await;
    assert_eq!((r.code, r.text().starts_with("5.3.4")), (552, true), "{r:?}");
    let big = message(&per1, &per2, &format!("X-Padding: {}\r\n", "x".repeat(3000)));
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &big).await;
    assert_eq!((r.code, r.text().starts_with("5.3.4")), (552, true), "{r:?}");
    assert_eq!(smtp.cmd("NOOP").await.code, 250, "the session goes on");
    assert!(inbox(&mock, &per2).is_empty());
}

#[tokio::test]
async fn notify_success_yields_a_delivery_status_report_in_the_senders_inbox() {
    let mock = start(&[]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    let rcpt = format!("<{per2}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{per2}");
    let r = smtp.send_message(&format!("<{per1}> RET=HDRS ENVID=env-42"), &[&rcpt], &message(&per1, &per2, "")).await;
    assert_eq!(r.code, 250, "{r:?}");

    let reports = inbox(&mock, &per1);
    assert_eq!(reports.len(), 1, "one success DSN");
    let dsn = String::from_utf8_lossy(&reports[0]).to_string();
    let parsed = mail_parser::MessageParser::default().parse(&reports[0]).unwrap();
    let ct = parsed.root_part().content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
    assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
    for needle in [
        "Reporting-MTA: dns; mock.mssante.test".to_string(),
        "Original-Envelope-Id: env-42".to_string(),
        format!("Final-Recipient: rfc822; {per2}"),
        format!("Original-Recipient: rfc822; {per2}"),
        "Action: delivered".to_string(),
        "Status: 2.0.0".to_string(),
        "Content-Type: text/rfc822-headers".to_string(),
    ] {
        assert!(dsn.contains(&needle), "missing {needle} in\n{dsn}");
    }
    assert!(!dsn.contains("Texte accentu"), "RET=HDRS returns headers only");
}

#[tokio::test]
async fn unknown_local_mailbox_bounces_and_other_operators_are_relayed() {
    let mock = start(&[]).await;
    let per1 = address(&mock, "per1");
    let unknown = format!("inconnu.fictif@{}", mock.context().accounts.domain);
    let mut smtp = logged_in(&mock, "per1").await;
    let relayed = "<confrere@autre-operateur.mssante.test> NOTIFY=SUCCESS";
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{unknown}>"), relayed], &message(&per1, &unknown, "")).await;
    assert_eq!(r.code, 250, "{r:?}");
    let reports: Vec<String> = inbox(&mock, &per1).iter().map(|m| String::from_utf8_lossy(m).to_string()).collect();
    assert_eq!(reports.len(), 2, "a failure DSN (default NOTIFY) and a relayed DSN");
    let failure = reports.iter().find(|r| r.contains("Action: failed")).expect("failure DSN");
    assert!(failure.contains("Status: 5.1.1") && failure.contains(&format!("Final-Recipient: rfc822; {unknown}")));
    assert!(failure.contains("Content-Type: message/rfc822") && failure.contains("Texte accentu"), "full message returned");
    assert!(reports.iter().any(|r| r.contains("Action: relayed")));
}

#[tokio::test]
async fn no_dsn_fault_hides_the_extension_and_sends_no_success_report() {
    let mock = start(&[Fault::NoDsn]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let token = token(&mock, &per1, 300).await;
    let (mut smtp, ehlo) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert!(!ehlo.lines.contains(&"DSN".to_string()), "{ehlo:?}");
    assert_eq!(smtp.xoauth2(&per1, &token).await.code, 235);
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}> NOTIFY=SUCCESS")], &message(&per1, &per2, "")).await;
    assert_eq!(r.code, 250);
    assert_eq!(inbox(&mock, &per2).len(), 1);
    assert!(inbox(&mock, &per1).is_empty(), "no DSN with the fault");
}

#[tokio::test]
async fn strip_xmss_headers_fault_removes_them_on_delivery() {
    let mock = start(&[Fault::StripXmssHeaders]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    let body = message(&per1, &per2, "");
    assert_eq!(smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &body).await.code, 250);
    let stored = String::from_utf8(inbox(&mock, &per2).remove(0)).unwrap();
    assert!(!stored.to_ascii_lowercase().contains("x-mss-"), "{stored}");
    assert!(stored.contains("Subject: Compte rendu") && stored.ends_with("Texte accentué.\r\n"));
}

#[tokio::test]
async fn alter_attachment_fault_changes_the_attachment_on_delivery() {
    let attachment = "UEsDBBQAAAAIAAAAIQBtZXRhZGF0YS54bWwgZmljdGlm";
    let multipart = |from: &str, to: &str| {
        format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: XDM/1.0/DDM+CR\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nvoir PJ\r\n\
             --b1\r\nContent-Type: application/zip; name=IHE_XDM.ZIP\r\nContent-Disposition: attachment; filename=IHE_XDM.ZIP\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--b1--\r\n"
        )
    };
    for (faults_on, altered) in [(vec![], false), (vec![Fault::AlterAttachment], true)] {
        let mock = start(&faults_on).await;
        let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
        let mut smtp = logged_in(&mock, "per1").await;
        let body = multipart(&per1, &per2);
        assert_eq!(smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &body).await.code, 250);
        let stored = inbox(&mock, &per2).remove(0);
        let parsed = mail_parser::MessageParser::default().parse(&stored).unwrap();
        let got = parsed.attachment(0).unwrap().contents().to_vec();
        let sent = base64_decode(attachment);
        assert_eq!(got != sent, altered);
        if altered {
            assert_eq!(got.iter().zip(&sent).filter(|(a, b)| a != b).count(), 1, "one byte changed");
        }
    }
}

#[tokio::test]
async fn drop_mid_data_fault_hangs_up_during_data() {
    let mock = start(&[Fault::DropMidData]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 250);
    assert_eq!(smtp.cmd("DATA").await.code, 354);
    smtp.send_raw(&dot_stuff(&message(&per1, &per2, &format!("X-Padding: {}\r\n", "y".repeat(500))))).await;
    assert!(smtp.closed().await, "connection closed without a final reply");
    assert!(inbox(&mock, &per2).is_empty());
}

#[tokio::test]
async fn slow_fault_delays_every_reply_after_the_greeting() {
    let delay = std::time::Duration::from_millis(400);
    let mock = start_with(faults(&[Fault::Slow]).with_slow_delay(delay), |_| {}).await;
    let started = std::time::Instant::now();
    let (mut smtp, greeting) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    assert_eq!(greeting.code, 220);
    assert!(started.elapsed() < delay, "greeting is not delayed");
    let before = std::time::Instant::now();
    assert_eq!(smtp.cmd("EHLO client.test").await.code, 250);
    assert_eq!(smtp.cmd("NOOP").await.code, 250);
    assert!(before.elapsed() >= delay * 2, "two replies, each delayed: {:?}", before.elapsed());
}

#[tokio::test]
async fn garbage_fault_answers_the_first_ehlo_with_a_malformed_line() {
    let mock = start(&[Fault::Garbage]).await;
    let (mut smtp, _) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    smtp.line("EHLO client.test").await;
    let line = smtp.read_line().await.unwrap();
    assert_eq!(line, "2x0 \x01garbage");
    let ehlo = smtp.cmd("EHLO client.test").await;
    assert_eq!(ehlo.code, 250, "later EHLOs are answered normally");
}

#[tokio::test]
async fn flaky_once_fault_refuses_only_the_first_ehlo_of_the_instance() {
    let mock = start(&[Fault::FlakyOnce]).await;
    let (mut smtp, _) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    assert_eq!(smtp.cmd("EHLO client.test").await.code, 421);
    assert!(smtp.closed().await, "421 closes the connection");
    for _ in 0..2 {
        let (mut smtp, _) = Smtp::connect(mock.endpoints().smtp_starttls).await;
        assert_eq!(smtp.cmd("EHLO client.test").await.code, 250, "later sessions are answered normally");
    }
}

#[tokio::test]
async fn plain_for_app_mailboxes_is_bound_to_the_client_certificate() {
    let mock = start(&[]).await;
    let (app1, app2) = (address(&mock, "app1"), address(&mock, "app2"));
    let files = mock.pki_files().clone();
    let with_app1 = client_config(&files.ca, identity(&files.app1));
    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, with_app1.clone()).await;
    let r = smtp.cmd(&format!("AUTH PLAIN {}", b64(&format!("\0{app2}\0x")))).await;
    assert_eq!(r.code, 535, "certificate of app1 cannot open app2");
    let r = smtp.cmd(&format!("AUTH PLAIN {}", b64(&format!("\0{app1}\0x")))).await;
    assert_eq!(r.code, 235, "the session stayed open after the PLAIN failure; {r:?}");
    let body = message(&app1, &address(&mock, "per1"), "");
    let per1 = address(&mock, "per1");
    assert_eq!(smtp.send_message(&format!("<{app1}>"), &[&format!("<{per1}>")], &body).await.code, 250);

    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert_eq!(smtp.cmd("AUTH PLAIN").await.code, 334);
    assert_eq!(smtp.cmd(&b64(&format!("\0{app1}\0x"))).await.code, 535, "no certificate, no PLAIN");

    let mock = start(&[Fault::AcceptAnyClientCert]).await;
    let foreign = client_config(&files.ca, identity(&files.app1_foreign));
    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, foreign).await;
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {}", b64(&format!("\0{app2}\0x")))).await.code, 235);
}

#[tokio::test]
async fn mdn_responder_answers_read_receipt_requests_and_silent_does_not() {
    let mock = start(&[]).await;
    let per1 = address(&mock, "per1");
    for (role, expected) in [("mdn_responder", 1), ("mdn_silent", 0)] {
        let to = address(&mock, role);
        let mut smtp = logged_in(&mock, "per1").await;
        let body = message(&per1, &to, &format!("Disposition-Notification-To: <{per1}>\r\n"));
        assert_eq!(smtp.send_message(&format!("<{per1}>"), &[&format!("<{to}>")], &body).await.code, 250);
        let mdns: Vec<String> = inbox(&mock, &per1)
            .iter()
            .map(|m| String::from_utf8_lossy(m).to_string())
            .filter(|m| m.contains(&format!("Final-Recipient: rfc822; {to}")))
            .collect();
        assert_eq!(mdns.len(), expected, "{role}");
        if let Some(mdn) = mdns.first() {
            assert!(mdn.contains("report-type=disposition-notification"));
            assert!(mdn.contains("Original-Message-ID: <cr-1@client.test>"));
            assert!(mdn.contains("Disposition: automatic-action/MDN-sent-automatically; processed"));
        }
    }
}

#[tokio::test]
async fn protocol_errors_get_replies_and_never_kill_the_server() {
    let mock = start(&[]).await;
    let (mut smtp, _) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    assert_eq!(smtp.cmd("BOGUS").await.code, 500);
    smtp.send_raw(b"\xff\xfe\x00\x01garbage\r\n").await;
    assert_eq!(smtp.reply().await.code, 500);
    smtp.send_raw(format!("NOOP {}\r\n", "z".repeat(70_000)).as_bytes()).await;
    assert_eq!(smtp.reply().await.code, 500, "line too long");
    assert_eq!(smtp.cmd("DATA").await.code, 530);
    assert_eq!(smtp.cmd("RCPT TO:<a@b.test>").await.code, 503);
    let (mut tls_smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    assert_eq!(tls_smtp.cmd("AUTH CRAM-MD5").await.code, 504);
    assert_eq!(tls_smtp.cmd("STARTTLS").await.code, 503);
    assert_eq!(smtp.cmd("QUIT").await.code, 221);
    let (mut again, greeting) = Smtp::connect(mock.endpoints().smtp_starttls).await;
    assert_eq!(greeting.code, 220);
    assert_eq!(again.cmd("NOOP").await.code, 250);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap()
}
