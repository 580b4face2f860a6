//! Latency histograms (HdrHistogram, microsecond resolution, 3 significant digits) and the
//! percentiles a report shows.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Longest latency recorded as is; longer ones are clamped (and still counted).
const HIGHEST_US: u64 = 3_600_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl Latencies {
    pub fn new() -> Self {
        // 1 µs .. 1 h at 3 significant digits is a valid, fixed configuration.
        let hist = Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("static histogram bounds");
        Latencies { hist }
    }

    pub fn record(&mut self, latency: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, HIGHEST_US);
        self.hist.saturating_record(us);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn add(&mut self, other: &Latencies) {
        // Same bounds on both sides: cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    pub fn percentiles(&self) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        if self.hist.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: self.hist.len(),
            p50_ms: ms(self.hist.value_at_quantile(0.50)),
            p90_ms: ms(self.hist.value_at_quantile(0.90)),
            p99_ms: ms(self.hist.value_at_quantile(0.99)),
            max_ms: ms(self.hist.max()),
            mean_ms: self.hist.mean() / 1000.0,
        }
    }
}

/// What a report shows of a histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Percentiles {
    /// `p50 1.23 ms, p90 2.5 ms, p99 4.1 ms, max 9.87 ms (n=1234)`
    pub fn line(&self) -> String {
        if self.count == 0 {
            return "no sample".into();
        }
        format!(
            "p50 {} ms, p90 {} ms, p99 {} ms, max {} ms (n={})",
            ms(self.p50_ms),
            ms(self.p90_ms),
            ms(self.p99_ms),
            ms(self.max_ms),
            self.count
        )
    }

    /// The four plotted values, in order p50, p90, p99, max.
    pub fn series(&self) -> [f64; 4] {
        [self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms]
    }
}

fn ms(v: f64) -> String {
    crate::load::number::number(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_samples() {
        let mut h = Latencies::new();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p = h.percentiles();
        assert_eq!(p.count, 100);
        assert!((p.p50_ms - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p90_ms - 90.0).abs() < 0.1, "{p:?}");
        assert!((p.p99_ms - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max_ms - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(p.line(), "p50 50 ms, p90 90 ms, p99 99 ms, max 100 ms (n=100)");
    }

    #[test]
    fn extremes_are_clamped_not_lost() {
        let mut h = Latencies::new();
        h.record(Duration::ZERO);
        h.record(Duration::from_secs(10_000));
        assert_eq!(h.count(), 2);
        assert!(h.percentiles().max_ms >= 3_599_000.0);
        let mut sum = Latencies::new();
        sum.add(&h);
        sum.add(&h);
        assert_eq!(sum.count(), 4);
    }

    #[test]
    fn empty_histogram_says_so() {
        let p = Latencies::new().percentiles();
        assert_eq!((p.count, p.line().as_str()), (0, "no sample"));
    }
}
