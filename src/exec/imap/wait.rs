//! Delivery detection: wait until a message matching a search appears in a folder.
//!
//! With IDLE (RFC 2177) the harness searches, idles until the server pushes `* n EXISTS`, then
//! sends DONE and the next search together, so a delivery is seen one round trip after the
//! server announces it. Searches after the first look only at UIDs from the SELECT's UIDNEXT up.
//! Without IDLE it polls (NOOP + UID SEARCH) every 200 ms, doubling up to 1 s. A caller may ask
//! for polling at a fixed pace ([`ImapSession::wait_for_using`]): the bench's baseline.
//!
//! The outcome carries two instants for delivery-detection timing: when the `* n EXISTS` that
//! announced new mail came off the connection, and when the search that found the message ended.
//!
//! Waiting (idling, sleeping) never goes past the caller's timeout; a command already sent when
//! the timeout falls (DONE, the last search) is completed within the response timeout.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::error::ImapError;
use super::response::{Kind, Status, classify, untagged_exists, untagged_search};
use super::session::{ImapSession, Next};
use super::wire::{Deadline, Record};

const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(1);
/// More searches than this (a server pushing EXISTS without the message ever matching) and the
/// harness stops waiting.
const MAX_ROUNDS: u32 = 200;

/// How the harness waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitMethod {
    /// IDLE, woken by `* n EXISTS`.
    Idle,
    /// NOOP + UID SEARCH, first after `interval`, then doubling up to 1 s (or up to `interval`
    /// when it is longer: a fixed pace).
    Polling { interval: Duration },
}

/// The outcome of [`ImapSession::wait_for`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitOutcome {
    /// The highest matching UID, `None` if nothing matched before the timeout.
    pub uid: Option<u32>,
    pub method: WaitMethod,
    /// From the call to the search that found the message (or to giving up).
    pub elapsed: Duration,
    /// UID SEARCH commands sent.
    pub searches: u32,
    /// The last status that matters: the SELECT's if it failed, else the last search's.
    pub status: Status,
    /// When the `* n EXISTS` announcing new mail during the wait (after its first search was
    /// sent) was read; `None` when the message was there from the start or none was announced.
    #[serde(skip)]
    pub exists_at: Option<std::time::Instant>,
    /// When the search that found the message was written (with DONE, after a push).
    #[serde(skip)]
    pub search_sent_at: Option<std::time::Instant>,
    /// When the response to the search that found the message was complete.
    #[serde(skip)]
    pub found_at: Option<std::time::Instant>,
}

/// A search's result, and when it came.
struct Searched {
    uids: Vec<u32>,
    status: Status,
    sent_at: Instant,
    at: Instant,
    /// `* n EXISTS` changed while the search ran: it may have missed the newest mail.
    announced_meanwhile: bool,
}

/// Why an IDLE round ended.
enum IdleEnd {
    /// The server announced `* n EXISTS`; the search sent with DONE.
    Exists(Searched),
    /// The wait's deadline fell.
    Deadline,
    /// The server refused IDLE or ended it by itself: this status.
    Ended(Status),
}

impl ImapSession {
    /// Selects `folder` and waits up to `timeout` for a message matching `criteria` (IMAP search
    /// syntax). A failed SELECT or SEARCH ends the wait with that status.
    pub async fn wait_for(
        &mut self,
        folder: &str,
        criteria: &str,
        timeout: Duration,
    ) -> Result<WaitOutcome, ImapError> {
        self.wait_for_using(folder, criteria, timeout, WaitMethod::Idle).await
    }

