//! Delivery detection against the embedded mock operator (real sockets, TLS, XOAUTH2): the wait
//! is woken by an `EXISTS` push for a message submitted after the IDLE began, polls when IDLE
//! is not announced, and the bench's sample path works end to end.
//!
//! The mock delivers at DATA, synchronously: a message submitted before the waiter idles would
//! be found by its first search. So each test submits only once the waiter's transcript shows
//! it idling (or, without IDLE, its first search done), and checks the search count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mssconf_mock::faults::{Fault, FaultSet};
use mssconf_mock::{MockConfig, MockHandle, MockOperator};

use super::peer::{Peer, mailbox, run_env, submission};
use crate::exec::env::RunEnv;
use crate::exec::imap::{ImapSession, WaitMethod, WaitOutcome};
use crate::exec::message::{Draft, build};
use crate::exec::transcript::{Direction, Line, Transcript};

const CRITERIA_TIMEOUT: Duration = Duration::from_secs(10);

struct Mock {
    handle: MockHandle,
    env: Arc<RunEnv>,
    profile: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn start(faults: &[Fault]) -> Mock {
    let mut config = MockConfig::new(crate::runner::mock_state_dir().join("pki"));
    config.faults = faults.iter().copied().collect::<FaultSet>();
    let handle = MockOperator::start(config).await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("mock.target.yaml");
    handle.write_target(&profile).expect("profile written");
    let env = run_env(&profile).expect("mock profile loads");
    Mock { handle, env, profile, _dir: dir }
}

impl Mock {
    fn inbox_len(&self, role: &str) -> usize {
        let ctx = self.handle.context();
        let address = &ctx.accounts.by_role(role).expect("role").address;
        ctx.store.with_mailbox(address, |m| m.folders["INBOX"].messages.len()).unwrap_or(0)
    }
}

/// Submits a fictitious message from per1 to per2 through the harness's SMTP client.
async fn submit(env: &RunEnv, message_id: &str) {
    let mut smtp = submission(env, "per1").await.expect("submission session");
    let (from, to) = (env.address("per1").unwrap(), env.address("per2").unwrap());
    let draft = Draft {
        from: from.clone(),
        to: vec![to.clone()],
        subject: "delivery detection test (fictitious)".into(),
        body: Some("Fictitious.\n".into()),
        message_id: message_id.into(),
        ..Default::default()
    };
    assert_eq!(smtp.mail_from(&from, &[]).await.unwrap().code, 250);
    assert_eq!(smtp.rcpt_to(&to, &[]).await.unwrap().code, 250);
    let data = smtp.data(&build(&draft).to_vec()).await.unwrap();
    assert_eq!(data.final_reply.map(|r| r.code), Some(250));
    let _ = smtp.quit().await;
}

/// Starts `wait_for_using` on per2's INBOX in its own task.
async fn start_wait(
    env: &RunEnv,
    message_id: &str,
    method: WaitMethod,
) -> (Transcript, tokio::task::JoinHandle<WaitOutcome>) {
    let mut s: ImapSession = mailbox(env, "per2", "imap#wait").await.expect("IMAP session");
    let transcript = s.transcript().clone();
    let criteria = format!("HEADER Message-ID \"<{message_id}>\"");
    let task = tokio::spawn(async move { s.wait_for_using("INBOX", &criteria, CRITERIA_TIMEOUT, method).await.expect("wait") });
    (transcript, task)
}

/// Waits (bounded) until the transcript holds a line matching `pred`; the instant it was seen.
async fn seen(t: &Transcript, what: &str, pred: impl Fn(&Line) -> bool) -> Instant {
    let limit = Instant::now() + Duration::from_secs(5);
    loop {
        if t.lines().iter().any(&pred) {
            return Instant::now();
        }
        assert!(Instant::now() < limit, "the waiter never showed {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn position(lines: &[Line], pred: impl Fn(&Line) -> bool) -> Option<usize> {
    lines.iter().position(pred)
}

fn received(l: &Line, prefix: &str) -> bool {
    l.dir == Direction::Received && l.text.starts_with(prefix)
}

/// The index of the `+` answering the IDLE command.
fn idle_accepted(lines: &[Line]) -> Option<usize> {
    let idle = position(lines, |l| l.dir == Direction::Sent && l.text.ends_with(" IDLE"))?;
    position(&lines[idle..], |l| received(l, "+ ")).map(|i| i + idle)
}

fn is_exists(l: &Line) -> bool {
    l.dir == Direction::Received && l.text.starts_with("* ") && l.text.ends_with(" EXISTS")
}

#[tokio::test]
async fn idle_wait_is_woken_by_the_exists_push_and_times_it() {
    let mock = start(&[]).await;
    let id = "idle-push-1@operateur.mock.mssante.test";
    let (transcript, task) = start_wait(&mock.env, id, WaitMethod::Idle).await;
    let idling = seen(&transcript, "the IDLE continuation", |_| idle_accepted(&transcript.lines()).is_some()).await;
    submit(&mock.env, id).await;
    let w = task.await.unwrap();
    assert_eq!(w.method, WaitMethod::Idle);
    assert!(w.uid.is_some(), "{w:?}");
    assert_eq!(w.searches, 2, "one search before IDLE (nothing), one after the push: {w:?}");
    let (exists_at, found_at) = (w.exists_at.expect("EXISTS timestamp"), w.found_at.expect("found timestamp"));
    assert!(exists_at >= idling, "the EXISTS came after the IDLE began");
    assert!(found_at >= exists_at);
    let lines = transcript.lines();
    let plus = idle_accepted(&lines).unwrap();
    let exists = position(&lines[plus..], is_exists).map(|i| i + plus).expect("an EXISTS pushed during IDLE");
    let done = position(&lines, |l| l.dir == Direction::Sent && l.text == "DONE").expect("DONE sent");
    assert!(plus < exists && exists < done, "push path: + idling, then EXISTS, then DONE");
    eprintln!("mock: found {:?} after the EXISTS push", found_at - exists_at);
}

#[tokio::test]
async fn without_idle_announced_the_wait_polls() {
    let mock = start(&[Fault::NoIdle]).await;
    let id = "no-idle-1@operateur.mock.mssante.test";
    let (transcript, task) = start_wait(&mock.env, id, WaitMethod::Idle).await;
    seen(&transcript, "its first search", |l| received(l, "* SEARCH")).await;
    submit(&mock.env, id).await;
    let w = task.await.unwrap();
    assert_eq!(w.method, WaitMethod::Polling { interval: Duration::from_millis(200) });
    assert!(w.uid.is_some() && w.searches >= 2, "{w:?}");
    assert!(w.exists_at.is_some(), "the NOOP reported the new message: {w:?}");
    let lines = transcript.lines();
    assert!(!lines.iter().any(|l| l.dir == Direction::Sent && l.text.ends_with(" IDLE")), "IDLE was never sent");
    assert!(lines.iter().any(|l| l.dir == Direction::Sent && l.text.ends_with(" NOOP")), "it polled with NOOP");
}

#[tokio::test]
async fn the_bench_sample_path_works_on_the_mock_and_cleans_up() {
    let mock = start(&[]).await;
    let before = mock.inbox_len("per2");
    let mut peer = Peer::connect(&mock.profile).await.expect("bench clients");
    let s = peer.sample(0).await.expect("one sample");
    // The mock delivers before its 250: the push may precede the 250, never the search.
    let exists = s.exists.expect("seen through the push");
    assert!(s.idle_seen >= exists);
    assert_eq!(mock.inbox_len("per2"), before + 1);
    peer.close().await;
    assert_eq!(mock.inbox_len("per2"), before, "the bench expunged its message");
}
