//! Time accounting in `report.json`: every step, scenario and the run split their time between
//! the server and the harness, and the parts add up.

use serde_json::Value;

use super::{mssconf, text};

fn ms(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("`{key}` missing or not a number in {v}"))
}

#[test]
fn report_json_splits_every_duration_between_server_and_harness() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = mssconf(&[
        "run", "--jobs", "1", "--scenario", "OPE/MSG.01.01", "--scenario", "OPE/AUTH.03.01",
        "--report-dir", dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    for s in scenarios {
        for step in s["steps"].as_array().unwrap() {
            assert_eq!(ms(step, "server_wait_ms") + ms(step, "harness_ms"), ms(step, "duration_ms"), "{step}");
            // Every step of these scenarios talks to the server: connect, greeting, replies.
            assert!(ms(step, "server_wait_ms") > 0, "{step}");
        }
        let steps_wait: u64 = s["steps"].as_array().unwrap().iter().map(|st| ms(st, "server_wait_ms")).sum();
        assert_eq!(ms(s, "server_wait_ms"), steps_wait, "{}", s["id"]);
        assert_eq!(ms(s, "server_wait_ms") + ms(s, "harness_ms"), ms(s, "duration_ms"), "{}", s["id"]);
    }
    let t = &json["timing"];
    let phases: u64 = t["phases"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    for phase in ["load", "target", "plan", "evidence", "report"] {
        assert!(t["phases"][phase].is_u64(), "phase {phase} missing: {t}");
    }
    assert_eq!(ms(t, "server_wait_ms"), scenarios.iter().map(|s| ms(s, "server_wait_ms")).sum::<u64>());
    assert_eq!(ms(t, "harness_ms"), ms(t, "scenarios_harness_ms") + phases);
    // Sequential scenarios: server wait + harness is the run's wall time, give or take what
    // falls between the timed phases (a few ms) and rounding.
    let accounted = ms(t, "server_wait_ms") + ms(t, "harness_ms");
    let wall = ms(t, "wall_ms");
    assert!(accounted <= wall + 10 && wall - accounted.min(wall) <= wall / 10 + 50, "accounted {accounted} ms of {wall} ms: {t}");
}

#[test]
fn actions_after_the_server_closed_are_named_in_the_step() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = mssconf(&["run", "--scenario", "OPE/AUTH.03.01", "--report-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let step = &json["scenarios"][0]["steps"][0];
    assert_eq!(step["outcome"], "pass");
    let notes = step["notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("remaining action(s) not run (transaction, quit)")), "{notes:?}");
}
