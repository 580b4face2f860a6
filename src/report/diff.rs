//! Comparing two runs (`mssconf diff OLD NEW`): what newly fails, what was fixed, what became
//! flaky, and which scenarios became much slower or faster. Scenarios are matched by id.
//!
//! A regression is a scenario that passed in OLD (`pass` or `flaky`) and fails or ends in error
//! in NEW, or one present in OLD that is `flaky` in NEW and was not before. Scenarios only in
//! NEW are listed as added, never as regressions. A scenario newly in error (a token that could
//! not be renewed, a server saying "try later") is listed apart from the newly failing ones,
//! with its cause: it was not judged, it is not « non conforme ».

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::record::{Outcome, RunRecord, ScenarioRecord};

/// Durations below this count as this much when comparing timings: tiny scenarios jitter.
pub const TIMING_FLOOR_MS: u64 = 50;
/// A timing change is reported when one run took more than this many times the other.
pub const TIMING_RATIO: f64 = 2.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: String,
    pub old: Outcome,
    pub new: Outcome,
    /// NEW's reason (first failed check, error, or how the flaky run went).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub id: String,
    pub old_ms: u64,
    pub new_ms: u64,
    /// NEW / OLD, both floored at [`TIMING_FLOOR_MS`].
    pub ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Added {
    pub id: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunDiff {
    pub old_run: String,
    pub new_run: String,
    pub newly_failing: Vec<Change>,
    /// Passed in OLD, ended in error in NEW: not judged (the reason says why).
    pub newly_in_error: Vec<Change>,
    pub newly_flaky: Vec<Change>,
    pub fixed: Vec<Change>,
    pub still_failing: Vec<Change>,
    pub no_longer_flaky: Vec<Change>,
    /// Any other outcome change (e.g. skipped ↔ passed, interrupted).
    pub other_changes: Vec<Change>,
    pub added: Vec<Added>,
    pub removed: Vec<String>,
    pub slower: Vec<Timing>,
    pub faster: Vec<Timing>,
}

fn passed(o: Outcome) -> bool {
    matches!(o, Outcome::Pass | Outcome::Flaky)
}

fn failed(o: Outcome) -> bool {
    matches!(o, Outcome::Fail | Outcome::Error)
}

fn ran(o: Outcome) -> bool {
    !matches!(o, Outcome::Skip | Outcome::Interrupted)
}

impl RunDiff {
    pub fn compare(old: &RunRecord, new: &RunRecord) -> Self {
        let before: BTreeMap<&str, &ScenarioRecord> = old.scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        let after: BTreeMap<&str, &ScenarioRecord> = new.scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut d = RunDiff { old_run: old.run_id.clone(), new_run: new.run_id.clone(), ..Default::default() };
        for (id, n) in &after {
            let Some(o) = before.get(id) else {
                d.added.push(Added { id: id.to_string(), outcome: n.outcome });
                continue;
            };
            d.classify(Change { id: id.to_string(), old: o.outcome, new: n.outcome, reason: n.reason.clone() });
            if ran(o.outcome) && ran(n.outcome) {
                d.time(id, o.duration_ms, n.duration_ms);
            }
        }
        d.removed = before.keys().filter(|id| !after.contains_key(*id)).map(|id| id.to_string()).collect();
        d
    }

    fn classify(&mut self, c: Change) {
        let list = match (c.old, c.new) {
            (o, Outcome::Error) if passed(o) => &mut self.newly_in_error,
            (o, n) if passed(o) && failed(n) => &mut self.newly_failing,
            (o, Outcome::Flaky) if o != Outcome::Flaky => &mut self.newly_flaky,
            (o, Outcome::Pass) if failed(o) => &mut self.fixed,
            (o, n) if failed(o) && failed(n) => &mut self.still_failing,
            (Outcome::Flaky, Outcome::Pass) => &mut self.no_longer_flaky,
            (o, n) if o != n => &mut self.other_changes,
            _ => return,
        };
        list.push(c);
    }

    fn time(&mut self, id: &str, old_ms: u64, new_ms: u64) {
        let ratio = new_ms.max(TIMING_FLOOR_MS) as f64 / old_ms.max(TIMING_FLOOR_MS) as f64;
        let t = Timing { id: id.to_string(), old_ms, new_ms, ratio };
        if ratio > TIMING_RATIO {
            self.slower.push(t);
        } else if ratio < 1.0 / TIMING_RATIO {
            self.faster.push(t);
        }
    }

    /// Newly failing, newly in error and newly flaky: what makes `mssconf diff` exit 1 (a
    /// night in error needs a look too, though it says nothing of conformance).
    pub fn regressions(&self) -> usize {
        self.newly_failing.len() + self.newly_in_error.len() + self.newly_flaky.len()
    }

    /// The human-readable comparison printed by `mssconf diff`.
    pub fn render_text(&self) -> String {
        let mut out = format!("comparing run {} (old) with run {} (new)\n", self.old_run, self.new_run);
        changes(&mut out, "REGRESSION newly failing", &self.newly_failing);
        changes(&mut out, "REGRESSION newly in error, not judged (not « non conforme »)", &self.newly_in_error);
        changes(&mut out, "REGRESSION newly flaky", &self.newly_flaky);
        changes(&mut out, "fixed", &self.fixed);
        changes(&mut out, "still failing", &self.still_failing);
        changes(&mut out, "no longer flaky", &self.no_longer_flaky);
        changes(&mut out, "other outcome changes", &self.other_changes);
        if !self.added.is_empty() {
            let _ = writeln!(out, "added ({}):", self.added.len());
            for a in &self.added {
                let _ = writeln!(out, "  {}  {}", a.id, a.outcome.name());
            }
        }
        if !self.removed.is_empty() {
            let _ = writeln!(out, "removed ({}): {}", self.removed.len(), self.removed.join(", "));
        }
        timings(&mut out, "slower", &self.slower);
        timings(&mut out, "faster", &self.faster);
        let _ = writeln!(
            out,
            "{} regression(s): {} newly failing, {} newly in error, {} newly flaky; {} fixed; {} still failing; {} slower, {} faster",
            self.regressions(),
            self.newly_failing.len(),
            self.newly_in_error.len(),
            self.newly_flaky.len(),
            self.fixed.len(),
            self.still_failing.len(),
            self.slower.len(),
            self.faster.len()
        );
        out
    }
}

fn changes(out: &mut String, title: &str, list: &[Change]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", list.len());
    for c in list {
        let reason = c.reason.as_deref().filter(|_| c.new != Outcome::Pass).map(|r| format!(": {r}")).unwrap_or_default();
        let _ = writeln!(out, "  {}  {} -> {}{reason}", c.id, c.old.name(), c.new.name());
    }
}

fn timings(out: &mut String, title: &str, list: &[Timing]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{title} by more than {TIMING_RATIO}x ({}; durations under {TIMING_FLOOR_MS} ms count as {TIMING_FLOOR_MS} ms):",
        list.len()
    );
    for t in list {
        let _ = writeln!(out, "  {}  {} ms -> {} ms ({:.1}x)", t.id, t.old_ms, t.new_ms, t.ratio);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, scenarios: &[(&str, Outcome, u64)]) -> RunRecord {
        let mut r = crate::report::tests::empty_record();
        r.run_id = id.into();
        for (sid, outcome, ms) in scenarios {
            let mut s: ScenarioRecord = serde_json::from_value(serde_json::json!({
                "id": sid, "name": format!("general::{sid}"), "title": "t", "title_en": null, "description": null,
                "requirements": [], "profile": "general", "tags": [], "confidence": null, "file": "f", "file_sha256": "0",
                "outcome": "pass", "reason": null, "started": null, "duration_ms": 0, "steps": [], "transcript": [],
                "proofs": [], "messages": []
            }))
            .unwrap();
            s.outcome = *outcome;
            s.duration_ms = *ms;
            s.reason = (*outcome != Outcome::Pass).then(|| format!("why {sid}"));
            r.scenarios.push(s);
        }
        r
    }

    #[test]
    fn outcome_changes_are_classified() {
        use Outcome::*;
        let old = run("old", &[("a", Pass, 100), ("b", Fail, 100), ("c", Pass, 100), ("d", Error, 100), ("e", Flaky, 100), ("f", Skip, 0), ("g", Pass, 100), ("gone", Pass, 1)]);
        let new = run("new", &[("a", Fail, 100), ("b", Pass, 100), ("c", Flaky, 100), ("d", Fail, 100), ("e", Pass, 100), ("f", Pass, 100), ("g", Pass, 100), ("new1", Error, 5)]);
        let d = RunDiff::compare(&old, &new);
        let ids = |l: &[Change]| l.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.newly_failing), ["a"]);
        assert_eq!(ids(&d.newly_flaky), ["c"]);
        assert_eq!(ids(&d.fixed), ["b"]);
        assert_eq!(ids(&d.still_failing), ["d"]);
        assert_eq!(ids(&d.no_longer_flaky), ["e"]);
        assert_eq!(ids(&d.other_changes), ["f"]);
        assert_eq!(d.added, [Added { id: "new1".into(), outcome: Error }]);
        assert_eq!(d.removed, ["gone"]);
        assert_eq!(d.regressions(), 2);
        let text = d.render_text();
        assert!(text.contains("REGRESSION newly failing (1):\n  a  pass -> fail: why a\n"), "{text}");
        assert!(text.contains("fixed (1):\n  b  fail -> pass\n"), "{text}");
    }

    #[test]
    fn a_flaky_scenario_failing_now_is_newly_failing() {
        let d = RunDiff::compare(&run("o", &[("a", Outcome::Flaky, 10)]), &run("n", &[("a", Outcome::Fail, 10)]));
        assert_eq!(d.newly_failing.len(), 1);
    }

    /// A scenario that errs (a token renewal refused, a 421) is shown as an error with its
    /// cause, apart from the failures (issue #20 item 4).
    #[test]
    fn a_scenario_newly_in_error_is_listed_apart_from_failures() {
        let old = run("o", &[("a", Outcome::Pass, 10), ("b", Outcome::Flaky, 10), ("c", Outcome::Pass, 10)]);
        let mut new = run("n", &[("a", Outcome::Error, 10), ("b", Outcome::Error, 10), ("c", Outcome::Fail, 10)]);
        new.scenarios[0].reason = Some("unavailable: renewal of the token of mailbox `per1` failed".into());
        let d = RunDiff::compare(&old, &new);
        let ids = |l: &[Change]| l.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!((ids(&d.newly_in_error), ids(&d.newly_failing)), (vec!["a".to_string(), "b".into()], vec!["c".to_string()]));
        assert_eq!(d.regressions(), 3);
        let text = d.render_text();
        assert!(
            text.contains("REGRESSION newly in error, not judged (not « non conforme ») (2):\n  a  pass -> error: unavailable: renewal of the token of mailbox `per1` failed\n"),
            "{text}"
        );
        assert!(text.contains("REGRESSION newly failing (1):\n  c  pass -> fail"), "{text}");
    }

    #[test]
    fn timing_changes_over_twice_in_both_directions_ignoring_tiny_scenarios() {
        use Outcome::*;
        let old = run("o", &[("slow", Pass, 100), ("fast", Pass, 1000), ("same", Pass, 100), ("tiny", Pass, 5), ("tiny-to-big", Pass, 10), ("skipped", Skip, 0)]);
        let new = run("n", &[("slow", Pass, 201), ("fast", Fail, 400), ("same", Pass, 200), ("tiny", Pass, 45), ("tiny-to-big", Pass, 500), ("skipped", Pass, 900)]);
        let d = RunDiff::compare(&old, &new);
        let ids = |l: &[Timing]| l.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.slower), ["slow", "tiny-to-big"]);
        assert_eq!(ids(&d.faster), ["fast"]);
        assert!((d.slower[1].ratio - 10.0).abs() < 1e-9, "10 ms counts as 50 ms");
        assert!(d.render_text().contains("  slow  100 ms -> 201 ms (2.0x)"));
    }

    #[test]
    fn identical_runs_have_no_regression() {
        let r = run("x", &[("a", Outcome::Pass, 100), ("b", Outcome::Fail, 100)]);
        let d = RunDiff::compare(&r, &r);
        assert_eq!(d.regressions(), 0);
        assert_eq!(d.still_failing.len(), 1);
        assert!(d.slower.is_empty() && d.faster.is_empty() && d.other_changes.is_empty());
    }
}
