//! The load report: what was asked, what was measured, as JSON (`--report`) and as text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::histogram::Percentiles;
use crate::load::number::number;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub target: String,
    /// `127.0.0.1:10587 (STARTTLS)`
    pub submission: String,
    pub imap: String,
    pub sender: String,
    pub recipients: Vec<String>,
    pub concurrency: usize,
    pub message_size: usize,
    pub duration_limit_s: f64,
    pub max_messages: Option<u64>,
    /// Ctrl-C (or a stop) ended the run early: the figures cover what was done until then.
    pub interrupted: bool,
    /// From the first connection to the end of the drain.
    pub wall_s: f64,
    pub submitted: u64,
    pub verified: u64,
    /// `submitted` over the time from the start to the last acceptance.
    pub submitted_per_s: f64,
    /// `verified` over the time from the start to the last verification.
    pub verified_per_s: f64,
    /// MAIL FROM sent → 250 after the body.
    pub submission_latency: Percentiles,
    /// 250 after the body → seen over IMAP.
    pub delivery_latency: Percentiles,
    /// By reply code (`451`, `550`…) or failure kind (`smtp-timeout`, `not-verified`…).
    pub errors: BTreeMap<String, u64>,
}

impl LoadReport {
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The human summary printed at the end of `mssconf load`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let state = if self.interrupted { " (interrupted: partial report)" } else { "" };
        let _ = writeln!(s, "load on {}{state}", self.target);
        let _ = writeln!(
            s,
            "  {} session(s) to {} as {}, {} bytes per message, to {}",
            self.concurrency,
            self.submission,
            self.sender,
            self.message_size,
            self.recipients.join(", ")
        );
        let _ = writeln!(s, "  verified over IMAP at {}", self.imap);
        let _ = writeln!(
            s,
            "  submitted {} ({} msg/s), verified {} ({} msg/s) in {} s",
            self.submitted,
            number(self.submitted_per_s),
            self.verified,
            number(self.verified_per_s),
            number(self.wall_s)
        );
        let _ = writeln!(s, "  submission latency (MAIL FROM → 250): {}", self.submission_latency.line());
        let _ = writeln!(s, "  delivery latency (250 → seen over IMAP): {}", self.delivery_latency.line());
        if self.errors.is_empty() {
            let _ = writeln!(s, "  errors: none");
        } else {
            let list: Vec<String> = self.errors.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
            let _ = writeln!(s, "  errors ({}): {}", self.error_total(), list.join(", "));
        }
        s
    }
}

/// `count / span`, 0 when nothing happened.
pub fn rate(count: u64, span_s: f64) -> f64 {
    if count == 0 || span_s <= 0.0 { 0.0 } else { count as f64 / span_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> LoadReport {
        LoadReport {
            target: "local-peer".into(),
            submission: "127.0.0.1:10587 (STARTTLS)".into(),
            imap: "127.0.0.1:10993 (implicit TLS)".into(),
            sender: "per1".into(),
            recipients: vec!["per2".into()],
            concurrency: 4,
            message_size: 10240,
            duration_limit_s: 10.0,
            max_messages: None,
            interrupted: false,
            wall_s: 10.5,
            submitted: 1000,
            verified: 998,
            submitted_per_s: 100.0,
            verified_per_s: 99.8,
            submission_latency: Percentiles { count: 1000, p50_ms: 4.0, p90_ms: 6.0, p99_ms: 9.5, max_ms: 20.0, mean_ms: 4.4 },
            delivery_latency: Percentiles { count: 998, p50_ms: 12.0, p90_ms: 15.0, p99_ms: 30.0, max_ms: 40.0, mean_ms: 13.0 },
            errors: BTreeMap::from([("451".to_string(), 2), ("not-verified".to_string(), 2)]),
        }
    }

    #[test]
    fn summary_shows_throughput_percentiles_and_errors_by_code() {
        let text = sample().summary();
        assert!(text.contains("submitted 1000 (100 msg/s), verified 998 (99.8 msg/s) in 10.5 s"), "{text}");
        assert!(text.contains("submission latency (MAIL FROM → 250): p50 4 ms, p90 6 ms, p99 9.5 ms, max 20 ms (n=1000)"), "{text}");
        assert!(text.contains("errors (4): 451 ×2, not-verified ×2"), "{text}");
        assert!(!text.contains("interrupted"));
        let partial = LoadReport { interrupted: true, errors: BTreeMap::new(), ..sample() };
        let text = partial.summary();
        assert!(text.contains("interrupted: partial report") && text.contains("errors: none"), "{text}");
    }

    #[test]
    fn report_round_trips_as_json() {
        let r = sample();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"p99_ms\":9.5") && json.contains("\"not-verified\":2"), "{json}");
        assert_eq!(serde_json::from_str::<LoadReport>(&json).unwrap(), r);
    }

    #[test]
    fn rate_of_nothing_is_zero() {
        assert_eq!(rate(0, 0.0), 0.0);
        assert_eq!(rate(10, 0.0), 0.0);
        assert_eq!(rate(10, 2.0), 5.0);
    }
}
