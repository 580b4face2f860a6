//! `manifest.json`: what a bundle holds (name, size, SHA-256 of every other file), where it comes
//! from (run, target, tool, scenario file hashes), and who signed it. `manifest.sig` is the
//! Ed25519 signature over the exact bytes of `manifest.json`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::record::{Outcome, RunRecord, TargetSummary};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "manifest.sig";
pub const FORMAT: &str = "mssconf-bundle/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the zip (`/` separated).
    pub name: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl FileEntry {
    pub fn of(name: &str, bytes: &[u8]) -> Self {
        FileEntry { name: name.to_string(), size: bytes.len() as u64, sha256: hex::encode(Sha256::digest(bytes)) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    /// Version of mssconf that ran the scenarios.
    pub tool_version: String,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub target: TargetSummary,
    pub selection: Vec<String>,
    pub all_passed: bool,
    /// Scenario count per outcome (`pass`, `fail`, `error`, `skip`, `interrupted`).
    pub outcomes: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioFile {
    pub id: String,
    pub outcome: Outcome,
    /// The scenario's YAML file and its SHA-256, as run.
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureInfo {
    pub algorithm: String,
    /// Hex of the 32-byte Ed25519 public key (also in `mssconf.pub`).
    pub public_key: String,
    pub file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tool: String,
    /// Version of mssconf that built the bundle.
    pub tool_version: String,
    pub created: DateTime<Utc>,
    pub run: RunInfo,
    pub scenarios: Vec<ScenarioFile>,
    pub files: Vec<FileEntry>,
    #[serde(default)]
    pub signature: Option<SignatureInfo>,
    /// This tool's proof id → the official REM proof number its file is named after
    /// (`--proof-numbers`); empty when no mapping was given.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub proof_numbers: std::collections::BTreeMap<String, String>,
}

impl Manifest {
    pub fn new(run: &RunRecord, files: Vec<FileEntry>, signature: Option<SignatureInfo>, created: DateTime<Utc>) -> Self {
        let outcomes = [Outcome::Pass, Outcome::Fail, Outcome::Error, Outcome::Skip, Outcome::Interrupted]
            .into_iter()
            .map(|o| (o.name().to_string(), run.count(o)))
            .collect();
        Manifest {
            format: FORMAT.into(),
            tool: "mssconf".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            created,
            run: RunInfo {
                run_id: run.run_id.clone(),
                tool_version: run.tool_version.clone(),
                started: run.started,
                finished: run.finished,
                target: run.target.clone(),
                selection: run.selection.clone(),
                all_passed: run.all_passed(),
                outcomes,
            },
            scenarios: run
                .scenarios
                .iter()
                .map(|s| ScenarioFile { id: s.id.clone(), outcome: s.outcome, file: s.file.clone(), sha256: s.file_sha256.clone() })
                .collect(),
            files,
            signature,
            proof_numbers: Default::default(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    #[test]
    fn round_trips_and_hashes_like_sha256sum() {
        let run = run_with(vec![scenario_with_session()]);
        let entry = FileEntry::of("a.txt", b"abc");
        assert_eq!(entry.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let m = Manifest::new(&run, vec![entry.clone()], None, run.started);
        let back: Manifest = serde_json::from_slice(&m.to_bytes()).unwrap();
        assert_eq!(back.files, vec![entry]);
        assert_eq!(back.run.outcomes["pass"], 1);
        assert_eq!(back.scenarios[0].sha256, "ab".repeat(32));
        assert_eq!(back.format, FORMAT);
    }
}
