//! The conformant behaviours of the SMTP submission (`mssconf_mock::behaviours`), over real
//! sockets: where a refusal happens, how an unknown recipient is reported, what follows a
//! refused AUTH. Whatever the behaviour, nothing that must be refused is ever delivered.

use crate::support;

use mssconf_mock::behaviours::{Behaviour, BehaviourSet};
use support::*;

async fn behaving(list: &[Behaviour]) -> mssconf_mock::MockHandle {
    let set: BehaviourSet = list.iter().copied().collect();
    start_with(faults(&[]), |c| c.behaviours = set).await
}

fn message(from: &str, to: &str) -> String {
    format!("From: <{from}>\r\nTo: <{to}>\r\nSubject: essai\r\nMessage-ID: <b-1@client.test>\r\n\r\nBonjour.\r\n")
}

/// A STARTTLS session that never authenticates.
async fn anonymous(mock: &mssconf_mock::MockHandle) -> Smtp {
    Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(mock)).await.0
}

#[tokio::test]
async fn refuse_at_mail_is_the_default() {
    let mock = behaving(&[]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    assert_eq!(anonymous(&mock).await.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 530);
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per2}>")).await.code, 553);
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per1, &per2)).await;
    assert_eq!(r.code, 250, "the session goes on and a legitimate message passes: {r:?}");
}

#[tokio::test]
async fn refuse_at_rcpt_accepts_mail_from_then_refuses_every_recipient() {
    let mock = behaving(&[Behaviour::RefuseAtRcpt]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));

    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per2}>")).await.code, 250, "foreign sender passes MAIL FROM");
    let r = smtp.cmd(&format!("RCPT TO:<{per2}>")).await;
    assert_eq!(r.code, 553, "{r:?}");
    assert!(r.text().contains(&format!("<{per2}>: Sender address rejected: not owned by user {per1}")), "{r:?}");
    assert_eq!(smtp.cmd("DATA").await.code, 503, "no recipient, no DATA");
    assert_eq!(smtp.cmd("RSET").await.code, 250);
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per1, &per2)).await;
    assert_eq!(r.code, 250, "a legitimate message passes: {r:?}");
    assert_eq!(inbox(&mock, &per2).len(), 1);

    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250, "MAIL FROM without AUTH");
    let r = smtp.cmd(&format!("RCPT TO:<{per2}>")).await;
    assert_eq!(r.code, 554, "{r:?}");
    assert!(r.text().contains("Relay access denied"), "{r:?}");
    assert_eq!(smtp.cmd("DATA").await.code, 503);
    assert_eq!(inbox(&mock, &per2).len(), 1, "nothing more delivered");

    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd("RCPT TO:<x@exterieur.example>").await.code, 550, "the whitelist refuses at RCPT as before");
}

#[tokio::test]
async fn refuse_at_data_reads_the_message_then_refuses_it() {
    let mock = behaving(&[Behaviour::RefuseAtData]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));

    let mut smtp = logged_in(&mock, "per1").await;
    let r = smtp.send_message(&format!("<{per2}>"), &[&format!("<{per2}>")], &message(&per2, &per2)).await;
    assert_eq!(r.code, 554, "foreign sender refused after the end of data: {r:?}");
    assert!(r.text().starts_with("5.7.1") && r.text().contains(&format!("not owned by user {per1}")), "{r:?}");
    assert_eq!(smtp.cmd("NOOP").await.code, 250, "the session goes on");
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per1, &per2)).await;
    assert_eq!(r.code, 250, "a legitimate message passes: {r:?}");
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd("RCPT TO:<x@exterieur.example>").await.code, 550, "the whitelist refuses at RCPT as before");

    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 250);
    assert_eq!(smtp.cmd("DATA").await.code, 354);
    smtp.send_raw(&dot_stuff(&message(&per1, &per2))).await;
    let r = smtp.cmd(".").await;
    assert_eq!(r.code, 554, "{r:?}");
    assert!(r.text().contains("authentication required"), "{r:?}");

    assert_eq!(inbox(&mock, &per2).len(), 1, "only the legitimate message");
    assert!(inbox(&mock, &per1).is_empty() && inbox(&mock, &per2).iter().all(|m| !m.starts_with(b"Return-Path: <>")), "no DSN");
}

