//! One IMAP watcher per recipient mailbox: a single logged-in session that idles on INBOX and,
//! each time the server announces new mail, fetches the envelopes of the new UIDs and matches
//! their Message-IDs against the run's messages in flight. No login per message.
//!
//! Only UIDs above the one the run started at are looked at, with a search that stays on the
//! server's index (`UID n:* NOT UID 1:n-1`, empty when nothing is new). While mail keeps coming
//! the watcher does not idle: one `UID FETCH n:*` per batch takes what is new (the end of each
//! command brings the server's news), and only a fetch that finds nothing sends it back to IDLE.
//! Under load this is one command per batch instead of SELECT, SEARCH, IDLE, DONE and SEARCH.
//!
//! Verified load messages are expunged by UID (UIDPLUS) unless the run keeps them, in batches
//! (when the mailbox is quiet, every `EXPUNGE_BATCH` messages, and at the end): an expunge
//! takes the mailbox lock that deliveries need. Other mail is never touched.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::ledger::Ledger;
use super::login::{Login, Sasl};
use super::message::find_marker;
use crate::secret::SecretSet;
use crate::exec::imap::{ImapError, ImapSession, ImapTimeouts};
use crate::exec::net::{Endpoint, TlsMode};
use crate::exec::transcript::Transcript;

/// How long one wait lasts before the watcher re-checks whether the run is over.
const SLICE: Duration = Duration::from_millis(500);
/// A session is replaced after this many rounds (its transcript is kept in memory).
const ROUNDS_PER_SESSION: u32 = 2000;
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);
/// Verified messages wait for an expunge until this many have gathered (or the mailbox is quiet).
const EXPUNGE_BATCH: usize = 1000;
const FOLDER: &str = "INBOX";

/// What the watchers share.
pub struct WatcherShared {
    pub endpoint: Endpoint,
    pub timeouts: ImapTimeouts,
    pub secrets: SecretSet,
    pub ledger: Arc<Ledger>,
    /// `mssconf-load.<run>.`
    pub marker_prefix: String,
    pub expunge: bool,
}

pub struct Watcher {
    shared: Arc<WatcherShared>,
    login: Login,
    /// Recipient index in the run.
    index: usize,
    session: Option<ImapSession>,
    sessions: u32,
    rounds: u32,
    /// The first UID not yet looked at.
    next_uid: u32,
    /// The last look found new mail: look again before idling.
    busy: bool,
    /// UIDs of verified load messages not yet expunged.
    to_expunge: Vec<u32>,
}

impl Watcher {
    /// Logs in and notes where INBOX stands, before any load message is sent.
    pub async fn start(shared: Arc<WatcherShared>, login: Login, index: usize) -> Result<Watcher, String> {
        let mut w =
            Watcher { shared, login, index, session: None, sessions: 0, rounds: 0, next_uid: 1, busy: false, to_expunge: Vec::new() };
        let mut s = w.open().await?;
        let selected = s.select(FOLDER).await.map_err(|e| imap_kind(&e))?;
        if !selected.status.is_ok() {
            return Err(format!("imap-select: {}", selected.status));
        }
        w.next_uid = match selected.uid_next {
            Some(n) => n,
            None => {
                let (uids, _) = s.uid_search("ALL").await.map_err(|e| imap_kind(&e))?;
                uids.iter().max().map_or(1, |m| m + 1)
            }
        };
        w.session = Some(s);
        Ok(w)
    }

