//! Connection pacing per host: at most `rate.max_parallel_connections` connections open at once
//! and `rate.connections_per_second` new ones per second, for every connection a run opens
//! (scenario sessions, TLS handshakes and raw probes, busy retries, HTTP), whatever the number
//! of jobs. Operators limit connections per client address (Exim's `smtp_accept_max`, Postfix's
//! `smtpd_client_connection_count_limit`); a harness that trips them measures nothing true about
//! the operator and may get its address blocked during an audit.
//!
//! One [`Pacing`] lives in the run's `RunEnv`, so parallel scenarios, shards of one process, audit
//! sessions and the conformance test binary all share it. A connection holds its [`Slot`] for its
//! whole life: dropping the slot frees the place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::target::model::Rate;

/// The pacing of one run, one gate per host (host names compared case-insensitively).
pub struct Pacing {
    parallel: u32,
    per_second: u32,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
}

struct HostGate {
    open: Arc<Semaphore>,
    /// The earliest instant the next connection to this host may start.
    next_start: tokio::sync::Mutex<Option<Instant>>,
}

/// The right to keep one connection open to a host; the place frees when it drops.
#[derive(Debug)]
pub struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
    /// How long the connection waited for its place and its start time.
    pub waited: Duration,
}

impl Slot {
    /// A transcript note when the pacing made the connection wait noticeably (50 ms or more),
    /// `None` otherwise.
    pub fn note(&self, pacing: &Pacing, host: &str) -> Option<String> {
        (self.waited >= Duration::from_millis(50)).then(|| {
            format!(
                "pacing: waited {} ms to open this connection to {host} ({})",
                self.waited.as_millis(),
                pacing.describe()
            )
        })
    }
}

impl Pacing {
    /// Zero values are refused when the profile loads; here they are read as 1.
    pub fn new(rate: &Rate) -> Self {
        Pacing {
            parallel: rate.max_parallel_connections.max(1),
            per_second: rate.connections_per_second.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// `at most 4 open at once, 5 new per second, per host`.
    pub fn describe(&self) -> String {
        format!("at most {} open at once, {} new per second, per host", self.parallel, self.per_second)
    }

    /// The spacing between two connection starts to one host.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.per_second
    }

    /// Waits for a place among the host's open connections, then for the host's next start time.
    /// Never fails: the places are held by connections, and every connection has a timeout.
    /// The wait is counted as server wait: it is the server's limits the run respects.
    pub async fn slot(&self, host: &str) -> Slot {
        let requested = Instant::now();
        let gate = self.gate(host);
        let wait = async {
            // The semaphore is never closed, so acquiring cannot fail (an error would mean no cap).
            let permit = gate.open.clone().acquire_owned().await.ok();
            self.next_start(&gate).await;
            permit
        };
        let permit = crate::exec::timing::server(wait).await;
        Slot { _permit: permit, waited: requested.elapsed() }
    }

    /// Waits for the host's next start time only, taking no place among its open connections:
    /// for HTTP requests, whose client reuses its connections and which may be made while a mail
    /// session to the same host holds a place (a token fetched during AUTH would wait on itself).
    pub async fn start(&self, host: &str) -> Duration {
        let requested = Instant::now();
        crate::exec::timing::server(self.next_start(&self.gate(host))).await;
        requested.elapsed()
    }

    async fn next_start(&self, gate: &HostGate) {
        let start = {
            let mut next = gate.next_start.lock().await;
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.interval());
            start
        };
        tokio::time::sleep_until(start).await;
    }

    fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(HostGate {
                    open: Arc::new(Semaphore::new(self.parallel as usize)),
                    next_start: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }
}

/// The least time `connections` connections to one host take under this pacing (the starts are
/// spaced; the first starts at once).
pub fn minimum_time(rate: &Rate, connections: usize) -> Duration {
    Duration::from_secs(1) / rate.connections_per_second.max(1) * (connections.saturating_sub(1) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(parallel: u32, per_second: u32) -> Rate {
        Rate { max_parallel_connections: parallel, connections_per_second: per_second, ..Rate::default() }
    }

    /// Real time (no paused clock in this build): lower bounds on the schedule (a sleep never
    /// ends early), and one upper bound with a wide margin.
    #[tokio::test]
    async fn starts_are_spaced_per_host() {
        let pacing = Pacing::new(&rate(10, 2));
        let t0 = Instant::now();
        let mut slots = Vec::new();
        for _ in 0..3 {
            slots.push(pacing.slot("MX.op.test").await);
        }
        assert!(t0.elapsed() >= Duration::from_millis(1000), "three starts at 0, 500 and 1000 ms: {:?}", t0.elapsed());
        let other = pacing.slot("imap.op.test").await;
        assert!(other.waited < Duration::from_millis(450), "another host has its own spacing: {:?}", other.waited);
        slots.push(pacing.slot("mx.op.test").await);
        assert!(pacing.start("mx.op.test").await > Duration::ZERO);
        assert!(t0.elapsed() >= Duration::from_millis(2000), "host names ignore case, HTTP starts are spaced too: {:?}", t0.elapsed());
    }

    #[tokio::test]
    async fn open_connections_are_capped_until_a_slot_drops() {
        let pacing = Arc::new(Pacing::new(&rate(2, 1000)));
        let a = pacing.slot("mx").await;
        let _b = pacing.slot("mx").await;
        let waiting = {
            let pacing = pacing.clone();
            tokio::spawn(async move { pacing.slot("mx").await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a third connection waits while two are open");
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("freed").expect("task");
        assert!(third.waited >= Duration::from_millis(300), "{:?}", third.waited);
        assert!(third.note(&pacing, "mx").is_some_and(|n| n.contains("at most 2 open at once")));
    }

    #[test]
    fn minimum_time_counts_the_gaps() {
        assert_eq!(minimum_time(&rate(4, 5), 0), Duration::ZERO);
        assert_eq!(minimum_time(&rate(4, 5), 1), Duration::ZERO);
        assert_eq!(minimum_time(&rate(4, 5), 11), Duration::from_secs(2));
    }
}
