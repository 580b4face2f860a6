//! `mssconf load` against the embedded mock operator: sessions, IMAP verification, histograms
//! and the JSON report; and the loopback-only refusal.

use super::{mssconf, text};

#[test]
fn load_against_the_mock_verifies_every_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let report_path = dir.path().join("load.json");
    let out = mssconf(&[
        "load", "--concurrency", "2", "--duration", "2s", "--message-size", "4k", "--drain", "10s",
        "--report", report_path.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("errors: none") && stdout.contains("submission latency"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report_path).expect("report written")).expect("json");
    let verified = report["verified"].as_u64().expect("verified");
    let submitted = report["submitted"].as_u64().expect("submitted");
    assert!(verified > 0, "{report}");
    assert_eq!(verified, submitted, "every accepted message is seen over IMAP: {report}");
    assert_eq!(report["errors"].as_object().map(|e| e.len()), Some(0), "{report}");
    assert_eq!(report["delivery_latency"]["count"].as_u64(), Some(verified), "{report}");
    assert_eq!(report["submission_latency"]["count"].as_u64(), Some(submitted), "{report}");
    assert_eq!(report["concurrency"].as_u64(), Some(2));
    assert_eq!(report["interrupted"].as_bool(), Some(false));
    assert!(report["verified_per_s"].as_f64().unwrap_or(0.0) > 0.0, "{report}");
    let p = &report["submission_latency"];
    assert!(p["p50_ms"].as_f64() <= p["p99_ms"].as_f64() && p["p99_ms"].as_f64() <= p["max_ms"].as_f64(), "{p}");
}

#[test]
fn load_refuses_a_target_that_is_not_loopback() {
    // The example profile names an operator's recette hosts: nothing may be sent there.
    let out = mssconf(&["load", "--target", "targets/example-operator.yaml", "--duration", "1s"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only runs against loopback"), "{stderr}");
}
