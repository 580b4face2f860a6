//! Scale (issue #8 point 4): a generated catalogue of 1,000 scenarios against the mock operator
//! (run in its own process, so the harness's peak RSS is measured alone).
//! Wall time must grow linearly, peak memory stay flat (< 100 MB RSS), and `list` / `validate`
//! answer in < 200 ms.
//!
//! Every figure is a child process of the real `mssconf` executable, so its RSS is its own.
//! The large catalogue repeats the mix of the small one ([`generate_cycled`]), so a run of 1,000
//! compares with ten runs of 100 measured in the same bench.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::child::{self, LoggedRun as ChildRun, median};
use super::generate::{Generated, generate_cycled};
use super::{BenchConfig, Figure, Measured};

/// Peak RSS goal of a whole run, MB.
pub const GOAL_RSS_MB: f64 = 100.0;
/// `list` / `validate` goal on the large catalogue, ms.
pub const GOAL_CATALOGUE_MS: f64 = 200.0;

/// Scenario counts: the small (baseline) run and the large one.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub small: usize,
    pub large: usize,
    /// Timed repetitions of `list`, `validate` and the process floor (the median is kept).
    pub repeats: usize,
}

impl Counts {
    pub fn for_mode(quick: bool) -> Counts {
        if quick { Counts { small: 50, large: 200, repeats: 5 } } else { Counts { small: 100, large: 1000, repeats: 7 } }
    }
}

/// A run of a whole catalogue gets this long before it is killed (1,000 scenarios take minutes).
fn run_limit(count: usize) -> Duration {
    Duration::from_secs(60 + count as u64)
}

const QUICK_LIMIT: Duration = Duration::from_secs(30);

pub async fn measure(cfg: &BenchConfig) -> Vec<Measured> {
    let cfg = cfg.clone();
    match tokio::task::spawn_blocking(move || measure_blocking(&cfg)).await {
        Ok(lines) => lines,
        Err(e) => vec![Measured::skipped("scale", format!("the measuring task failed: {e}"))],
    }
}

fn measure_blocking(cfg: &BenchConfig) -> Vec<Measured> {
    let counts = Counts::for_mode(cfg.quick);
    let dir = cfg.work_dir.join("scale");
    let root = cfg.root.canonicalize().unwrap_or_else(|_| cfg.root.clone());
    let gen_small = generate_cycled(&root, &dir.join(format!("catalogue-{}", counts.small)), counts.small, counts.small);
    let gen_large = generate_cycled(&root, &dir.join(format!("catalogue-{}", counts.large)), counts.large, counts.small);
    let (small, large) = match (gen_small, gen_large) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(e), _) | (_, Err(e)) => return vec![Measured::skipped("scale", format!("cannot generate the catalogue: {e}"))],
    };
    let mut lines = catalogue_figures(cfg, &large, counts);
    lines.extend(run_figures(cfg, &dir, &small, &large));
    lines
}

/// `validate` and `list` on the large catalogue: median wall time vs the goal and vs the floor
/// of starting the same executable (`--version`).
fn catalogue_figures(cfg: &BenchConfig, g: &Generated, counts: Counts) -> Vec<Measured> {
    let n = g.files.len();
    let root = g.root.to_string_lossy().to_string();
    let logs = g.root.join("timing");
    let floor = timed(cfg, &["--version"], &g.root, &logs, counts.repeats, None);
    let mut lines = Vec::new();
    // The first run of each command fills the parse cache (`<root>/.mssconf_cache`); the timed
    // runs after it read it, as an operator's next `validate` after editing a few files would.
    // The `no cache` line is every run's cost without it (a fresh clone, or `--no-cache`).
    let valid = format!("{n} scenario(s) valid");
    for (name, args, expect) in [
        (format!("validate {n} scenarios"), vec!["validate", "--root", root.as_str()], &valid),
        (format!("list {n} scenarios"), vec!["list", "--root", root.as_str()], &format!("{n} scenario(s)")),
        (format!("validate {n} scenarios, no cache"), vec!["validate", "--no-cache", "--root", root.as_str()], &valid),
    ] {
        if let Err(reason) = timed(cfg, &args, &g.root, &logs, 1, Some(expect)) {
            lines.push(Measured::skipped(&name, reason));
            continue;
        }
        match timed(cfg, &args, &g.root, &logs, counts.repeats, Some(expect)) {
            Err(reason) => lines.push(Measured::skipped(&name, reason)),
            Ok(ms) => {
                lines.push(Figure::new(&name, ms, "ms", ("goal", GOAL_CATALOGUE_MS, "ms")));
                match &floor {
                    Ok(floor) => lines.push(Figure::new(&format!("{name}, over process start"), ms, "ms", ("mssconf --version", *floor, "ms"))),
                    Err(reason) => lines.push(Measured::skipped(&format!("{name}, over process start"), reason.clone())),
                }
            }
        }
    }
    lines
}