    /// Watches until `drain` holds a deadline and either nothing of this mailbox is in flight any
    /// more or the deadline has passed.
    pub async fn run(mut self, mut drain: watch::Receiver<Option<Instant>>) {
        loop {
            let until = *drain.borrow_and_update();
            let slice = match until {
                Some(until) if Instant::now() >= until || self.shared.ledger.in_flight(Some(self.index)) == 0 => break,
                Some(until) => until.saturating_duration_since(Instant::now()).min(SLICE),
                None => SLICE,
            };
            if let Err(kind) = self.round(slice).await {
                self.shared.ledger.error(&kind);
                self.session = None;
                tokio::time::sleep(RECONNECT_PAUSE).await;
            }
        }
        if let Some(mut s) = self.session.take() {
            // Verification is over: the last expunge is housekeeping, bounded like the logout.
            let flushed = tokio::time::timeout(Duration::from_secs(10), self.expunge(&mut s)).await;
            if let Ok(Err(kind)) = flushed {
                self.shared.ledger.error(&kind);
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), s.logout()).await;
        }
    }

    /// Waits up to `slice` for new mail, then takes what came.
    async fn round(&mut self, slice: Duration) -> Result<(), String> {
        let mut s = match self.session.take() {
            Some(s) if self.rounds < ROUNDS_PER_SESSION => s,
            Some(mut old) => {
                let _ = old.logout().await;
                self.rounds = 0;
                self.open().await?
            }
            None => {
                self.rounds = 0;
                self.open().await?
            }
        };
        self.rounds += 1;
        let result = self.look(&mut s, slice).await;
        if result.is_ok() {
            self.session = Some(s);
        }
        result
    }

    /// While mail keeps coming, takes what is new at once; else waits up to `slice` for news.
    async fn look(&mut self, s: &mut ImapSession, slice: Duration) -> Result<(), String> {
        if self.busy {
            self.busy = self.take(s).await?;
            if self.busy {
                return Ok(());
            }
            if !self.to_expunge.is_empty() {
                // Quiet mailbox: a good moment to expunge.
                return self.expunge(s).await;
            }
        }
        let criteria = if self.next_uid <= 1 { "UID 1:*".to_string() } else { format!("UID {}:* NOT UID 1:{}", self.next_uid, self.next_uid - 1) };
        let outcome = s.wait_for(FOLDER, &criteria, slice).await.map_err(|e| imap_kind(&e))?;
        if !outcome.status.is_ok() {
            return Err("imap-search".into());
        }
        if outcome.uid.is_some_and(|u| u >= self.next_uid) {
            self.busy = self.take(s).await?;
        }
        Ok(())
    }

    /// Fetches the envelopes of UIDs from `next_uid` on, marks the run's messages seen; true if
    /// anything new was there.
    async fn take(&mut self, s: &mut ImapSession) -> Result<bool, String> {
        let fetched = s.command(&format!("UID FETCH {}:* (UID ENVELOPE)", self.next_uid)).await.map_err(|e| imap_kind(&e))?;
        if !fetched.status.is_ok() {
            return Err("imap-fetch".into());
        }
        let now = Instant::now();
        let mut last = None;
        for line in &fetched.untagged {
            // `n:*` names the last message even when it is older than n: only newer UIDs count.
            let Some(uid) = fetched_uid(line).filter(|u| *u >= self.next_uid) else { continue };
            last = last.max(Some(uid));
            if let Some(seq) = find_marker(line, &self.shared.marker_prefix)
                && self.shared.ledger.seen(seq, now)
                && self.shared.expunge
            {
                self.to_expunge.push(uid);
            }
        }
        let Some(last) = last else { return Ok(false) };
        self.next_uid = last + 1;
        if self.to_expunge.len() >= EXPUNGE_BATCH {
            self.expunge(s).await?;
        }
        Ok(true)
    }

    /// Expunges the verified load messages gathered so far, by UID.
    async fn expunge(&mut self, s: &mut ImapSession) -> Result<(), String> {
        for chunk in self.to_expunge.chunks(EXPUNGE_BATCH) {
            let set: Vec<String> = chunk.iter().map(u32::to_string).collect();
            let set = set.join(",");
            s.command(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)")).await.map_err(|e| imap_kind(&e))?;
            s.command(&format!("UID EXPUNGE {set}")).await.map_err(|e| imap_kind(&e))?;
        }
        self.to_expunge.clear();
        Ok(())
    }

    async fn open(&mut self) -> Result<ImapSession, String> {
        self.sessions += 1;
        // A new session has no folder selected: its first round goes through `wait_for`, which
        // selects, before any FETCH (a FETCH first was answered `BAD No folder selected`).
        self.busy = false;
        let name = format!("load-imap#{}.{}", self.index, self.sessions);
        let transcript = Transcript::new(self.shared.secrets.clone()).for_conn(name);
        let tls = &self.login.tls;
        let (mut s, _greeting) =
            ImapSession::connect(&self.shared.endpoint, tls, self.shared.timeouts, transcript).await.map_err(|e| imap_kind(&e))?;
        if self.shared.endpoint.tls == TlsMode::Starttls {
            let (status, facts) = s.starttls(tls).await.map_err(|e| imap_kind(&e))?;
            if facts.is_none() {
                return Err(format!("imap-starttls: {status}"));
            }
        }
        match &self.login.sasl {
            Sasl::Auth { mechanism, credentials } => {
                let ex = s.authenticate(*mechanism, credentials, true).await.map_err(|e| imap_kind(&e))?;
                if !ex.status.is_ok() {
                    return Err(format!("imap-auth: {}", ex.status));
                }
            }
            Sasl::CertificateOnly => return Err("imap-auth: the profile gives no IMAP login for this mailbox".into()),
        }
        Ok(s)
    }
}

/// `* 3 FETCH (UID 17 ENVELOPE …)` → 17.
fn fetched_uid(line: &str) -> Option<u32> {
    let upper = line.to_ascii_uppercase();
    let at = upper.find("UID ")? + 4;
    line[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The error-count key of an IMAP failure.
fn imap_kind(e: &ImapError) -> String {
    match e {
        ImapError::Connect(_) => "imap-connect",
        ImapError::Tls { .. } => "imap-tls",
        ImapError::Timeout { .. } => "imap-timeout",
        ImapError::Closed { .. } => "imap-closed",
        ImapError::Malformed { .. } => "imap-malformed",
        ImapError::Io(_) => "imap-io",
        ImapError::Harness(_) => "harness",
        ImapError::Unavailable(_) => "imap-unavailable",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_read_from_a_fetch_line() {
        assert_eq!(fetched_uid("3 FETCH (UID 17 ENVELOPE (NIL \"x\"))"), Some(17));
        assert_eq!(fetched_uid("3 FETCH (ENVELOPE (NIL) UID 9)"), Some(9));
        assert_eq!(fetched_uid("3 FETCH (FLAGS ())"), None);
    }
}