#[tokio::test]
async fn unknown_recipient_is_refused_at_rcpt_without_a_dsn() {
    let mock = behaving(&[Behaviour::UnknownRecipientAtRcpt]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let unknown = format!("inconnu.fictif@{}", mock.context().accounts.domain);
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    let r = smtp.cmd(&format!("RCPT TO:<{unknown}>")).await;
    assert_eq!(r.code, 550, "{r:?}");
    assert!(r.text().starts_with(&format!("5.1.1 <{unknown}>")), "{r:?}");
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 250);
    assert_eq!(smtp.cmd("DATA").await.code, 354);
    smtp.send_raw(&dot_stuff(&message(&per1, &per2))).await;
    assert_eq!(smtp.cmd(".").await.code, 250);
    assert_eq!(inbox(&mock, &per2).len(), 1);
    assert!(inbox(&mock, &per1).is_empty(), "the refusal at RCPT was the report: no DSN");
}

#[tokio::test]
async fn keep_open_after_auth_failure_refuses_what_follows_and_allows_a_new_attempt() {
    let mock = behaving(&[Behaviour::KeepOpenAfterAuthFailure, Behaviour::RefuseAtRcpt]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let expired = token(&mock, &per1, -60).await;
    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.xoauth2(&per1, &expired).await.code, 334, "RFC 7628 error challenge");
    assert_eq!(smtp.cmd("").await.code, 535);
    assert_eq!(smtp.cmd("NOOP").await.code, 250, "the session stays open");
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250, "refusal stage: RCPT");
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 554);
    assert_eq!(smtp.cmd("RSET").await.code, 250);
    let valid = token(&mock, &per1, 300).await;
    assert_eq!(smtp.xoauth2(&per1, &valid).await.code, 235, "a new attempt may succeed");
    assert!(inbox(&mock, &per2).is_empty());

    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(&mock)).await;
    let app1 = address(&mock, "app1");
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {}", b64(&format!("\0{app1}\0x")))).await.code, 535, "no certificate");
    assert_eq!(smtp.cmd("NOOP").await.code, 250, "still open");
}

#[tokio::test]
async fn close_after_auth_failure_hangs_up_after_a_refused_certificate_too() {
    let mock = behaving(&[Behaviour::CloseAfterAuthFailure]).await;
    let (per1, app1) = (address(&mock, "per1"), address(&mock, "app1"));
    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {}", b64(&format!("\0{app1}\0x")))).await.code, 535, "no certificate");
    assert!(smtp.closed().await, "closed after the refused PLAIN");

    let expired = token(&mock, &per1, -60).await;
    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.xoauth2(&per1, &expired).await.code, 334);
    assert_eq!(smtp.cmd("").await.code, 535);
    assert!(smtp.closed().await, "closed after the refused token");

    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.cmd("AUTH CRAM-MD5").await.code, 504, "an unknown mechanism is no credential refusal");
    assert_eq!(smtp.cmd("NOOP").await.code, 250);
}

#[tokio::test]
async fn the_mock_describes_its_behaviours() {
    let mock = behaving(&[Behaviour::RefuseAtData]).await;
    let described = mock.describe_endpoints();
    assert!(
        described.contains("refuse-at-data, unknown-recipient-dsn, close-after-token-failure"),
        "{described}"
    );
}

#[tokio::test]
async fn from_header_unchecked_delivers_a_message_from_another_mailbox_header() {
    for (list, expected) in [(vec![], 550), (vec![Behaviour::FromHeaderUnchecked], 250)] {
        let mock = behaving(&list).await;
        let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
        let mut smtp = logged_in(&mock, "per1").await;
        let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per2, &per2)).await;
        assert_eq!(r.code, expected, "{list:?}: {r:?}");
        assert_eq!(inbox(&mock, &per2).len(), usize::from(expected == 250));
        let r = smtp.cmd(&format!("MAIL FROM:<{per2}>")).await;
        assert_eq!(r.code, 553, "the envelope sender stays bound: {r:?}");
    }
}

#[tokio::test]
async fn refuse_at_data_command_answers_data_with_554_and_no_354() {
    let mock = behaving(&[Behaviour::RefuseAtDataCommand]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let mut smtp = logged_in(&mock, "per1").await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per2}>")).await.code, 250);
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 250);
    let r = smtp.cmd("DATA").await;
    assert_eq!(r.code, 554, "{r:?}");
    assert!(r.text().contains(&format!("not owned by user {per1}")), "{r:?}");
    assert_eq!(smtp.cmd("DATA").await.code, 503, "the transaction is over");
    let r = smtp.send_message(&format!("<{per1}>"), &[&format!("<{per2}>")], &message(&per1, &per2)).await;
    assert_eq!(r.code, 250, "a legitimate message passes: {r:?}");

    let mut smtp = anonymous(&mock).await;
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<{per1}>")).await.code, 250);
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{per2}>")).await.code, 250);
    assert_eq!(smtp.cmd("DATA").await.code, 554);
    assert_eq!(inbox(&mock, &per2).len(), 1, "only the legitimate message");
}
