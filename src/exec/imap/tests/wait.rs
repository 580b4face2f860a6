//! Delivery detection: IDLE woken by EXISTS (and how fast), polling without IDLE, timeouts.

use std::time::{Duration, Instant};

use crate::exec::imap::testkit::*;
use crate::exec::imap::{ImapError, StatusKind, WaitMethod};

const CRITERIA: &str = "HEADER Message-ID \"<m1@op.test>\"";

fn selected_inbox(caps: &str) -> Vec<Step> {
    vec![
        greeting(caps),
        expect("a1 SELECT INBOX"),
        send("* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na1 OK [READ-WRITE] selected\r\n"),
    ]
}

#[tokio::test]
async fn idle_returns_right_after_the_exists_push() {
    let mut steps = vec![
        greeting("IMAP4rev1 IDLE"),
        expect("a1 SELECT INBOX"),
        send("* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 12] next\r\na1 OK [READ-WRITE] selected\r\n"),
    ];
    steps.extend([
        expect(&format!("a2 UID SEARCH {CRITERIA}")),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 IDLE"),
        send("+ idling\r\n"),
        Step::Sleep(Duration::from_millis(300)),
        // An unrelated update must not end IDLE.
        send("* 1 FETCH (FLAGS (\\Seen))\r\n"),
        Step::Sleep(Duration::from_millis(100)),
        Step::SendMarked("* 3 EXISTS\r\n".into()),
        expect("DONE"),
        // Sent with DONE, before the end of IDLE was confirmed; only mail from UIDNEXT up.
        expect(&format!("a4 UID SEARCH UID 12:* {CRITERIA}")),
        send("a3 OK IDLE terminated\r\n* SEARCH 12\r\na4 OK\r\n"),
    ]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    let returned = tokio::time::Instant::now();
    let trace = server.finish().await.unwrap();
    assert_eq!(w.uid, Some(12));
    assert_eq!(w.method, WaitMethod::Idle);
    assert_eq!(w.searches, 2);
    assert!(w.elapsed >= Duration::from_millis(400), "{:?}", w.elapsed);
    let lag = returned - trace.marks[0];
    eprintln!("IDLE: returned {lag:?} after the EXISTS push");
    assert!(lag < Duration::from_millis(100), "{lag:?}");
    let (exists_at, found_at) = (w.exists_at.expect("EXISTS instant"), w.found_at.expect("found instant"));
    assert!(exists_at >= trace.marks[0].into_std() && found_at >= exists_at);
}

#[tokio::test]
async fn fixed_pace_polling_does_not_idle_nor_double() {
    let steps = vec![
        greeting("IMAP4rev1 IDLE"),
        expect("a1 SELECT INBOX"),
        send("* 2 EXISTS\r\na1 OK selected\r\n"),
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 NOOP"),
        send("a3 OK\r\n"),
        expect("a4 UID SEARCH"),
        send("* SEARCH\r\na4 OK\r\n"),
        expect("a5 NOOP"),
        send("* 3 EXISTS\r\na5 OK\r\n"),
        expect("a6 UID SEARCH"),
        send("* SEARCH 3\r\na6 OK\r\n"),
    ];
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let pace = WaitMethod::Polling { interval: Duration::from_secs(1) };
    let w = s.wait_for_using("INBOX", CRITERIA, Duration::from_secs(5), pace).await.unwrap();
    server.finish().await.unwrap();
    assert_eq!((w.uid, w.method, w.searches), (Some(3), pace, 3));
    // 1 s + 1 s: a doubling pace would have taken 3 s.
    assert!(w.elapsed >= Duration::from_secs(2) && w.elapsed < Duration::from_millis(2700), "{:?}", w.elapsed);
    assert!(w.exists_at.is_some() && w.found_at.is_some());
}

#[tokio::test]
async fn a_message_already_there_has_no_exists_instant() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([expect("a2 UID SEARCH"), send("* 3 EXISTS\r\n* SEARCH 3\r\na2 OK\r\n")]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    server.finish().await.unwrap();
    assert_eq!((w.uid, w.exists_at.is_none(), w.found_at.is_some()), (Some(3), true, true));
}

#[tokio::test]
async fn already_present_message_needs_no_wait() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([expect("a2 UID SEARCH"), send("* SEARCH 3 5\r\na2 OK\r\n")]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    assert_eq!((w.uid, w.searches), (Some(5), 1));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn exists_during_search_triggers_a_new_search_before_idle() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\n* 3 EXISTS\r\na2 OK\r\n"),
        expect("a3 UID SEARCH"),
        send("* SEARCH 9\r\na3 OK\r\n"),
    ]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    assert_eq!((w.uid, w.searches), (Some(9), 2));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn idle_gives_up_at_the_timeout() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 IDLE"),
        send("+ idling\r\n"),
        expect("DONE"),
        send("a3 OK done\r\n"),
    ]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let start = Instant::now();
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_millis(400)).await.unwrap();
    let took = start.elapsed();
    assert_eq!(w.uid, None);
    assert_eq!(w.method, WaitMethod::Idle);
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(900),
        "{took:?}"
    );
    server.finish().await.unwrap();
}

