//! Issue #9 point 1: a half-working server never hangs, crashes or confuses the harness.
//!
//! For each server fault of the list (connection refused, TLS handshake failure, drop during
//! DATA, server silent, reply delayed past the timeout, malformed reply line, oversized reply
//! line, EOF in the middle of an IMAP literal, TLS alert mid-session), a real `mssconf run`
//! against the mock operator with that fault and short timeouts in the profile must end the
//! affected scenarios as `error` with the expected category and the transcript up to the failure,
//! still run the other scenarios, and finish within a bound computed from the timeouts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mssconf_mock::MockHandle;
use mssconf_mock::faults::Fault;
use serde_json::Value;

use super::{Mock, mssconf, text};

/// The timeouts written into the profile (milliseconds).
const CONNECT_MS: u64 = 1000;
const REPLY_MS: u64 = 800;
const STEP_MS: u64 = 4000;
const SCENARIO_MS: u64 = 8000;
const JOBS: u64 = 4;
/// Process start, catalogue, reports and evidence, on a loaded debug build.
const FIXED_OVERHEAD_MS: u64 = 10_000;

/// A scenario that only reads the whitelist over HTTP: no fault touches it.
const UNTOUCHED: &str = "OPE/DIR.02.01";

/// What a fault must do to one scenario.
struct Hit {
    scenario: &'static str,
    category: &'static str,
    /// Text the last line before the error note holds: where the exchange broke (`""`: no line
    /// is required, the connection never opened).
    before: &'static str,
    /// Text the error note (the transcript's last line) holds.
    why: &'static str,
}

struct Case {
    /// `None`: no mock fault, the SMTP/IMAP endpoints point to a closed port.
    fault: Option<Fault>,
    hits: &'static [Hit],
    /// Scenarios of the same run the fault leaves intact: they must pass.
    passes: &'static [&'static str],
}

const fn hit(scenario: &'static str, category: &'static str, before: &'static str, why: &'static str) -> Hit {
    Hit { scenario, category, before, why }
}

