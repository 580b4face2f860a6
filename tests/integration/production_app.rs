//! Issue #18 item 7: an operator with only applicative mailboxes (no Pro Santé Connect token)
//! produces the production proof with certificate login, on a profile marked production, and
//! the message it sends carries nothing that counts in the agency's indicators.

use std::path::Path;
use std::process::Command;

use crate::Mock;
use crate::evidence_support::root;

fn mssconf(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mssconf")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The mock's profile, marked production; with `app_only`, its PER and ORG mailboxes (and their
/// tokens) gone.
fn production_profile(mock: &Mock, path: &Path, app_only: bool) {
    mock.handle().write_target(path).unwrap();
    let yaml = std::fs::read_to_string(path).unwrap();
    let gone = |l: &str| app_only && (l.contains("type: PER") || l.contains("type: ORG") || l.contains("token:"));
    let kept: Vec<String> = yaml
        .lines()
        .filter(|l| !gone(l))
        .map(|l| if l.starts_with("environment:") { "environment: production".to_string() } else { l.to_string() })
        .collect();
    assert!(kept.iter().any(|l| l.contains("type: APP")) && (kept.len() < yaml.lines().count()) == app_only, "{yaml}");
    std::fs::write(path, kept.join("\n") + "\n").unwrap();
}

/// Both production tests on a production profile: the PER one, whose message the production
/// send guard would refuse if it carried X-MSS-NIL, passes; so does the APP one.
#[test]
fn the_production_tests_pass_the_production_send_guard() {
    let (code, text, record, _) = proof(false);
    assert_eq!(code, 0, "{text}");
    for id in ["OPE/PROD.01.01", "OPE/PROD.01.02"] {
        assert_eq!(outcome(&record, id).0, "pass", "{id}: {text}");
    }
}

fn outcome(record: &serde_json::Value, id: &str) -> (serde_json::Value, serde_json::Value) {
    record["scenarios"].as_array().unwrap().iter().find(|s| s["id"] == id).map(|s| (s["outcome"].clone(), s["reason"].clone())).unwrap()
}

/// `mssconf proof --production` with the real production scenarios against the mock.
fn proof(app_only: bool) -> (i32, String, serde_json::Value, tempfile::TempDir) {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    for sub in ["scenarios/production", "fixtures"] {
        std::fs::create_dir_all(project.join(sub)).unwrap();
    }
    for f in ["scenarios/requirements.yaml", "fixtures/fixtures.yaml", "scenarios/production/technical-test.yaml", "scenarios/production/technical-test-app.yaml"] {
        std::fs::copy(root().join(f), project.join(f)).unwrap();
    }
    let profile = dir.path().join("production.target.yaml");
    production_profile(&mock, &profile, app_only);
    let report = dir.path().join("report");
    let args = ["proof", "--root", project.to_str().unwrap(), "--target", profile.to_str().unwrap(), "--production", "--report-dir", report.to_str().unwrap()];
    let (code, text) = mssconf(&args);
    let record = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap_or_default()).unwrap_or_default();
    (code, text, record, dir)
}

#[test]
fn an_app_only_operator_produces_the_production_proof_by_certificate() {
    let (code, text, record, dir) = proof(true);
    let report = dir.path().join("report");
    assert_eq!(code, 0, "{text}");
    assert!(report.join("preuve-test-production.png").is_file(), "{text}");
    assert_eq!(outcome(&record, "OPE/PROD.01.02").0, "pass", "{text}");
    let (o, reason) = outcome(&record, "OPE/PROD.01.01");
    assert_eq!(o, "skip", "no PER mailbox: {reason}");
    // The message sent and read back in production carries no X-MSS-* header (no fixed NIL).
    let emls: Vec<_> = walk(&report).into_iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    assert!(!emls.is_empty(), "the read-back message is kept");
    for eml in emls {
        let text = String::from_utf8_lossy(&std::fs::read(&eml).unwrap()).to_ascii_lowercase();
        assert!(!text.contains("x-mss-"), "{}: an X-MSS-* header was sent in production", eml.display());
    }
    assert_eq!(record["target"]["environment"], "production");
    // The service identity was observed (after the scenarios) and compared with the profile.
    let identity = &record["service_identity"];
    assert!(identity["observed"]["smtp"]["banner"].as_str().unwrap().contains("mssconf-mock"), "{identity}");
    assert!(!identity["observed"]["imap"]["tls"]["server_chain"][0]["serial"].as_str().unwrap().is_empty(), "{identity}");
    let software = identity["comparison"].as_array().unwrap().iter().find(|c| c["item"] == "software").unwrap();
    assert_eq!(software["seen_in"][0], "SMTP banner", "{identity}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
