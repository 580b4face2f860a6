//! Harness share (issue #8 point 1): how much of a catalogue run's wall time the harness itself
//! costs, beside the time it waits on the server, measured in the same run.
//!
//! The catalogue runs in a child `mssconf run` (the real command, process start and report
//! writing included) with `--jobs 1`, so that the run's `timing` in `report.json` splits its
//! wall time cleanly: scenarios one after the other, every step's server wait measured at the
//! IO boundary, every other millisecond the harness's. Targets: the mock operator (served by a
//! `mssconf mock` child), and the Postfix+Dovecot peer when its profile is given.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::record::RunTiming;

use super::{BenchConfig, Figure, Measured};

/// The goal of issue #8: harness-attributable time at most this share of the wall time.
const GOAL_SHARE: f64 = 0.10;
/// A catalogue run that takes longer is stopped (the bench must end).
const RUN_LIMIT: Duration = Duration::from_secs(300);

pub async fn measure(cfg: &BenchConfig) -> Vec<Measured> {
    let mut lines = target_lines(cfg, "mock catalogue", None).await;
    match &cfg.peer {
        Some(peer) => lines.extend(target_lines(cfg, "peer catalogue", Some(peer)).await),
        None => lines.push(Measured::skipped("harness time (peer catalogue)", "no peer profile (targets/local-peer.yaml or --peer)")),
    }
    lines
}

/// The two lines of one target: harness time beside the server wait, and its share of wall time.
async fn target_lines(cfg: &BenchConfig, label: &str, peer: Option<&Path>) -> Vec<Measured> {
    let name = format!("harness time ({label})");
    match run_catalogue(cfg, label, peer).await {
        Ok((timing, wall)) => {
            let wall_ms = wall.as_secs_f64() * 1000.0;
            vec![
                Figure::new(&name, timing.harness_ms as f64, "ms", ("server wait", timing.server_wait_ms as f64, "ms")),
                Figure::new(
                    &format!("harness share of wall time ({label}, {} ms wall)", wall_ms.round()),
                    100.0 * timing.harness_ms as f64 / wall_ms.max(1.0),
                    "%",
                    ("goal", 100.0 * GOAL_SHARE, "%"),
                ),
            ]
        }
        Err(reason) => vec![Measured::skipped(&name, reason)],
    }
}

/// The arguments of the child run. Quick mode runs the `content` scenarios only (6 send-and-read-back
/// sessions; the peer answers failed logins slowly), which keeps both targets within a few seconds.
fn run_args(cfg: &BenchConfig, report_dir: &Path, peer: Option<&Path>) -> Vec<String> {
    let mut args = vec!["run".to_string(), "--jobs".into(), "1".into(), "--report-dir".into(), report_dir.display().to_string()];
    args.extend(["--root".into(), cfg.root.display().to_string()]);
    if let Some(p) = peer {
        args.extend(["--target".into(), p.display().to_string()]);
    }
    if cfg.quick {
        args.extend(["--tag".into(), "content".into()]);
    }
    args
}

