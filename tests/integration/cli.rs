//! `list`, `coverage`, `run` exit codes and reports against the embedded mock.

use super::{mssconf, root, text};

#[test]
fn list_json_matches_filters() {
    let out = mssconf(&["list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!all.is_empty());
    for e in &all {
        for k in ["id", "title", "requirements", "profile", "tags", "file"] {
            assert!(e.get(k).is_some(), "list entry lacks {k}");
        }
        assert!(!e["tags"].as_array().unwrap().iter().any(|t| t == "production"), "production scenarios are listed only on request");
    }
    let out = mssconf(&["list", "--json", "--tag", "imap"]);
    let some: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(some.len() < all.len() && !some.is_empty());
    assert!(some.iter().all(|e| e["tags"].as_array().unwrap().iter().any(|t| t == "imap")));
}

#[test]
fn bad_profile_filter_is_a_usage_error() {
    let out = mssconf(&["list", "--profile", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown profile `nope`"));
}

#[test]
fn run_passes_on_the_conformant_mock_and_fails_with_a_fault() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_str().unwrap();
    let ok = mssconf(&["run", "--scenario", "OPE/TLS.01.*", "--report-dir", d]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    for f in ["junit.xml", "report.json", "report.html"] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert!(report["scenarios"].as_array().unwrap().iter().all(|s| s["outcome"] == "pass"));
    let bad = mssconf(&["run", "--scenario", "OPE/TLS.01.*", "--report-dir", d, "--mock-fault", "auth-before-tls"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("FAIL"));
}

#[test]
fn unreadable_target_is_a_configuration_error() {
    let out = mssconf(&["run", "--target", "targets/does-not-exist.yaml", "--report-dir", "/tmp/mssconf-never"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does-not-exist.yaml"));
    let _ = root();
}
