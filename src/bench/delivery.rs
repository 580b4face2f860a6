//! Delivery detection (issue #8 point 2): from the SMTP `250` after DATA to the harness seeing
//! the message over IMAP, with IDLE and with the baseline of step-retry runners (check right
//! after the `250`, then every second), side by side on the same messages of the
//! Postfix+Dovecot peer.
//!
//! Each message gives three instants: the `250`, the `* n EXISTS` push read by the IDLE waiter
//! (idling before the message is sent), and the end of the search that found the message. A
//! third waiter runs the harness's own flow, `wait_for` started after the `250` (an immediate
//! search, then IDLE), next to the polling baseline. The harness's own share is the last gap
//! (goal: median within 5 ms); the gap before it is the server's (Dovecot batches mailbox
//! notifications for 500 ms, `NOTIFY_DELAY_MSECS` in its `mailbox-watch.c`).

mod peer;
#[cfg(test)]
mod mock_tests;

use std::time::Duration;

use peer::{POLL_INTERVAL, Peer, Sample};

use super::{BenchConfig, Figure, Measured};

const FULL_COUNT: usize = 30;
const QUICK_COUNT: usize = 8;
/// The goal for the harness's share after the push.
const GOAL_AFTER_PUSH_MS: f64 = 5.0;
/// Dovecot's delay between a mailbox change and the IDLE notification.
const DOVECOT_NOTIFY_DELAY_MS: f64 = 500.0;

const SEEN_MEDIAN: &str = "delivery detection, IDLE (median 250→seen)";
const SEEN_P90: &str = "delivery detection, IDLE (p90 250→seen)";
const FLOW_MEDIAN: &str = "delivery detection, wait_for started after 250 (median 250→seen)";
const FLOW_P90: &str = "delivery detection, wait_for started after 250 (p90 250→seen)";
const AFTER_PUSH_MEDIAN: &str = "detection after EXISTS push (median)";
const AFTER_PUSH_P90: &str = "detection after EXISTS push (p90)";
const HARNESS_AFTER_PUSH: &str = "harness share after EXISTS push (median EXISTS read→search sent)";
const PUSH_MEDIAN: &str = "server EXISTS push after 250 (median)";
const PUSH_FIGURES: [&str; 4] = [AFTER_PUSH_MEDIAN, AFTER_PUSH_P90, HARNESS_AFTER_PUSH, PUSH_MEDIAN];
const NAMES: [&str; 8] = [SEEN_MEDIAN, SEEN_P90, FLOW_MEDIAN, FLOW_P90, AFTER_PUSH_MEDIAN, AFTER_PUSH_P90, HARNESS_AFTER_PUSH, PUSH_MEDIAN];

pub async fn measure(cfg: &BenchConfig) -> Vec<Measured> {
    let Some(profile) = &cfg.peer else {
        return skipped("no peer profile (start scripts/peer/start.sh or pass --peer)");
    };
    let count = if cfg.quick { QUICK_COUNT } else { FULL_COUNT };
    match collect(profile, count).await {
        Ok(samples) => figures(&samples),
        Err(reason) => skipped(&reason),
    }
}

fn skipped(reason: &str) -> Vec<Measured> {
    NAMES.iter().map(|n| Measured::skipped(n, reason)).collect()
}

/// `count` messages, one at a time (concurrent ones would share Dovecot's notification batch).
async fn collect(profile: &std::path::Path, count: usize) -> Result<Vec<Sample>, String> {
    let mut peer = Peer::connect(profile).await?;
    let mut samples = Vec::with_capacity(count);
    let mut failure = None;
    for n in 0..count {
        match peer.sample(n).await {
            Ok(s) => samples.push(s),
            Err(e) => {
                failure = Some(format!("message {}/{count}: {e}", n + 1));
                break;
            }
        }
    }
    peer.close().await;
    match failure {
        Some(reason) => Err(reason),
        None => Ok(samples),
    }
}

