//! The evidence commands as a user runs them: `keygen`, `proof` (the production test, here
//! against the embedded mock), and a run stopped by SIGTERM that still writes its reports.



use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::evidence_support::{root, test_scenarios};

fn mssconf(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mssconf")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// A project root with the requirement index, the fixtures and the given scenario files.
fn project(dir: &Path, scenarios: &[(&str, String)]) -> PathBuf {
    let root_dir = dir.join("project");
    std::fs::create_dir_all(root_dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(root_dir.join("fixtures")).unwrap();
    std::fs::copy(root().join("scenarios/requirements.yaml"), root_dir.join("scenarios/requirements.yaml")).unwrap();
    std::fs::copy(root().join("fixtures/fixtures.yaml"), root_dir.join("fixtures/fixtures.yaml")).unwrap();
    for (name, text) in scenarios {
        let path = root_dir.join("scenarios").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    root_dir
}

fn test_scenario(name: &str) -> String {
    std::fs::read_to_string(test_scenarios().join(name)).unwrap()
}

fn zips_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "zip")).collect()
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let (code, text) = mssconf(&["keygen", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(std::fs::read_to_string(out.join("mssconf.pub")).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let (code, text) = mssconf(&["keygen", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("already exists"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = out.join("mssconf.key");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (code, text) = mssconf(&["bundle", "--run", dir.path().to_str().unwrap(), "--sign-key", key.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("chmod 600"), "{text}");
    }
}

#[test]
fn proof_runs_the_production_test_and_bundles_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(
        dir.path(),
        &[("production/prod.yaml", test_scenario("production.yaml")), ("auth/refusals.yaml", test_scenario("auth-refusals.yaml"))],
    );
    let keys = dir.path().join("keys");
    assert_eq!(mssconf(&["keygen", "--out", keys.to_str().unwrap()]).0, 0);
    let report = dir.path().join("report");
    let (root_arg, report_arg) = (project.to_str().unwrap(), report.to_str().unwrap());
    let key = keys.join("mssconf.key");
    let (code, text) = mssconf(&["proof", "--root", root_arg, "--report-dir", report_arg, "--sign-key", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(report.join("preuve-test-production.png").is_file(), "{text}");
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let ids: Vec<&str> = record["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["OPE/PROD.01.90"], "only the production test runs");
    let zips = zips_in(&report);
    assert_eq!(zips.len(), 1, "{text}");
    let pubkey = keys.join("mssconf.pub");
    let (code, text) = mssconf(&["bundle", "verify", zips[0].to_str().unwrap(), "--pubkey", pubkey.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");

    // Anything but the production test is refused before running.
    let (code, text) = mssconf(&["proof", "--root", root_arg, "--report-dir", report_arg, "--tag", "smtp"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--tag smtp is not allowed"), "{text}");
    let (code, text) = mssconf(&["proof", "--root", root_arg, "--report-dir", report_arg, "--scenario", "OPE/AUTH.*"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not tagged `production`"), "{text}");
    assert_eq!(zips_in(&report).len(), 1, "refused runs write no bundle");
}

#[test]
fn proof_without_a_production_scenario_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path(), &[("auth/refusals.yaml", test_scenario("auth-refusals.yaml"))]);
    let report = dir.path().join("report");
    let (code, text) = mssconf(&["proof", "--root", project.to_str().unwrap(), "--report-dir", report.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no `production`-tagged scenario"), "{text}");
}

fn waiting_scenario(n: u32) -> String {
    format!(
        "id: OPE/TLS.01.{n}\ntitle: \"Attente {n}\"\nrequirements: [OPE/TLS.01]\nprofile: general\nsteps:\n  - title: \"Attente\"\n    wait: {{ ms: 2500 }}\n"
    )
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_and_the_reports_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios: Vec<(String, String)> = (91..=94).map(|n| (format!("wait/w{n}.yaml"), waiting_scenario(n))).collect();
    let refs: Vec<(&str, String)> = scenarios.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let project = project(dir.path(), &refs);
    let report = dir.path().join("report");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(["run", "--root", project.to_str().unwrap(), "--report-dir", report.to_str().unwrap(), "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way (the mock is up and the first scenario started).
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("embedded mock operator started") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the run started");
    std::thread::sleep(Duration::from_millis(800));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the run did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = reader.join().unwrap();
    assert_eq!(status.code(), Some(3), "interrupted, nothing failed: exit 3\n{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let outcomes: Vec<&str> = record["scenarios"].as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.len(), 4);
    assert!(outcomes.contains(&"interrupted"), "{outcomes:?}");
    assert!(report.join("junit.xml").is_file() && report.join("report.html").is_file());
}
