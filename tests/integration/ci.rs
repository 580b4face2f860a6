//! Nightly-CI modes of `mssconf run` against the embedded mock: retries and flaky detection,
//! fail-fast, max-duration, shards; `mssconf diff`; no command takes a secret on the command line.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::{mssconf, outcomes, text};

const CI_CASES: &str = "tests/cases/ci";

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("report.json")).expect("json")
}

#[test]
fn a_scenario_failing_once_then_passing_is_flaky_never_a_plain_pass() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = ["run", "--scenarios", CI_CASES, "--scenario", "OPE/TLS.01.91", "--mock-fault", "flaky-once", "--report-dir", d];

    let without = mssconf(&args);
    assert_eq!(without.status.code(), Some(3), "no retry: the transient refusal (an error) fails the run\n{}", text(&without.stderr));
    // A 421 to EHLO is "try later": an error, never a « non conforme ».
    let first = &outcomes(&report(dir.path()))[0];
    assert_eq!(first.1, "error", "{first:?}");
    assert!(first.2.contains("service temporarily unavailable (421"), "{first:?}");

    let with = mssconf(&[&args[..], &["--retries", "2"]].concat());
    let stderr = text(&with.stderr);
    assert_eq!(with.status.code(), Some(0), "flaky alone exits 0\n{stderr}");
    assert!(stderr.contains("RETRY") && stderr.contains("WARNING: 1 scenario(s) FLAKY"), "{stderr}");
    let r = report(dir.path());
    let s = &r["scenarios"][0];
    assert_eq!(s["outcome"], "flaky");
    let attempts = s["attempts"].as_array().expect("attempts recorded");
    assert_eq!(attempts.len(), 1, "one failed attempt, then the pass");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["outcome"], "error");
    assert!(attempts[0]["reason"].as_str().unwrap().contains("421"));
    assert_eq!(r["summary"]["scenarios"]["flaky"], 1);
    assert_eq!(r["summary"]["scenarios"]["pass"], 0, "a flaky scenario is not counted as passed");
    assert!(r["selection"].as_array().unwrap().iter().any(|s| s == "--retries 2"));
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    // A French run (the default): earlier attempts in French.
    assert!(junit.contains("<flakyError") && junit.contains("tentative 1 : erreur"), "{junit}");
    assert!(junit.contains("failures=\"0\" errors=\"0\""), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("badge o-flaky") && html.contains("Tentatives précédentes"));
}

#[test]
fn retries_stop_at_the_limit_and_keep_every_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--scenarios", CI_CASES, "--scenario", "OPE/TLS.01.91", "--mock-fault", "auth-before-tls", "--retries", "2", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r = report(dir.path());
    assert_eq!(r["scenarios"][0]["outcome"], "fail");
    assert_eq!(r["scenarios"][0]["attempts"].as_array().unwrap().len(), 2, "3 attempts: 2 earlier ones recorded");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<rerunFailure").count(), 2, "{junit}");
}

#[test]
fn fail_fast_starts_nothing_after_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // flaky-once refuses the first SMTP session only (an error): with one job, the first scenario.
    let out = mssconf(&["run", "--scenarios", CI_CASES, "--mock-fault", "flaky-once", "--jobs", "1", "--fail-fast", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(3), "an error and interruptions, no failure\n{}", text(&out.stderr));
    let got = outcomes(&report(dir.path()));
    assert_eq!(got[0].1, "error", "{got:?}");
    assert_eq!(got.len(), 5);
    for (id, outcome, reason) in &got[1..] {
        assert_eq!(outcome, "interrupted", "{id}");
        assert!(reason.contains("--fail-fast stopped the run after `OPE/TLS.01.91` ended in error"), "{reason}");
    }
}

#[test]
fn max_duration_stops_starting_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--scenarios", CI_CASES, "--jobs", "1", "--max-duration", "1ms", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(3), "scenarios left out make the run incomplete\n{}", text(&out.stderr));
    let got = outcomes(&report(dir.path()));
    let cut: Vec<_> = got.iter().filter(|(_, o, r)| o == "interrupted" && r.contains("--max-duration 1ms was reached")).collect();
    assert!(cut.len() >= 4, "{got:?}");
    let bad = mssconf(&["run", "--scenarios", CI_CASES, "--max-duration", "ten minutes"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("bad duration"), "{}", text(&bad.stderr));
}

