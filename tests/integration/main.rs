//! CLI and end-to-end tests of `mssconf` (one test binary, one module per subject).

mod architecture;
mod audit;
mod behaviours;
mod big_message;
mod ci;
mod ci_examples;
mod cli;
mod dossier_cli;
mod evidence_bundle;
mod evidence_canary;
mod evidence_cosign;
mod evidence_deposit;
mod evidence_cli;
mod evidence_redaction;
mod evidence_support;
mod faults;
mod fixtures_guard;
mod french_outputs;
mod front_ends;
mod fuzz_corpus;
mod golden;
mod hostile;
mod interrupt;
mod junit_attachments;
mod load;
mod mock_cli;
mod pacing;
mod production_app;
mod preflight;
mod parse_cache;
mod report_writers;
mod revocation;
mod robustness;
mod safety;
mod scale;
mod schema;
mod timing;
mod tokens;
mod validate;
mod verdicts;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the built `mssconf` binary from the package root.
pub fn mssconf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(args)
        .current_dir(root())
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env_remove("MSSCONF_MOCK_BEHAVIOURS")
        .output()
        .expect("mssconf runs")
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `(id, outcome, reason)` of every scenario of a `report.json`.
pub fn outcomes(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| (s["id"].as_str().unwrap().into(), s["outcome"].as_str().unwrap().into(), s["reason"].as_str().unwrap_or("").into()))
        .collect()
}

/// A mock operator on its own runtime, alive until dropped (handle first, then the runtime).
pub struct Mock {
    handle: Option<mssconf_mock::MockHandle>,
    _rt: tokio::runtime::Runtime,
}

impl Mock {
    pub fn start(faults: &[mssconf_mock::faults::Fault]) -> Mock {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let mut config = mssconf_mock::MockConfig::new(mssconf::runner::mock_state_dir().join("pki"));
        config.faults = faults.iter().copied().collect();
        let handle = rt.block_on(mssconf_mock::MockOperator::start(config)).expect("mock starts");
        Mock { handle: Some(handle), _rt: rt }
    }

    pub fn handle(&self) -> &mssconf_mock::MockHandle {
        self.handle.as_ref().expect("running")
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        drop(self.handle.take());
    }
}
