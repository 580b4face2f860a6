//! Issue #21: the server certificate's revocation status (OPE/TLS.05.02) is checked only against
//! CRLs the profile lets the harness fetch, and skipped with the reason otherwise; a revoked
//! client certificate (OPE/APP.02.05) is skipped, named, when the profile has none.

use super::{Mock, mssconf, outcomes, text};

/// Runs `ids` against the mock's profile with the lines starting with `drop` removed.
fn run_without(mock: &Mock, drop: &[&str], ids: &[&str]) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("t.yaml");
    mock.handle().write_target(&profile).unwrap();
    let yaml = std::fs::read_to_string(&profile).unwrap();
    let kept: Vec<&str> = yaml.lines().filter(|l| !drop.iter().any(|d| l.starts_with(d))).collect();
    assert_eq!(yaml.lines().count() - kept.len(), drop.len(), "every dropped line was in the profile");
    std::fs::write(&profile, kept.join("\n") + "\n").unwrap();
    let report = dir.path().join("out");
    let mut args = vec!["run", "--target", profile.to_str().unwrap(), "--report-dir", report.to_str().unwrap()];
    for id in ids {
        args.extend(["--scenario", id]);
    }
    let out = mssconf(&args);
    let json = std::fs::read(report.join("report.json")).unwrap_or_else(|_| panic!("no report\n{}", text(&out.stderr)));
    outcomes(&serde_json::from_slice(&json).unwrap())
}

#[test]
fn revocation_is_checked_where_the_profile_allows_and_skipped_with_the_reason_elsewhere() {
    let mock = Mock::start(&[]);
    let ids = ["OPE/TLS.05.02", "OPE/APP.02.05"];
    let full = run_without(&mock, &[], &ids);
    assert!(full.iter().all(|(_, o, _)| o == "pass"), "{full:?}");

    let stripped = run_without(&mock, &["  crl:", "  revoked_client_cert:"], &ids);
    let get = |id: &str| stripped.iter().find(|(i, ..)| i == id).unwrap_or_else(|| panic!("{id} missing: {stripped:?}"));
    let (_, outcome, reason) = get("OPE/TLS.05.02");
    assert_eq!(outcome, "skip", "{reason}");
    for needle in ["http://mock.mssante.test/crl/root.crl", "not declared", "OCSP http://mock.mssante.test/ocsp (not queried)"] {
        assert!(reason.contains(needle), "`{needle}` missing in: {reason}");
    }
    let (_, outcome, reason) = get("OPE/APP.02.05");
    assert!(outcome == "skip" && reason.contains("negative.revoked_client_cert"), "{outcome}: {reason}");
}