#[tokio::test]
async fn without_idle_it_polls() {
    let mut steps = vec![
        send("* OK ready\r\n"),
        expect("a1 SELECT INBOX"),
        send("* 2 EXISTS\r\na1 OK selected\r\n"),
        expect("a2 CAPABILITY"),
        send("* CAPABILITY IMAP4rev1\r\na2 OK\r\n"),
        expect("a3 UID SEARCH"),
        send("* SEARCH\r\na3 OK\r\n"),
        // 200 ms later
        expect("a4 NOOP"),
        send("a4 OK\r\n"),
        expect("a5 UID SEARCH"),
        send("* SEARCH\r\na5 OK\r\n"),
        // 400 ms later
        expect("a6 NOOP"),
        send("* 3 EXISTS\r\na6 OK\r\n"),
        expect("a7 UID SEARCH"),
        send("* SEARCH 4\r\na7 OK\r\n"),
    ];
    steps.shrink_to_fit();
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    assert_eq!(w.uid, Some(4));
    assert_eq!(
        w.method,
        WaitMethod::Polling {
            interval: Duration::from_millis(200)
        }
    );
    assert_eq!(w.searches, 3);
    assert!(
        w.elapsed >= Duration::from_millis(600) && w.elapsed < Duration::from_millis(1200),
        "{:?}",
        w.elapsed
    );
    server.finish().await.unwrap();
}

#[tokio::test]
async fn idle_refused_falls_back_to_polling() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 IDLE"),
        send("a3 NO IDLE disabled\r\n"),
        expect("a4 UID SEARCH"),
        send("* SEARCH\r\na4 OK\r\n"),
        expect("a5 NOOP"),
        send("a5 OK\r\n"),
        expect("a6 UID SEARCH"),
        send("* SEARCH 8\r\na6 OK\r\n"),
    ]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    assert_eq!(w.uid, Some(8));
    assert!(matches!(w.method, WaitMethod::Polling { .. }));
    assert!(rendered(&t).contains("IDLE refused"));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn failed_select_ends_the_wait_with_its_status() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 IDLE"),
            expect("a1 SELECT Nope"),
            send("a1 NO [NONEXISTENT] no such mailbox\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let w = s.wait_for("Nope", CRITERIA, Duration::from_secs(5)).await.unwrap();
    assert_eq!((w.uid, w.status.kind, w.searches), (None, StatusKind::No, 0));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn connection_lost_during_idle_is_an_error() {
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 IDLE"),
        send("+ idling\r\n"),
        Step::Sleep(Duration::from_millis(100)),
        Step::Close,
    ]);
    let server = ScriptServer::start(steps, None, false).await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let err = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(err, ImapError::Closed { .. }), "{err}");
}

#[tokio::test]
async fn idle_over_implicit_tls() {
    let pki = TestPki::new();
    let mut steps = selected_inbox("IMAP4rev1 IDLE");
    steps.extend([
        expect("a2 UID SEARCH"),
        send("* SEARCH\r\na2 OK\r\n"),
        expect("a3 IDLE"),
        send("+ idling\r\n"),
        Step::Sleep(Duration::from_millis(150)),
        Step::SendMarked("* 3 EXISTS\r\n".into()),
        expect("DONE"),
        send("a3 OK\r\n"),
        expect("a4 UID SEARCH"),
        send("* SEARCH 3\r\na4 OK\r\n"),
    ]);
    let server = ScriptServer::start(steps, Some(pki.server.clone()), true).await;
    let endpoint = server.endpoint(crate::exec::net::TlsMode::Implicit);
    let (mut s, _) = crate::exec::imap::ImapSession::connect(&endpoint, &pki.client(), TIMEOUTS, transcript())
        .await
        .unwrap();
    let w = s.wait_for("INBOX", CRITERIA, Duration::from_secs(5)).await.unwrap();
    let returned = tokio::time::Instant::now();
    let trace = server.finish().await.unwrap();
    assert_eq!((w.uid, w.method), (Some(3), WaitMethod::Idle));
    let lag = returned - trace.marks[0];
    eprintln!("IDLE over TLS: returned {lag:?} after the EXISTS push");
    assert!(lag < Duration::from_millis(100), "{lag:?}");
}