/// Median wall time in ms of `repeats` runs of `mssconf args`; each must exit 0 and, when
/// `expect` is given, print it (stdout or stderr).
fn timed(cfg: &BenchConfig, args: &[&str], cwd: &Path, logs: &Path, repeats: usize, expect: Option<&str>) -> Result<f64, String> {
    let mut samples = Vec::new();
    for _ in 0..repeats.max(1) {
        let run = child::measure(&cfg.exe, args, cwd, logs, QUICK_LIMIT)?;
        check(&run, args, expect)?;
        samples.push(run.wall);
    }
    Ok(median(samples).as_secs_f64() * 1000.0)
}

fn check(run: &ChildRun, args: &[&str], expect: Option<&str>) -> Result<(), String> {
    if run.code != Some(0) {
        return Err(format!("mssconf {} exited with {:?}: {}", args.join(" "), run.code, run.stderr_tail(3)));
    }
    if let Some(expect) = expect {
        let out = std::fs::read_to_string(&run.stdout).unwrap_or_default() + &std::fs::read_to_string(&run.stderr).unwrap_or_default();
        if !out.contains(expect) {
            return Err(format!("mssconf {} did not say `{expect}`", args.join(" ")));
        }
    }
    Ok(())
}

/// `run` of both catalogues against a mock operator child: wall time (linearity) and peak RSS
/// (flatness, and the goal).
fn run_figures(cfg: &BenchConfig, dir: &Path, small: &Generated, large: &Generated) -> Vec<Measured> {
    let (ns, nl) = (small.files.len(), large.files.len());
    let s = run_catalogue(cfg, dir, small);
    let l = run_catalogue(cfg, dir, large);
    let (s, l) = match (s, l) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(e), _) | (_, Err(e)) => {
            return ["run", "peak RSS"].iter().map(|n| Measured::skipped(&format!("{n}, {nl} scenarios"), e.clone())).collect();
        }
    };
    let times = nl as f64 / ns as f64;
    vec![
        Figure::new(
            &format!("run {nl} scenarios"),
            l.wall.as_secs_f64(),
            "s",
            (&format!("{ns} scenarios ×{}", crate::load::number::number(times)), s.wall.as_secs_f64() * times, "s"),
        ),
        Figure::new(&format!("peak RSS, {nl} scenarios"), l.max_rss_mb(), "MB", (&format!("{ns} scenarios"), s.max_rss_mb(), "MB")),
        Figure::new(&format!("peak RSS, {nl} scenarios, vs goal"), l.max_rss_mb(), "MB", ("goal", GOAL_RSS_MB, "MB")),
    ]
}

/// One `mssconf run` of a generated catalogue against a mock operator in its own process (so
/// the peak RSS is the harness's alone: the mock keeps every delivered message); every
/// scenario must pass.
fn run_catalogue(cfg: &BenchConfig, dir: &Path, g: &Generated) -> Result<ChildRun, String> {
    let n = g.files.len();
    let report: PathBuf = dir.join(format!("run-{n}"));
    let _ = std::fs::remove_dir_all(&report);
    let mock_dir = dir.join(format!("mock-{n}"));
    std::fs::create_dir_all(&mock_dir).map_err(|e| format!("cannot create {}: {e}", mock_dir.display()))?;
    let mock = child::start_mock(&cfg.exe, &mock_dir, &[])?;
    let profile = mock.profile().to_string_lossy().to_string();
    let (root, report_arg) = (g.root.to_string_lossy().to_string(), report.to_string_lossy().to_string());
    let args = ["run", "--root", root.as_str(), "--target", profile.as_str(), "--report-dir", report_arg.as_str()];
    let run = child::measure(&cfg.exe, &args, &g.root, &dir.join(format!("run-{n}")), run_limit(n));
    mock.stop();
    let run = run?;
    if run.code != Some(0) {
        return Err(format!("run of {n} scenarios did not pass (exit {:?}; see {}): {}", run.code, report.display(), run.stderr_tail(2)));
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_counts_are_smaller_and_the_large_run_repeats_the_small_mix() {
        let (q, f) = (Counts::for_mode(true), Counts::for_mode(false));
        assert!(q.large < f.large && q.small < f.small);
        assert_eq!(f.large, 1000, "issue #8: a catalogue of 1,000 scenarios");
        for c in [q, f] {
            assert_eq!(c.large % c.small, 0, "the large catalogue is a whole number of small ones");
        }
    }
}