/// The figure lines of a set of samples.
fn figures(samples: &[Sample]) -> Vec<Measured> {
    let idle: Vec<f64> = samples.iter().map(|s| ms(s.idle_seen - s.accepted)).collect();
    let poll: Vec<f64> = samples.iter().map(|s| ms(s.poll_seen - s.accepted)).collect();
    let flow: Vec<f64> = samples.iter().map(|s| ms(s.flow_seen - s.accepted)).collect();
    let pushed: Vec<&Sample> = samples.iter().filter(|s| s.exists.is_some()).collect();
    let after_push: Vec<f64> = pushed.iter().filter_map(|s| s.exists.map(|e| ms(s.idle_seen - e))).collect();
    let push: Vec<f64> = pushed.iter().filter_map(|s| s.exists.map(|e| ms(e - s.accepted))).collect();
    let harness: Vec<f64> = pushed.iter().filter_map(|s| Some(ms(s.search_sent? - s.exists?))).collect();
    let baseline = format!("{} s polling", POLL_INTERVAL.as_secs());
    let mut out = vec![
        Figure::new(SEEN_MEDIAN, median(&idle), "ms", (&baseline, median(&poll), "ms")),
        Figure::new(SEEN_P90, p90(&idle), "ms", (&baseline, p90(&poll), "ms")),
        Figure::new(FLOW_MEDIAN, median(&flow), "ms", (&baseline, median(&poll), "ms")),
        Figure::new(FLOW_P90, p90(&flow), "ms", (&baseline, p90(&poll), "ms")),
    ];
    // Samples found before any push (the message beat the IDLE) say nothing about the push path.
    if after_push.len() * 2 < samples.len() {
        let reason = format!("only {}/{} messages were seen through an EXISTS push", after_push.len(), samples.len());
        out.extend(PUSH_FIGURES.map(|n| Measured::skipped(n, &reason)));
        return out;
    }
    out.extend([
        Figure::new(AFTER_PUSH_MEDIAN, median(&after_push), "ms", ("goal", GOAL_AFTER_PUSH_MS, "ms")),
        Figure::new(AFTER_PUSH_P90, p90(&after_push), "ms", ("goal", GOAL_AFTER_PUSH_MS, "ms")),
        Figure::new(HARNESS_AFTER_PUSH, median(&harness), "ms", ("goal", GOAL_AFTER_PUSH_MS, "ms")),
        Figure::new(PUSH_MEDIAN, median(&push), "ms", ("Dovecot notify delay", DOVECOT_NOTIFY_DELAY_MS, "ms")),
    ]);
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile (`q` in 0..=1) of unsorted values; NaN when there are none.
fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (q * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

fn p90(values: &[f64]) -> f64 {
    percentile(values, 0.9)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn sample(t0: Instant, push_ms: Option<u64>, seen_ms: u64, poll_ms: u64) -> Sample {
        let at = |ms| t0 + Duration::from_millis(ms);
        Sample {
            accepted: t0,
            exists: push_ms.map(at),
            search_sent: push_ms.map(|p| at(p) + Duration::from_micros(100)),
            idle_seen: at(seen_ms),
            poll_seen: at(poll_ms),
            flow_seen: at(seen_ms / 2),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!((median(&v), p90(&v), percentile(&v, 0.0)), (3.0, 5.0, 1.0));
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn figures_compare_idle_with_polling_and_the_push() {
        let t0 = Instant::now();
        let samples = [sample(t0, Some(500), 502, 1001), sample(t0, Some(510), 511, 1003), sample(t0, Some(520), 523, 1002)];
        let lines: Vec<String> = figures(&samples).iter().map(ToString::to_string).collect();
        assert_eq!(lines[0], "delivery detection, IDLE (median 250→seen): 511 ms (baseline 1 s polling: 1002 ms, ratio 0.51)");
        assert_eq!(lines[2], "delivery detection, wait_for started after 250 (median 250→seen): 255 ms (baseline 1 s polling: 1002 ms, ratio 0.254)");
        assert_eq!(lines[4], "detection after EXISTS push (median): 2 ms (baseline goal: 5 ms, ratio 0.4)");
        assert_eq!(lines[6], "harness share after EXISTS push (median EXISTS read→search sent): 0.1 ms (baseline goal: 5 ms, ratio 0.02)");
        assert_eq!(lines[7], "server EXISTS push after 250 (median): 510 ms (baseline Dovecot notify delay: 500 ms, ratio 1.02)");
        assert_eq!(lines.len(), NAMES.len());
    }

    #[test]
    fn push_figures_need_most_messages_seen_through_a_push() {
        let t0 = Instant::now();
        let samples = [sample(t0, None, 3, 1001), sample(t0, None, 4, 1001), sample(t0, Some(500), 501, 1001)];
        let lines: Vec<String> = figures(&samples).iter().map(ToString::to_string).collect();
        assert!(lines[4].contains("skipped (only 1/3 messages were seen through an EXISTS push)"), "{}", lines[4]);
    }

    #[tokio::test]
    async fn without_a_peer_every_figure_is_skipped_with_the_reason() {
        let cfg = BenchConfig {
            quick: true,
            root: ".".into(),
            peer: None,
            work_dir: std::env::temp_dir(),
            exe: "mssconf".into(),
            only: vec![],
        };
        let lines = measure(&cfg).await;
        assert_eq!(lines.len(), NAMES.len());
        assert!(lines.iter().all(|l| matches!(l, Measured::Skipped { reason, .. } if reason.contains("no peer profile"))));
    }
}
