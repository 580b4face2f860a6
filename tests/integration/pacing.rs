//! Issue #22: polite to real servers. Against the mock operator limiting connections the way a
//! stock Exim does (faults `connection-limit` and `connection-rate`), the default pacing of a
//! target profile keeps every scenario clear of the limits; a refusal that persists ("421 …, try
//! again later") ends the scenario as `error` naming it, never as `fail`.

use std::path::{Path, PathBuf};

use mssconf_mock::faults::Fault;
use serde_json::Value;

use super::{Mock, mssconf, outcomes, text};

/// The mock's profile, its pacing lines replaced by `rate` (`""`: the defaults). Step and
/// scenario timeouts as a live profile's: a step of 20 probes takes 4 s of pacing alone.
fn profile(mock: &Mock, dir: &Path, rate: &str) -> PathBuf {
    let mut yaml = mock.handle().target_profile_yaml();
    assert!(yaml.contains(mssconf_mock::profile::PACING_LIFTED), "the mock's profile lifts the pacing");
    for (name, ms) in mssconf_mock::profile::TIMEOUTS {
        let live = match name {
            "step" => 120_000,
            "scenario" => 300_000,
            _ => ms,
        };
        yaml = yaml.replace(&format!("  {name}: {ms}\n"), &format!("  {name}: {live}\n"));
    }
    let path = dir.join("target.yaml");
    std::fs::write(&path, yaml.replace(mssconf_mock::profile::PACING_LIFTED, rate)).expect("profile written");
    path
}

fn run(profile: &Path, dir: &Path, selection: &[&str]) -> (Option<i32>, Value, String) {
    let report_dir = dir.join("report");
    let mut args = vec!["run", "--target", profile.to_str().unwrap(), "--jobs", "4", "--report-dir", report_dir.to_str().unwrap()];
    args.extend(selection);
    let out = mssconf(&args);
    let stderr = text(&out.stderr);
    let report = serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report.json ({e})\n{stderr}"));
    (out.status.code(), report, stderr)
}

/// The TLS scenarios open the most connections, one right after the other (a probe per cipher
/// suite, per version): unpaced, they trip both limits at once.
#[test]
fn default_pacing_keeps_the_tls_scenarios_within_the_connection_limits() {
    let mock = Mock::start(&[Fault::ConnectionLimit, Fault::ConnectionRate]);
    let dir = tempfile::tempdir().unwrap();
    let (code, report, stderr) = run(&profile(&mock, dir.path(), ""), dir.path(), &["--tag", "tls"]);
    let got = outcomes(&report);
    assert!(got.len() >= 10, "{got:?}");
    let bad: Vec<_> = got.iter().filter(|(_, o, _)| o != "pass").collect();
    assert!(bad.is_empty(), "with the default pacing nothing trips the limits: {bad:?}\n{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

/// Without pacing (the mock's own profile) the same run meets refusals: each is an error naming
/// the service as temporarily unavailable, never a failed check.
#[test]
fn unpaced_refusals_are_errors_never_failures() {
    let mock = Mock::start(&[Fault::ConnectionRate]);
    let dir = tempfile::tempdir().unwrap();
    let (_, report, stderr) = run(&profile(&mock, dir.path(), mssconf_mock::profile::PACING_LIFTED), dir.path(), &["--tag", "tls"]);
    let got = outcomes(&report);
    assert!(got.iter().all(|(_, o, _)| o != "fail"), "a refused connection is never a failure: {got:?}\n{stderr}");
    let errors: Vec<_> = got.iter().filter(|(_, o, _)| o == "error").collect();
    assert!(!errors.is_empty(), "unpaced, the probes exceed 10 connections per second: {got:?}");
    for (id, _, reason) in errors {
        assert!(reason.contains("temporarily unavailable"), "{id}: {reason}");
    }
}

/// Every place of the limit held by someone else: each attempt of the step meets `421`, noted in
/// the transcript, and the scenario ends as `error` with the server's words.
#[test]
fn a_persistent_421_ends_as_error_with_its_cause() {
    let mock = Mock::start(&[Fault::ConnectionLimit]);
    let smtp = mock.handle().endpoints().smtp_starttls;
    // Other clients hold every place the operator allows.
    let _held: Vec<std::net::TcpStream> = (0..mssconf_mock::faults::CONNECTION_LIMIT)
        .map(|_| std::net::TcpStream::connect(smtp).expect("a place"))
        .collect();
    // Let the mock count them before the run starts.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let rate = "  busy_retries: 2\n  busy_backoff_ms: 100\n";
    let (code, report, stderr) = run(&profile(&mock, dir.path(), rate), dir.path(), &["--scenario", "OPE/TLS.01.01"]);
    assert_eq!(code, Some(3), "an error, no failure: exit 3\n{stderr}");
    let s = &report["scenarios"][0];
    assert_eq!(s["outcome"], "error", "{s}");
    let reason = s["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("service temporarily unavailable") && reason.contains("421 4.7.0 too many concurrent connections"), "{reason}");
    let step = s["steps"].as_array().and_then(|steps| steps.iter().find(|st| st["error"].is_string())).expect("a step in error");
    assert_eq!(step["error_category"], "unavailable", "{step}");
    let transcript = std::fs::read_to_string(dir.path().join("report/report.json")).unwrap();
    for n in 1..=3 {
        assert!(transcript.contains(&format!("attempt {n}/3: service temporarily unavailable")), "attempt {n} noted");
    }
}

/// `run --dry-run` states the pacing and the least time it imposes on the planned connections.
#[test]
fn dry_run_shows_the_connections_and_the_least_time_the_pacing_imposes() {
    let least = |profile: &str| -> (usize, f64) {
        let out = mssconf(&["run", "--dry-run", "--target", profile]);
        let stdout = text(&out.stdout);
        let line = stdout.lines().find(|l| l.starts_with("connections to open: ")).unwrap_or_else(|| panic!("{stdout}"));
        let busiest: usize = line.rsplit(": ").next().unwrap().trim_end_matches(')').parse().expect(line);
        let secs: f64 = line.split("at least ").nth(1).unwrap().split(' ').next().unwrap().parse().expect(line);
        assert!(stdout.contains("pacing: at most 4 connection(s) open at once"), "{stdout}");
        (busiest, secs)
    };
    let (busiest, secs) = least("targets/example-operator.yaml");
    assert!(busiest > 100, "the catalogue opens many connections to the operator's host: {busiest}");
    assert!((secs - (busiest - 1) as f64 / 5.0).abs() < 0.05, "default 5 per second: {secs} s for {busiest}");
    let dir = tempfile::tempdir().unwrap();
    let faster = dir.path().join("faster.yaml");
    let yaml = std::fs::read_to_string(super::root().join("targets/example-operator.yaml")).unwrap();
    assert!(yaml.contains("  connections_per_second: 5\n"), "the example profile shows the default");
    std::fs::write(&faster, yaml.replace("  connections_per_second: 5\n", "  connections_per_second: 10\n")).unwrap();
    let (_, faster_secs) = least(faster.to_str().unwrap());
    assert!((faster_secs - secs / 2.0).abs() < 0.1, "10 per second halves it: {faster_secs} vs {secs}");
}