const CASES: &[Case] = &[
    Case {
        fault: None,
        hits: &[
            hit("OPE/TLS.01.01", "connect", "refused", "refused"),
            hit("OPE/TLS.01.02", "connect", "", "refused"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::TlsHandshakeFail),
        hits: &[
            hit("OPE/AUTH.01.01", "tls", "TLS ? ?", "HandshakeFailure"),
            hit("OPE/AUTH.01.02", "tls", "HandshakeFailure", "HandshakeFailure"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::DropMidData),
        hits: &[hit("OPE/SUB.05.01", "closed", ".", "closed the connection")],
        passes: &["OPE/TLS.01.01", UNTOUCHED],
    },
    Case {
        fault: Some(Fault::Silent),
        hits: &[
            hit("OPE/TLS.01.01", "timeout", "connecting to", "greeting"),
            hit("OPE/TLS.07.02", "timeout", "timed out", "timed out"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::Slow),
        hits: &[
            hit("OPE/TLS.01.01", "timeout", "EHLO", "EHLO"),
            hit("OPE/AUTH.01.02", "timeout", "STARTTLS", "800ms"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::Garbage),
        hits: &[
            hit("OPE/TLS.01.01", "protocol", "garbage", "malformed"),
            hit("OPE/TLS.01.02", "protocol", "GARBAGE", "malformed"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::OversizedLine),
        hits: &[
            hit("OPE/TLS.01.01", "protocol", "EHLO", "no line end"),
            hit("OPE/TLS.01.02", "protocol", "xxxx", "longer than"),
        ],
        passes: &[UNTOUCHED],
    },
    Case {
        fault: Some(Fault::EofMidLiteral),
        hits: &[hit("OPE/IMAP.01.01", "closed", "connection closed by the server", "closed the connection")],
        passes: &["OPE/TLS.01.01", UNTOUCHED],
    },
    Case {
        fault: Some(Fault::TlsAlertMidSession),
        hits: &[
            hit("OPE/AUTH.01.01", "tls", "MAIL FROM", "BadRecordMac"),
            hit("OPE/AUTH.01.02", "tls", "BadRecordMac", "BadRecordMac"),
        ],
        passes: &["OPE/TLS.01.01", UNTOUCHED],
    },
];

/// The longest a run of `n` scenarios may take: each batch of `JOBS` scenarios waits at most a
/// connect, a handshake and one reply timeout on its failing step, plus slack for the steps
/// before it; then the fixed cost of a run.
fn wall_time_bound(n: usize) -> Duration {
    let batches = (n as u64).div_ceil(JOBS);
    Duration::from_millis(batches * (2 * CONNECT_MS + REPLY_MS + 2000) + FIXED_OVERHEAD_MS)
}

/// The mock's profile with short timeouts; `refused`: SMTP and IMAP on a port nobody listens to.
fn write_profile(mock: &MockHandle, dir: &Path, refused: bool) -> PathBuf {
    let mut yaml = mock.target_profile_yaml();
    let ours = [("connect", CONNECT_MS), ("reply", REPLY_MS), ("step", STEP_MS), ("scenario", SCENARIO_MS)];
    for (name, ms) in mssconf_mock::profile::TIMEOUTS {
        let new = ours.iter().find(|(n, _)| *n == name).map_or(ms, |(_, v)| *v);
        yaml = yaml.replace(&format!("  {name}: {ms}\n"), &format!("  {name}: {new}\n"));
    }
    if refused {
        let closed = closed_port();
        let e = mock.endpoints();
        for port in [e.smtp_starttls.port(), e.smtp_implicit.port(), e.imap_starttls.port(), e.imap_implicit.port()] {
            yaml = yaml.replace(&format!("port: {port},"), &format!("port: {closed},"));
        }
    }
    let path = dir.join("target.yaml");
    std::fs::write(&path, yaml).expect("profile written");
    path
}

/// A loopback port that was just free: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

struct Ran {
    elapsed: Duration,
    code: Option<i32>,
    report: Value,
    stderr: String,
}

fn run(profile: &Path, dir: &Path, scenarios: &[&str]) -> Ran {
    let report_dir = dir.join("report");
    let mut args = vec!["run", "--target", profile.to_str().unwrap(), "--jobs", "4", "--report-dir", report_dir.to_str().unwrap()];
    for s in scenarios {
        args.extend(["--scenario", s]);
    }
    let started = Instant::now();
    let out = mssconf(&args);
    let elapsed = started.elapsed();
    let stderr = text(&out.stderr);
    let report = serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report.json ({e})\n{stderr}"));
    Ran { elapsed, code: out.status.code(), report, stderr }
}

fn scenario<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["scenarios"].as_array()?.iter().find(|s| s["id"] == id)
}

/// The problems of one hit, empty when the scenario ended exactly as expected.
fn check_hit(report: &Value, h: &Hit) -> Vec<String> {
    let Some(s) = scenario(report, h.scenario) else { return vec![format!("{}: did not run", h.scenario)] };
    let mut problems = Vec::new();
    if s["outcome"] != "error" {
        problems.push(format!("{}: outcome {}, expected error ({})", h.scenario, s["outcome"], s["reason"]));
    }
    let categories: Vec<&str> = s["steps"].as_array().into_iter().flatten().filter_map(|st| st["error_category"].as_str()).collect();
    if categories.first() != Some(&h.category) {
        problems.push(format!("{}: error categories {categories:?}, expected {} ({})", h.scenario, h.category, s["reason"]));
    }
    let lines = transcript(s);
    let tail = &lines[lines.len().saturating_sub(2)..];
    let note = format!("step ended in error ({})", h.category);
    let ok = match tail {
        [before, last] => before.contains(h.before) && last.starts_with(&note) && last.contains(h.why),
        [last] => h.before.is_empty() && last.starts_with(&note) && last.contains(h.why),
        _ => false,
    };
    if !ok {
        problems.push(format!(
            "{}: the transcript's last lines {tail:?} should be `…{}…` then `{note}: …{}…`",
            h.scenario, h.before, h.why
        ));
    }
    problems
}

fn transcript(s: &Value) -> Vec<&str> {
    s["transcript"].as_array().into_iter().flatten().filter_map(|l| l["text"].as_str()).collect()
}

fn fault_name(case: &Case) -> &'static str {
    case.fault.map_or("connection-refused", Fault::name)
}

#[test]
fn every_server_fault_ends_its_scenarios_in_a_categorised_error_within_the_timeouts() {
    let mut problems = Vec::new();
    let mut table = Vec::new();
    for case in CASES {
        let name = fault_name(case);
        let mock = Mock::start(case.fault.as_slice());
        let dir = tempfile::tempdir().expect("tmp");
        let profile = write_profile(mock.handle(), dir.path(), case.fault.is_none());
        let scenarios: Vec<&str> = case.hits.iter().map(|h| h.scenario).chain(case.passes.iter().copied()).collect();
        let ran = run(&profile, dir.path(), &scenarios);
        drop(mock);
        let bound = wall_time_bound(scenarios.len());
        let mut mine = Vec::new();
        // 1 when a hit is « non conforme », else 3 (errors only): README, exit codes.
        let failed = ran.report["scenarios"].as_array().is_some_and(|a| a.iter().any(|s| s["outcome"] == "fail"));
        let want = if failed { 1 } else { 3 };
        if ran.code != Some(want) {
            mine.push(format!("exit code {:?}, expected {want}", ran.code));
        }
        if ran.stderr.contains("panicked") {
            mine.push("the harness panicked".to_string());
        }
        if ran.elapsed > bound {
            mine.push(format!("took {:?}, over the bound {bound:?}", ran.elapsed));
        }
        for h in case.hits {
            mine.extend(check_hit(&ran.report, h));
            let cat = scenario(&ran.report, h.scenario)
                .and_then(|s| s["steps"].as_array()?.iter().find_map(|st| st["error_category"].as_str().map(String::from)));
            let tail: Vec<String> = scenario(&ran.report, h.scenario)
                .map(|s| transcript(s).iter().rev().take(2).rev().map(|l| l.chars().take(110).collect()).collect())
                .unwrap_or_default();
            table.push(format!("{name:22} {:16} {:9} {tail:?}", h.scenario, cat.unwrap_or_else(|| "-".into())));
        }
        for p in case.passes {
            match scenario(&ran.report, p).map(|s| s["outcome"].as_str().unwrap_or("?")) {
                Some("pass") => {}
                other => mine.push(format!("{p}: {other:?}, expected pass (the run goes on past the fault)")),
            }
        }
        table.push(format!("{name:22} run took {:?} (bound {bound:?})", ran.elapsed));
        if !mine.is_empty() {
            problems.push(format!("{name}:\n  {}\n--- stderr ---\n{}", mine.join("\n  "), ran.stderr));
        }
    }
    eprintln!("fault -> category as measured:\n{}", table.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_bound_is_made_of_the_configured_timeouts() {
    // One batch: two connects (TCP, then the TLS handshake), one reply, slack, fixed overhead.
    assert_eq!(wall_time_bound(3), Duration::from_millis(2 * CONNECT_MS + REPLY_MS + 2000 + FIXED_OVERHEAD_MS));
    assert_eq!(wall_time_bound(5).as_millis(), 2 * (2 * CONNECT_MS + REPLY_MS + 2000) as u128 + FIXED_OVERHEAD_MS as u128);
    // The mock holds a silent connection far longer than that: a harness that waited on it
    // would be caught.
    assert!(mssconf_mock::misbehave::HOLD_LIMIT > wall_time_bound(4));
}
