//! The verdict rule end to end: a préconisation not followed is reported in every report and
//! never changes the exit code (docs/verdicts.md).

use super::{mssconf, text};

#[test]
fn a_preconisation_not_followed_is_reported_everywhere_and_exits_0() {
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().to_str().unwrap();
    // no-idle breaks OPE/IMAP.02, a préconisation (IDLE is recommended, not required).
    let out = mssconf(&["run", "--mock-fault", "no-idle", "--scenario", "OPE/IMAP.02.01", "--report-dir", report]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a préconisation must not fail the run:\n{stderr}");
    assert!(stderr.contains("NOTE: 1 scenario(s) with observations or préconisations not followed"), "{stderr}");
    assert!(stderr.contains("not followed]"), "the scenario line says it: {stderr}");

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let s = &json["scenarios"][0];
    assert_eq!((s["outcome"].as_str(), s["nature"].as_str()), (Some("pass"), Some("preconisation")), "{s}");
    let advice = s["advisories"].as_array().expect("advisories listed");
    assert!(!advice.is_empty() && advice[0].as_str().unwrap().to_lowercase().contains("idle"), "{advice:?}");

    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains("name=\"advisory\"") && !junit.contains("<failure"), "{junit}");
    // A French run (the default): the system-out line in French.
    assert!(junit.contains("non suivi (observation ou préconisation, pas un échec)"), "system-out says it: {junit}");

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("advice-badge") && html.contains("préconisation / observation non suivie"), "HTML badge");
    assert!(html.contains("check-advice"), "the check row is marked as advice, not as a failure");
}

#[test]
fn the_same_run_without_the_fault_reports_no_advice() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = mssconf(&["run", "--scenario", "OPE/IMAP.02.01", "--report-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert!(json["scenarios"][0].get("advisories").is_none(), "{}", json["scenarios"][0]);
    assert!(!text(&out.stderr).contains("NOTE:"));
}

/// An unknown recipient refused at RCPT TO (Postfix's default) is one conformant path of
/// OPE/DSN.02.01: the failure-report step is not needed, and its proofs say why instead of
/// missing silently (the peer check accepts a proof without a file only with that reason).
#[test]
fn a_refusal_at_rcpt_makes_the_report_step_not_needed_and_its_proofs_say_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = mssconf(&[
        "run", "--mock-behaviour", "unknown-recipient-at-rcpt", "--scenario", "OPE/DSN.02.01",
        "--report-dir", dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let s = &json["scenarios"][0];
    let check = &s["steps"][0]["checks"].as_array().unwrap().iter().find(|c| c["what"] == "submission outcome").unwrap()["actual"];
    assert!(check.as_str().unwrap().starts_with("refused at RCPT TO: 550 5.1.1"), "{check}");
    let note = s["steps"][1]["notes"][0].as_str().unwrap();
    assert!(note.starts_with("not needed: the transaction `unknown_rcpt` was refused at RCPT TO"), "{note}");
    let eml = s["proofs"].as_array().unwrap().iter().find(|p| p["kind"] == "eml").unwrap();
    assert!(eml["file"].is_null() && eml["not_needed"].as_str() == Some(note), "{eml}");
    for p in s["proofs"].as_array().unwrap().iter().filter(|p| p["kind"] != "eml") {
        assert!(dir.path().join(p["file"].as_str().unwrap()).is_file(), "{p}");
    }
}
