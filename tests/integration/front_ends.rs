//! One verdict whatever the front end: `mssconf run` and `cargo test --test conformance` take
//! the same plan (skips and their reasons included) and reach the same outcome, scenario by
//! scenario, on the embedded mock and on a profile with material removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use mssconf_mock::{MockConfig, MockOperator};
use serde_json::Value;

use super::{root, text};

/// Profile lines removed to make the "material removed" profile: the published HTTP URLs
/// (whitelist, autoconfig, introspection), the MDN responder, the other operator's address and
/// every negative material.
const REMOVED: [&str; 11] = [
    "  introspection:",
    "  whitelist:",
    "  autoconfig:",
    "  mdn_responder:",
    "negative:",
    "  expired_token:",
    "  expired_client_cert:",
    "  foreign_client_cert:",
    "  revoked_token:",
    "  revoked_client_cert:",
    "  other_operator:",
];

/// The built conformance harness, next to this test binary. A binary older than the library
/// would compare yesterday's harness: refuse it rather than pass on it.
pub(crate) fn conformance_bin() -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let newest = |prefix: &str, suffix: &str| {
        std::fs::read_dir(&deps)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.starts_with(prefix) && n.ends_with(suffix) && (suffix.contains('.') || !n.contains('.'))
            })
            .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
            .max()
    };
    let (built, bin) = newest("conformance-", "").expect("the conformance harness is built (cargo test --test conformance --no-run)");
    let lib: SystemTime = newest("libmssconf-", ".rlib").map(|(t, _)| t).unwrap_or(SystemTime::UNIX_EPOCH);
    assert!(built >= lib, "{} is older than the library: build it (cargo test --test conformance --no-run)", bin.display());
    bin
}

/// id → (outcome, skip reason) of a report.json.
fn verdicts(dir: &Path) -> BTreeMap<String, (String, Option<String>)> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report.json written")).unwrap();
    json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let outcome = s["outcome"].as_str().unwrap().to_string();
            let reason = (outcome == "skip").then(|| s["reason"].as_str().unwrap_or_default().to_string());
            (s["id"].as_str().unwrap().to_string(), (outcome, reason))
        })
        .collect()
}

/// Both front ends on `profile` (None: each its own embedded mock); their verdicts.
fn both(profile: Option<&Path>) -> [BTreeMap<String, (String, Option<String>)>; 2] {
    let dir = tempfile::tempdir().unwrap();
    let (run_dir, test_dir) = (dir.path().join("run"), dir.path().join("conformance"));
    let mut run = Command::new(env!("CARGO_BIN_EXE_mssconf"));
    run.current_dir(root()).env_remove("MSSCONF_MOCK_FAULTS").args(["run", "--report-dir", run_dir.to_str().unwrap()]);
    let mut test = Command::new(conformance_bin());
    test.current_dir(root())
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env_remove("MSSCONF_TARGET")
        .env_remove("MSSCONF_SHARD")
        .env("MSSCONF_REPORT_DIR", &test_dir)
        .args(["--test-threads", "2"]);
    if let Some(p) = profile {
        run.args(["--target", p.to_str().unwrap()]);
        test.env("MSSCONF_TARGET", p);
    }
    for (name, cmd) in [("mssconf run", &mut run), ("conformance", &mut test)] {
        let out = cmd.output().expect("front end runs");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{name} exited {:?}\n{}", out.status.code(), text(&out.stderr));
    }
    [verdicts(&run_dir), verdicts(&test_dir)]
}

fn assert_same(label: &str, [run, test]: &[BTreeMap<String, (String, Option<String>)>; 2]) {
    assert_eq!(run.keys().collect::<Vec<_>>(), test.keys().collect::<Vec<_>>(), "{label}: not the same scenarios");
    let differ: Vec<String> = run
        .iter()
        .filter(|(id, v)| test[*id] != **v)
        .map(|(id, v)| format!("{id}: run {v:?}, conformance {:?}", test[id]))
        .collect();
    assert!(differ.is_empty(), "{label}: the front ends disagree:\n{}", differ.join("\n"));
}

#[test]
fn run_and_the_conformance_harness_agree_scenario_by_scenario() {
    let embedded = both(None);
    assert_same("embedded mock", &embedded);
    assert!(embedded[0].len() > 40 && embedded[0].values().all(|(o, _)| o == "pass"), "{:?}", embedded[0]);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock = rt.block_on(MockOperator::start(MockConfig::new(mssconf::runner::mock_state_dir().join("pki")))).expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("stripped.target.yaml");
    mock.write_target(&profile).unwrap();
    let yaml = std::fs::read_to_string(&profile).unwrap();
    let kept: Vec<&str> = yaml.lines().filter(|l| !REMOVED.iter().any(|r| l.starts_with(r))).collect();
    assert_eq!(yaml.lines().count() - kept.len(), REMOVED.len(), "every removed line was in the mock profile");
    std::fs::write(&profile, kept.join("\n") + "\n").unwrap();
    let stripped = both(Some(&profile));
    rt.block_on(mock.shutdown());
    assert_same("material removed", &stripped);
    let skip = |id: &str, needle: &str| {
        let (outcome, reason) = &stripped[0][id];
        assert!(outcome == "skip" && reason.as_deref().unwrap_or_default().contains(needle), "{id}: {outcome} {reason:?}");
    };
    skip("OPE/DIR.01.01", "http.autoconfig");
    skip("OPE/DIR.02.01", "http.whitelist");
    skip("OPE/APP.02.05", "negative.revoked_client_cert");
    skip("OPE/SUB.03.01", "http.whitelist");
    skip("OPE/AUTH.03.01", "negative.expired_token");
    skip("OPE/APP.02.03", "negative.foreign_client_cert");
    assert!(stripped[0].values().any(|(o, _)| o == "pass"), "some scenarios still run: {:?}", stripped[0]);
}
