//! The cost of connection pacing (issue #22 point 4): the catalogue's wall time against the mock
//! operator with the default pacing of a live profile (4 connections per host at once, 5 new per
//! second), beside the same run with the mock profile's lifted pacing, in the same bench run.
//!
//! Both runs are child `mssconf run --jobs 4` against one `mssconf mock` child. The paced copy
//! of the mock's profile also takes a live profile's step and scenario timeouts: the mock's
//! short ones (meant to end robustness faults quickly) would cut a step of many probes that the
//! pacing spreads over several seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{BenchConfig, Figure, Measured, child};

const NAME: &str = "catalogue wall time with default pacing (mock, --jobs 4)";
/// A catalogue run that takes longer is stopped (the bench must end).
const RUN_LIMIT: Duration = Duration::from_secs(600);

pub async fn measure(cfg: &BenchConfig) -> Vec<Measured> {
    let dir = cfg.work_dir.join("pacing-cost");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return vec![Measured::skipped(NAME, format!("{}: {e}", dir.display()))];
    }
    let (exe, mock_dir) = (cfg.exe.clone(), dir.clone());
    let mock = match tokio::task::spawn_blocking(move || child::start_mock(&exe, &mock_dir, &[])).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return vec![Measured::skipped(NAME, e)],
        Err(e) => return vec![Measured::skipped(NAME, format!("starting the mock operator: {e}"))],
    };
    let (cfg2, lifted, dir2) = (cfg.clone(), mock.profile().to_path_buf(), dir.clone());
    let result = tokio::task::spawn_blocking(move || compare(&cfg2, &lifted, &dir2)).await;
    let _ = tokio::task::spawn_blocking(move || mock.stop()).await;
    match result {
        Ok(Ok((paced, unpaced))) => vec![Figure::new(NAME, paced, "ms", ("no pacing", unpaced, "ms"))],
        Ok(Err(e)) => vec![Measured::skipped(NAME, e)],
        Err(e) => vec![Measured::skipped(NAME, e.to_string())],
    }
}

/// (paced, unpaced) wall times in milliseconds.
fn compare(cfg: &BenchConfig, lifted: &Path, dir: &Path) -> Result<(f64, f64), String> {
    let paced = paced_copy(lifted, dir)?;
    let unpaced_ms = timed_run(cfg, lifted, &dir.join("unpaced"))?;
    let paced_ms = timed_run(cfg, &paced, &dir.join("paced"))?;
    Ok((paced_ms, unpaced_ms))
}

/// The mock's profile with the default pacing and a live profile's step and scenario timeouts.
fn paced_copy(lifted: &Path, dir: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(lifted).map_err(|e| format!("{}: {e}", lifted.display()))?;
    if !text.contains(mssconf_mock::profile::PACING_LIFTED) {
        return Err("the mock's profile does not hold its pacing lines".into());
    }
    let mut text = text.replace(mssconf_mock::profile::PACING_LIFTED, "");
    for (name, ms) in mssconf_mock::profile::TIMEOUTS {
        let live = match name {
            "step" => 120_000,
            "scenario" => 300_000,
            _ => ms,
        };
        text = text.replace(&format!("  {name}: {ms}\n"), &format!("  {name}: {live}\n"));
    }
    let copy = dir.join("paced-target.yaml");
    std::fs::write(&copy, text).map_err(|e| format!("{}: {e}", copy.display()))?;
    Ok(copy)
}

fn run_args(cfg: &BenchConfig, target: &Path, report_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into(), "--jobs".into(), "4".into(), "--target".into(), target.display().to_string()];
    args.extend(["--report-dir".into(), report_dir.display().to_string(), "--root".into(), cfg.root.display().to_string()]);
    // Quick mode: the `content` scenarios only (a few sessions each), a few seconds paced.
    if cfg.quick {
        args.extend(["--tag".into(), "content".into()]);
    }
    args
}

/// The wall time of one catalogue run; a run with scenarios in error times error paths, not the
/// catalogue, and gives no figure.
fn timed_run(cfg: &BenchConfig, target: &Path, report_dir: &Path) -> Result<f64, String> {
    let _ = std::fs::remove_dir_all(report_dir);
    let mut cmd = Command::new(&cfg.exe);
    cmd.args(run_args(cfg, target, report_dir)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let run = child::run_measured(cmd, RUN_LIMIT)?;
    let report = report_dir.join(crate::report::JSON_FILE);
    let json: serde_json::Value = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("no {} ({})", report.display(), run.stderr_tail))?;
    let errors = json["summary"]["scenarios"]["error"].as_u64().unwrap_or(0);
    if errors > 0 {
        return Err(format!("{errors} scenario(s) ended in error against {}, see {}", target.display(), report.display()));
    }
    Ok(run.wall.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paced_copy_has_the_default_pacing_and_live_step_timeouts() {
        let dir = tempfile::tempdir().unwrap();
        let lifted = dir.path().join("mock.yaml");
        let text = format!("name: x\ntimeouts:\n  connect: 3000\n  step: 15000\n  scenario: 30000\nrate:\n  messages_per_minute: 600\n{}", mssconf_mock::profile::PACING_LIFTED);
        std::fs::write(&lifted, text).unwrap();
        let copy = std::fs::read_to_string(paced_copy(&lifted, dir.path()).unwrap()).unwrap();
        assert_eq!(copy, "name: x\ntimeouts:\n  connect: 3000\n  step: 120000\n  scenario: 300000\nrate:\n  messages_per_minute: 600\n");
        std::fs::write(&lifted, "name: x\n").unwrap();
        assert!(paced_copy(&lifted, dir.path()).is_err(), "a profile without the lifted lines is not silently compared");
    }
}
