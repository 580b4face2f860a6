//! The run's shared book: which messages are in flight, their latencies, counts and errors.
//! Submission workers and IMAP watchers write to it; the report and the progress line read it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::histogram::Latencies;

/// A message between its DATA and its sighting over IMAP.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    recipient: usize,
    /// When the 250 after DATA arrived.
    accepted: Option<Instant>,
    /// When a watcher saw it (possibly before the worker read the 250: delivery can be that fast).
    seen: Option<Instant>,
}

#[derive(Debug)]
pub struct Ledger {
    pub start: Instant,
    max_messages: Option<u64>,
    claimed: AtomicU64,
    next_seq: AtomicU64,
    submitted: AtomicU64,
    verified: AtomicU64,
    /// Microseconds from `start` to the last acceptance / verification.
    last_submitted_us: AtomicU64,
    last_verified_us: AtomicU64,
    in_flight: Mutex<HashMap<u64, InFlight>>,
    submission: Mutex<Latencies>,
    delivery: Mutex<Latencies>,
    errors: Mutex<BTreeMap<String, u64>>,
}

/// Counters at one instant (progress line, report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub submitted: u64,
    pub verified: u64,
    pub errors: u64,
    pub in_flight: u64,
}

impl Ledger {
    pub fn new(max_messages: Option<u64>) -> Self {
        Ledger {
            start: Instant::now(),
            max_messages,
            claimed: AtomicU64::new(0),
            next_seq: AtomicU64::new(1),
            submitted: AtomicU64::new(0),
            verified: AtomicU64::new(0),
            last_submitted_us: AtomicU64::new(0),
            last_verified_us: AtomicU64::new(0),
            in_flight: Mutex::default(),
            submission: Mutex::default(),
            delivery: Mutex::default(),
            errors: Mutex::default(),
        }
    }