/// Runs the catalogue in a child `mssconf run`; its timing and the wall time seen from here.
/// Without a peer, the mock operator serves from its own process: in-process, its work would
/// compete with the harness's on the same threads and blur the split.
async fn run_catalogue(cfg: &BenchConfig, label: &str, peer: Option<&Path>) -> Result<(RunTiming, Duration), String> {
    let slug = label.replace(' ', "-");
    let dir = cfg.work_dir.join(format!("harness-share-{slug}-server"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match peer {
        Some(p) => run_child(cfg, &slug, &unpaced(p, &dir)?).await,
        None => {
            let (exe, mock_dir) = (cfg.exe.clone(), dir.clone());
            let mock = tokio::task::spawn_blocking(move || super::child::start_mock(&exe, &mock_dir, &[]))
                .await
                .map_err(|e| format!("starting the mock operator: {e}"))??;
            let result = match unpaced(mock.profile(), &dir) {
                Ok(profile) => run_child(cfg, &slug, &profile).await,
                Err(e) => Err(e),
            };
            let _ = tokio::task::spawn_blocking(move || mock.stop()).await;
            result
        }
    }
}

async fn run_child(cfg: &BenchConfig, slug: &str, target: &Path) -> Result<(RunTiming, Duration), String> {
    let (label, peer) = (slug, Some(target));
    let report_dir = cfg.work_dir.join(format!("harness-share-{label}"));
    let _ = std::fs::remove_dir_all(&report_dir);
    let log_path = cfg.work_dir.join(format!("harness-share-{label}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let clock = Instant::now();
    let mut child = std::process::Command::new(&cfg.exe)
        .args(run_args(cfg, &report_dir, peer))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cfg.exe.display()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if clock.elapsed() < RUN_LIMIT => tokio::time::sleep(Duration::from_millis(10)).await,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the catalogue run took more than {} s", RUN_LIMIT.as_secs()));
            }
            Err(e) => return Err(format!("waiting for mssconf run: {e}")),
        }
    };
    let wall = clock.elapsed();
    // Exit 1 (some scenario did not pass) still times the run; only a run without a report is skipped.
    let timing = read_timing(&report_dir.join(crate::report::JSON_FILE)).map_err(|e| {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let last = log.lines().last().unwrap_or("no output");
        format!("no timing ({e}); mssconf run exited {:?}: {last}", status.code())
    })?;
    Ok((timing, wall))
}

/// A copy of `profile` without submission pacing: the profile's rate gate (a safety limit for
/// live operators) would otherwise hold each message back and count as harness time, which
/// says nothing about the harness's own cost. Both targets here are loopback test servers.
fn unpaced(profile: &Path, dir: &Path) -> Result<std::path::PathBuf, String> {
    let text = std::fs::read_to_string(profile).map_err(|e| format!("{}: {e}", profile.display()))?;
    let text: String = text
        .lines()
        .map(|l| match l.trim_start().strip_prefix("messages_per_minute:") {
            Some(_) => format!("{}messages_per_minute: {UNPACED_RATE}\n", &l[..l.len() - l.trim_start().len()]),
            None => format!("{l}\n"),
        })
        .collect();
    let copy = dir.join("unpaced-target.yaml");
    std::fs::write(&copy, text).map_err(|e| format!("{}: {e}", copy.display()))?;
    Ok(copy)
}

/// Messages per minute of the unpaced copy: far above what a catalogue sends.
const UNPACED_RATE: u32 = 600_000;

/// The run's timing, when the run says something about the harness: a run whose scenarios
/// ended in `error` (a target that is down answers nothing) times error paths, not a catalogue.
fn read_timing(path: &Path) -> Result<RunTiming, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let errors = json["summary"]["scenarios"]["error"].as_u64().unwrap_or(0);
    if errors > 0 {
        let total = json["summary"]["scenarios"]["total"].as_u64().unwrap_or(0);
        return Err(format!("{errors} of {total} scenarios ended in error (is the target up?), see {}", path.display()));
    }
    serde_json::from_value(json["timing"].clone()).map_err(|e| format!("{}: timing: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(quick: bool) -> BenchConfig {
        BenchConfig { quick, root: "/r".into(), peer: None, work_dir: "/w".into(), exe: "/bin/false".into(), only: vec![] }
    }

    #[test]
    fn the_unpaced_copy_only_changes_the_rate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.yaml");
        std::fs::write(&p, "name: x\nrate:\n  messages_per_minute: 600\n  max_messages_per_run: 500\n").unwrap();
        let copy = std::fs::read_to_string(unpaced(&p, dir.path()).unwrap()).unwrap();
        assert_eq!(copy, format!("name: x\nrate:\n  messages_per_minute: {UNPACED_RATE}\n  max_messages_per_run: 500\n"));
    }

    #[test]
    fn the_child_run_is_sequential_and_quick_mode_narrows_it() {
        let full = run_args(&cfg(false), Path::new("/w/d"), Some(Path::new("/p.yaml")));
        assert!(full.windows(2).any(|w| w == ["--jobs", "1"]), "{full:?}");
        assert!(full.windows(2).any(|w| w == ["--target", "/p.yaml"]), "{full:?}");
        assert!(!full.contains(&"--tag".to_string()));
        let quick = run_args(&cfg(true), Path::new("/w/d"), None);
        assert!(quick.windows(2).any(|w| w == ["--tag", "content"]) && !quick.contains(&"--target".to_string()), "{quick:?}");
    }

    #[test]
    fn a_run_with_errors_gives_no_timing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("report.json");
        let timing = r#""timing": {"wall_ms": 9, "scenarios_wall_ms": 1, "server_wait_ms": 0, "scenarios_harness_ms": 0, "harness_ms": 9, "phases": {}}"#;
        std::fs::write(&p, format!(r#"{{"summary": {{"scenarios": {{"total": 54, "error": 54}}}}, {timing}}}"#)).unwrap();
        let e = read_timing(&p).unwrap_err();
        assert!(e.contains("54 of 54 scenarios ended in error"), "{e}");
        std::fs::write(&p, format!(r#"{{"summary": {{"scenarios": {{"total": 54, "error": 0}}}}, {timing}}}"#)).unwrap();
        assert_eq!(read_timing(&p).unwrap().harness_ms, 9);
    }

    #[tokio::test]
    async fn a_run_that_writes_no_report_is_skipped_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cfg(true);
        c.work_dir = dir.path().into();
        c.root = dir.path().into();
        let profile = dir.path().join("peer.yaml");
        std::fs::write(&profile, "name: peer\n").unwrap();
        let lines = target_lines(&c, "peer catalogue", Some(&profile)).await;
        assert!(matches!(&lines[..], [Measured::Skipped { reason, .. }] if reason.contains("no timing")), "{lines:?}");
    }
}