fn listed(args: &[&str]) -> Vec<String> {
    let out = mssconf(&[&["list", "--json", "--scenarios", CI_CASES], args].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    v.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn shards_partition_the_selection_deterministically() {
    let all: BTreeSet<String> = listed(&[]).into_iter().collect();
    assert_eq!(all.len(), 5);
    for kind in ["", "hash:"] {
        for n in 1..=4 {
            let mut union = BTreeSet::new();
            for k in 1..=n {
                let shard = format!("{kind}{k}/{n}");
                let ids = listed(&["--shard", &shard]);
                assert_eq!(ids, listed(&["--shard", &shard]), "{shard} is deterministic");
                for id in ids {
                    assert!(union.insert(id.clone()), "{id} is in two shards of {n}");
                }
            }
            assert_eq!(union, all, "the shards of {kind}{n} cover the selection");
        }
    }
    // Sharding applies after filtering: the filtered selection is what is split.
    assert_eq!(listed(&["--scenario", "OPE/TLS.01.91", "--shard", "1/2"]), ["OPE/TLS.01.91"]);
    assert!(listed(&["--scenario", "OPE/TLS.01.91", "--shard", "2/2"]).is_empty());
}

#[test]
fn run_runs_exactly_the_listed_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--scenarios", CI_CASES, "--shard", "2/3", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ran: Vec<String> = outcomes(&report(dir.path())).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ran, listed(&["--shard", "2/3"]));
    let bad = mssconf(&["list", "--shard", "4/3"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("K must be between 1 and N"), "{}", text(&bad.stderr));
}

/// A real report.json, then seeded edits of it: the NEW run.
#[test]
fn diff_finds_a_seeded_regression_and_lists_fixes_and_flaky() {
    let dir = tempfile::tempdir().unwrap();
    let old_dir = dir.path().join("old");
    let out = mssconf(&["run", "--scenarios", CI_CASES, "--report-dir", old_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut old = report(&old_dir);
    // OLD: .95 failed. NEW: .91 fails (regression), .92 is flaky (regression), .95 passes (fixed).
    old["scenarios"][4]["outcome"] = "fail".into();
    std::fs::write(old_dir.join("report.json"), serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    let mut new = old.clone();
    new["scenarios"][0]["outcome"] = "fail".into();
    new["scenarios"][0]["reason"] = "reply code: expected 250, got 554".into();
    new["scenarios"][1]["outcome"] = "flaky".into();
    new["scenarios"][4]["outcome"] = "pass".into();
    new["scenarios"][2]["duration_ms"] = 5000.into();
    new["run_id"] = "new-run".into();
    let new_file = dir.path().join("new.json");
    std::fs::write(&new_file, serde_json::to_vec_pretty(&new).unwrap()).unwrap();

    let out = mssconf(&["diff", old_dir.to_str().unwrap(), new_file.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a regression exits 1\n{stdout}");
    assert!(stdout.contains("REGRESSION newly failing (1):\n  OPE/TLS.01.91  pass -> fail: reply code: expected 250, got 554"), "{stdout}");
    assert!(stdout.contains("REGRESSION newly flaky (1):\n  OPE/TLS.01.92  pass -> flaky"), "{stdout}");
    assert!(stdout.contains("fixed (1):\n  OPE/TLS.01.95  fail -> pass"), "{stdout}");
    assert!(stdout.contains("slower by more than 2x") && stdout.contains("OPE/TLS.01.93"), "{stdout}");

    let back = mssconf(&["diff", new_file.to_str().unwrap(), old_dir.to_str().unwrap(), "--json"]);
    assert_eq!(back.status.code(), Some(1), ".95 passed in the first and fails in the second");
    let json: Value = serde_json::from_slice(&back.stdout).expect("json");
    assert_eq!(json["fixed"][0]["id"], "OPE/TLS.01.91");
    assert_eq!(json["newly_failing"][0]["id"], "OPE/TLS.01.95");
    assert_eq!(json["no_longer_flaky"][0]["id"], "OPE/TLS.01.92");
    assert_eq!(json["faster"][0]["id"], "OPE/TLS.01.93");

    let same = mssconf(&["diff", old_dir.to_str().unwrap(), old_dir.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stdout));
    let missing = mssconf(&["diff", "/nonexistent/report.json", old_dir.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/nonexistent/report.json"));
}

/// Words that name a secret: no flag of any command may carry one (visible in `ps`).
const SECRET_WORDS: [&str; 8] = ["token", "password", "passwd", "passphrase", "secret", "bearer", "credential", "apikey"];

fn commands() -> Vec<String> {
    let help = text(&mssconf(&["--help"]).stdout);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn no_command_takes_a_secret_on_the_command_line() {
    let cmds = commands();
    for expected in ["run", "list", "diff", "mock"] {
        assert!(cmds.iter().any(|c| c == expected), "`{expected}` missing from --help: {cmds:?}");
    }
    for cmd in std::iter::once(None).chain(cmds.iter().map(Some)) {
        let args: Vec<&str> = cmd.map(|c| vec![c.as_str(), "--help"]).unwrap_or_else(|| vec!["--help"]);
        let help = text(&mssconf(&args).stdout);
        // Option lines start with `-x, --name <VALUE>` or `--name <VALUE>`, then the description.
        for line in help.lines().map(str::trim_start).filter(|l| l.starts_with('-')) {
            let flag = line.split("  ").next().unwrap_or(line).to_ascii_lowercase().replace(['-', '_'], "");
            for word in SECRET_WORDS {
                assert!(!flag.contains(word), "`mssconf {}` has an option naming a secret: {line}", args.join(" "));
            }
        }
    }
}