    /// A sequence number for one more message, or `None` when the message budget is used up.
    pub fn claim(&self) -> Option<u64> {
        let ok = match self.max_messages {
            None => true,
            Some(max) => self
                .claimed
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| (c < max).then_some(c + 1))
                .is_ok(),
        };
        ok.then(|| self.next_seq.fetch_add(1, Ordering::Relaxed))
    }

    /// The message was not accepted: its slot of the budget goes back.
    fn release(&self) {
        if self.max_messages.is_some() {
            let _ = self.claimed.fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| c.checked_sub(1));
        }
    }

    /// Called before the body is sent, so that a very fast delivery is not missed.
    pub fn expect(&self, seq: u64, recipient: usize) {
        self.book().insert(seq, InFlight { recipient, accepted: None, seen: None });
    }

    /// The server answered 250 to the body `latency` after MAIL FROM was sent.
    pub fn accepted(&self, seq: u64, latency: Duration) {
        let now = Instant::now();
        lock(&self.submission).record(latency);
        self.submitted.fetch_add(1, Ordering::Relaxed);
        self.last_submitted_us.fetch_max(self.since_start(now), Ordering::Relaxed);
        let mut book = self.book();
        let Some(entry) = book.get_mut(&seq) else { return };
        entry.accepted = Some(now);
        if let Some(seen) = entry.seen {
            book.remove(&seq);
            drop(book);
            self.verify(seen.saturating_duration_since(now), seen);
        }
    }

    /// The transaction of `seq` failed (`kind`: a reply code or an error kind).
    pub fn failed(&self, seq: u64, kind: &str) {
        self.book().remove(&seq);
        self.release();
        self.error(kind);
    }

    /// A watcher saw `seq`; false if it is not (or no longer) in flight.
    pub fn seen(&self, seq: u64, at: Instant) -> bool {
        let mut book = self.book();
        let Some(entry) = book.get_mut(&seq) else { return false };
        match entry.accepted {
            Some(accepted) => {
                book.remove(&seq);
                drop(book);
                self.verify(at.saturating_duration_since(accepted), at);
            }
            None => entry.seen = Some(at),
        }
        true
    }

    fn verify(&self, latency: Duration, at: Instant) {
        lock(&self.delivery).record(latency);
        self.verified.fetch_add(1, Ordering::Relaxed);
        self.last_verified_us.fetch_max(self.since_start(at), Ordering::Relaxed);
    }

    pub fn error(&self, kind: &str) {
        *lock(&self.errors).entry(kind.to_string()).or_default() += 1;
    }

    /// Messages accepted (or about to be) that no watcher has seen yet, for `recipient` or all.
    pub fn in_flight(&self, recipient: Option<usize>) -> usize {
        self.book().values().filter(|e| recipient.is_none_or(|r| e.recipient == r)).count()
    }

    /// Gives up on what is still in flight: each is counted as `not-verified`.
    pub fn abandon_in_flight(&self) -> u64 {
        let lost: Vec<InFlight> = self.book().drain().map(|(_, e)| e).collect();
        for e in &lost {
            self.error(if e.accepted.is_some() { "not-verified" } else { "no-reply" });
        }
        lost.len() as u64
    }

    pub fn counts(&self) -> Counts {
        Counts {
            submitted: self.submitted.load(Ordering::Relaxed),
            verified: self.verified.load(Ordering::Relaxed),
            errors: lock(&self.errors).values().sum(),
            in_flight: self.book().len() as u64,
        }
    }

    pub fn submission(&self) -> Latencies {
        lock(&self.submission).clone()
    }

    pub fn delivery(&self) -> Latencies {
        lock(&self.delivery).clone()
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        lock(&self.errors).clone()
    }

    /// From the start to the last acceptance and to the last verification.
    pub fn spans(&self) -> (Duration, Duration) {
        let us = |a: &AtomicU64| Duration::from_micros(a.load(Ordering::Relaxed));
        (us(&self.last_submitted_us), us(&self.last_verified_us))
    }

    fn since_start(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_micros() as u64
    }

    fn book(&self) -> std::sync::MutexGuard<'_, HashMap<u64, InFlight>> {
        lock(&self.in_flight)
    }
}

/// A poisoned lock only means another task panicked mid-update; the counts stay usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_then_seen_and_seen_then_accepted_both_count_once() {
        let l = Ledger::new(None);
        let (a, b) = (l.claim().unwrap(), l.claim().unwrap());
        l.expect(a, 0);
        l.expect(b, 0);
        l.accepted(a, Duration::from_millis(3));
        assert!(l.seen(a, Instant::now()));
        assert!(!l.seen(a, Instant::now()), "a second sighting is not a second delivery");
        assert!(l.seen(b, Instant::now()));
        l.accepted(b, Duration::from_millis(4));
        let c = l.counts();
        assert_eq!((c.submitted, c.verified, c.in_flight, c.errors), (2, 2, 0, 0));
        assert_eq!((l.submission().count(), l.delivery().count()), (2, 2));
    }

    #[tokio::test]
    async fn budget_is_respected_and_failures_give_their_slot_back() {
        let l = Ledger::new(Some(2));
        let a = l.claim().unwrap();
        let _b = l.claim().unwrap();
        assert_eq!(l.claim(), None);
        l.expect(a, 1);
        l.failed(a, "451");
        assert!(l.claim().is_some());
        assert_eq!(l.errors().get("451"), Some(&1));
    }

    #[tokio::test]
    async fn abandoned_messages_are_errors() {
        let l = Ledger::new(None);
        let a = l.claim().unwrap();
        l.expect(a, 0);
        l.accepted(a, Duration::from_millis(1));
        assert_eq!(l.in_flight(Some(0)), 1);
        assert_eq!(l.in_flight(Some(1)), 0);
        assert_eq!(l.abandon_in_flight(), 1);
        assert_eq!(l.errors().get("not-verified"), Some(&1));
        assert_eq!(l.counts().in_flight, 0);
    }
}