    /// [`wait_for`](Self::wait_for) with the method chosen: `Idle` uses IDLE when the server
    /// announces it (else polls from 200 ms); `Polling { interval }` polls even when IDLE is
    /// there, starting at `interval` (1 s and more: a fixed pace).
    pub async fn wait_for_using(
        &mut self,
        folder: &str,
        criteria: &str,
        timeout: Duration,
        preferred: WaitMethod,
    ) -> Result<WaitOutcome, ImapError> {
        let start = Instant::now();
        let deadline = Deadline {
            at: start + timeout,
            budget: timeout,
        };
        let selected = self.select(folder).await?;
        let (mut method, first_interval) = match preferred {
            WaitMethod::Polling { interval } => (preferred, interval),
            WaitMethod::Idle if self.has_capability("IDLE").await? => (preferred, POLL_FIRST),
            WaitMethod::Idle => (WaitMethod::Polling { interval: POLL_FIRST }, POLL_FIRST),
        };
        let max_interval = first_interval.max(POLL_MAX);
        let mut outcome = WaitOutcome {
            uid: None,
            method,
            elapsed: Duration::ZERO,
            searches: 0,
            status: selected.status,
            exists_at: None,
            search_sent_at: None,
            found_at: None,
        };
        if !outcome.status.is_ok() {
            outcome.elapsed = start.elapsed();
            return Ok(outcome);
        }
        let mut interval = first_interval;
        let waiting_from = Instant::now();
        // Mail that arrives from now on gets a UID from UIDNEXT up: later searches look only
        // there, so their cost does not grow with the mailbox.
        let newer = selected.uid_next.map(|n| format!("UID {n}:* {criteria}"));
        let mut searched = self.search(criteria).await?;
        loop {
            outcome.searches += 1;
            outcome.status = searched.status;
            outcome.uid = searched.uids.iter().copied().max();
            outcome.elapsed = searched.at - start;
            if outcome.uid.is_some() {
                outcome.found_at = Some(searched.at.into_std());
                outcome.search_sent_at = Some(searched.sent_at.into_std());
                let announced = outcome.searches > 1;
                outcome.exists_at = self.exists_at.filter(|&t| announced && t >= waiting_from).map(Instant::into_std);
            }
            if outcome.uid.is_some() || !outcome.status.is_ok() || searched.at >= deadline.at {
                outcome.method = method;
                return Ok(outcome);
            }
            if outcome.searches >= MAX_ROUNDS {
                break;
            }
            let next = newer.as_deref().unwrap_or(criteria);
            if searched.announced_meanwhile {
                // New mail announced during the search: it may have missed it.
                searched = self.search(next).await?;
                continue;
            }
            searched = match method {
                WaitMethod::Idle => match self.idle_until_exists(deadline, next).await? {
                    IdleEnd::Exists(s) => s,
                    IdleEnd::Deadline => break,
                    IdleEnd::Ended(status) if status.is_ok() => self.search(next).await?,
                    IdleEnd::Ended(status) => {
                        self.transcript()
                            .note(&format!("IDLE refused ({status}): polling instead"));
                        method = WaitMethod::Polling { interval };
                        self.search(next).await?
                    }
                },
                WaitMethod::Polling { .. } => {
                    if !self.poll_pause(interval, deadline).await? {
                        break;
                    }
                    interval = (interval * 2).min(max_interval);
                    self.search(next).await?
                }
            };
        }
        outcome.method = method;
        outcome.elapsed = start.elapsed();
        Ok(outcome)
    }

    /// `UID SEARCH criteria`, timed, noting whether new mail was announced meanwhile.
    async fn search(&mut self, criteria: &str) -> Result<Searched, ImapError> {
        let before = self.exists;
        let sent_at = Instant::now();
        let (uids, status) = self.uid_search(criteria).await?;
        Ok(Searched {
            uids,
            status,
            sent_at,
            at: Instant::now(),
            announced_meanwhile: self.exists != before,
        })
    }

    /// Sleeps `interval` (cut at the deadline), then NOOP so the server can announce new mail.
    /// False when the deadline fell.
    async fn poll_pause(&mut self, interval: Duration, deadline: Deadline) -> Result<bool, ImapError> {
        let wake = (Instant::now() + interval).min(deadline.at);
        tokio::time::sleep_until(wake).await;
        if Instant::now() >= deadline.at {
            return Ok(false);
        }
        self.noop().await?;
        Ok(true)
    }

    /// One IDLE round: IDLE, wait for `* n EXISTS` or the deadline, DONE. After an EXISTS the
    /// search goes out with DONE, in the same write: the server runs it as soon as IDLE ends
    /// instead of after one more round trip to the harness (a client may send its next command
    /// right after DONE, RFC 2177 §3; pipelining, RFC 3501 §5.5).
    async fn idle_until_exists(&mut self, deadline: Deadline, criteria: &str) -> Result<IdleEnd, ImapError> {
        let (tag, accept) = self.send("IDLE").await?;
        let mut announced = false;
        loop {
            match self.next(&tag, accept, "the IDLE continuation request").await? {
                Next::Continuation(_) => break,
                Next::Tagged(status) => return Ok(IdleEnd::Ended(status)),
                Next::Untagged(msg) => announced |= is_exists(&msg.head()),
            }
        }
        while !announced {
            match self.next(&tag, deadline, "new mail during IDLE").await {
                Ok(Next::Untagged(msg)) => announced = is_exists(&msg.head()),
                Ok(Next::Tagged(status)) => return Ok(IdleEnd::Ended(status)),
                Ok(Next::Continuation(_)) => self.transcript().note("continuation request during IDLE: ignored"),
                Err(ImapError::Timeout { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        let done = Deadline::after(self.timeouts.response);
        if !announced {
            self.wire.write(b"DONE\r\n", Record::Wire, done).await?;
            self.finish(&tag, done, "the end of IDLE").await?;
            return Ok(IdleEnd::Deadline);
        }
        let search_tag = self.new_tag();
        let lines = format!("DONE\r\n{search_tag} UID SEARCH {criteria}\r\n");
        self.wire.write(lines.as_bytes(), Record::Wire, done).await?;
        let sent_at = Instant::now();
        self.finish(&tag, done, "the end of IDLE").await?;
        let before = self.exists;
        let ex = self.finish(&search_tag, done, "the response to UID SEARCH").await?;
        let uids = ex.untagged_heads().filter_map(|h| untagged_search(&h)).flatten().collect();
        Ok(IdleEnd::Exists(Searched {
            uids,
            status: ex.status,
            sent_at,
            at: Instant::now(),
            announced_meanwhile: self.exists != before,
        }))
    }
}

fn is_exists(head: &str) -> bool {
    matches!(classify(head), Kind::Untagged(rest) if untagged_exists(rest).is_some())
}
