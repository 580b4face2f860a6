//! A generated catalogue of ~200 scenarios (issue #8 point 4): `validate` and `list` take it
//! whole, and a `run` against the embedded mock passes. The run takes one shard in four (every
//! fourth id, which still cycles through every template): a debug build spends most of a run
//! drawing the PNG cards, and 200 of them would take minutes. Timing is the bench's business
//! (`mssconf bench`), never asserted here.

use mssconf::bench::generate::generate;
use serde_json::Value;

use super::{mssconf, root, text};

const COUNT: usize = 200;
/// `run --shard 1/SHARDS`: round robin over the sorted ids.
const SHARDS: usize = 4;

#[test]
fn a_generated_catalogue_validates_lists_and_runs_on_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(root(), &dir.path().join("catalogue"), COUNT).expect("catalogue generated");
    let at = g.root.to_str().unwrap();

    let out = mssconf(&["validate", "--root", at]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("{COUNT} scenario(s) valid")), "{}", text(&out.stdout));

    let out = mssconf(&["list", "--root", at, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).expect("list --json");
    let mut ids: Vec<&str> = listed.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort();
    let mut expected: Vec<&str> = g.ids.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(ids, expected);

    let report = dir.path().join("report");
    let shard = format!("1/{SHARDS}");
    let out = mssconf(&["run", "--root", at, "--shard", &shard, "--report-dir", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let scenarios = json["scenarios"].as_array().expect("scenarios in report.json");
    let mut ran: Vec<&str> = scenarios.iter().filter_map(|s| s["id"].as_str()).collect();
    ran.sort();
    assert_eq!(ran, expected.iter().step_by(SHARDS).copied().collect::<Vec<_>>());
    let not_passed: Vec<String> = scenarios
        .iter()
        .filter(|s| s["outcome"] != "pass")
        .map(|s| format!("{} {} {}", s["id"], s["outcome"], s["reason"]))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}
