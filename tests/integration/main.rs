//! CLI and end-to-end tests of `mssconf` (one test binary, one module per subject).

mod audit;
mod big_message;
mod ci;
mod cli;
mod evidence_bundle;
mod evidence_canary;
mod evidence_cli;
mod evidence_redaction;
mod evidence_support;
mod faults;
mod fixtures_guard;
mod front_ends;
mod fuzz_corpus;
mod hostile;
mod interrupt;
mod load;
mod mock_cli;
mod pacing;
mod parse_cache;
mod report_writers;
mod robustness;
mod safety;
mod scale;
mod schema;
mod timing;
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
        .output()
        .expect("mssconf runs")
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}
