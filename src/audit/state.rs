//! The audit's progress on disk: `<report dir>/audit-state.json`, rewritten atomically after
//! every step, note and skip, so a dropped session loses at most the step on screen.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::record::audit::AuditRecord;
use crate::lang::Lang;
use crate::record::RunRecord;
use crate::util::atomic::write_atomic;

pub const STATE_FILE: &str = "audit-state.json";
/// Bumped when a state file of an older mssconf can no longer be resumed.
pub const STATE_FORMAT: u32 = 1;

/// What the audit was started with; a resumed session reuses it as is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditOptions {
    /// Absolute project root (`scenarios/`, `fixtures/`).
    pub root: PathBuf,
    /// Scenario files or folders given with `--scenarios` (absolute), empty for the default.
    pub scenarios: Vec<PathBuf>,
    pub scenario: Vec<String>,
    pub tag: Vec<String>,
    pub requirement: Vec<String>,
    pub profile: Vec<String>,
    /// Target profile (absolute), `None` for the embedded mock operator.
    pub target: Option<PathBuf>,
    pub mock_faults: Vec<String>,
    /// HTML report language: `fr` or `en`.
    pub lang: String,
    /// `--production`: the target is a production platform (production-tagged scenarios only).
    #[serde(default)]
    pub production: bool,
    /// SHA-256 of the target profile when the audit started: `--resume` refuses a changed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_sha256: Option<String>,
}

impl AuditOptions {
    pub fn lang(&self) -> Lang {
        if self.lang == "en" { Lang::En } else { Lang::Fr }
    }

    /// The `selection` of the run record: the filters, as they would be typed.
    pub fn selection(&self) -> Vec<String> {
        let mut s = vec!["audit".to_string()];
        s.extend(self.scenario.iter().map(|x| format!("--scenario {x}")));
        s.extend(self.tag.iter().map(|x| format!("--tag {x}")));
        s.extend(self.requirement.iter().map(|x| format!("--requirement {x}")));
        s.extend(self.profile.iter().map(|x| format!("--profile {x}")));
        s.extend(self.mock_faults.iter().map(|x| format!("--mock-fault {x}")));
        if self.production {
            s.push("--production".into());
        }
        s
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditState {
    pub format: u32,
    pub options: AuditOptions,
    /// Scenario names (`<profile>::<id>`) in plan order.
    pub planned: Vec<String>,
    /// The finished scenarios, and the `audit` section (always present in a state file).
    pub record: RunRecord,
    /// The scenario on screen when the state was saved: a resumed session starts it again.
    pub current: Option<String>,
    /// Scenarios whose evidence could not all be written (said when it happened; the audit's
    /// exit status is 2 even if a later session finishes it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_failures: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read or write the audit state {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the audit state {} is not readable (damaged, or not written by mssconf): {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("the audit state {} has format {found}; this mssconf resumes format {STATE_FORMAT} only", path.display())]
    Format { path: PathBuf, found: u32 },
}

impl AuditState {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    pub fn load(dir: &Path) -> Result<Self, StateError> {
        let path = Self::path(dir);
        let bytes = std::fs::read(&path).map_err(|source| StateError::Io { path: path.clone(), source })?;
        let state: AuditState = serde_json::from_slice(&bytes).map_err(|source| StateError::Json { path: path.clone(), source })?;
        if state.format != STATE_FORMAT {
            return Err(StateError::Format { path, found: state.format });
        }
        Ok(state)
    }

    /// Writes the state atomically (the folder is created if missing).
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let path = Self::path(dir);
        let io = |source| StateError::Io { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut text = serde_json::to_string_pretty(self).map_err(|source| StateError::Json { path: path.clone(), source })?;
        text.push('\n');
        write_atomic(&path, text.as_bytes()).map_err(io)
    }

    /// The audit section (created when missing).
    pub fn audit(&mut self) -> &mut AuditRecord {
        self.record.audit.get_or_insert_with(|| AuditRecord::new(""))
    }

    pub fn is_finished(&self, scenario: &str) -> bool {
        self.record.scenarios.iter().any(|s| s.name == scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AuditState {
        let record: RunRecord = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "tool": "mssconf", "tool_version": "0", "started": "2026-01-01T00:00:00Z",
            "finished": null, "target": {"name": "t", "operator": "o", "service": "s", "version": "1", "environment": "test",
            "domain": "d", "server_name": "m", "endpoints": [], "claims": [], "embedded_mock": true},
            "selection": [], "scenarios": [], "audit": {"auditor": "Alice", "sessions": [], "attestations": [], "complete": false}
        }))
        .unwrap();
        let options = AuditOptions {
            root: "/p".into(),
            scenarios: vec![],
            scenario: vec!["OPE/TLS.*".into()],
            tag: vec![],
            requirement: vec![],
            profile: vec![],
            target: None,
            mock_faults: vec!["tls10".into()],
            lang: "en".into(),
            production: false,
            target_sha256: None,
        };
        AuditState { format: STATE_FORMAT, options, planned: vec!["general::A".into()], record, current: Some("general::A".into()), evidence_failures: vec![] }
    }

    #[test]
    fn saved_state_loads_back_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = state();
        s.save(dir.path()).unwrap();
        let back = AuditState::load(dir.path()).unwrap();
        assert_eq!(back.current.as_deref(), Some("general::A"));
        assert_eq!(back.record.audit.unwrap().auditor, "Alice");
        assert_eq!(back.options.lang(), Lang::En);
        assert_eq!(back.options.selection(), ["audit", "--scenario OPE/TLS.*", "--mock-fault tls10"]);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [STATE_FILE]);
    }

    #[test]
    fn damaged_or_foreign_states_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(AuditState::path(dir.path()), "{ not json").unwrap();
        let e = AuditState::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(STATE_FILE) && e.contains("not readable"), "{e}");
        let mut s = state();
        s.format = 99;
        s.save(dir.path()).unwrap();
        assert!(matches!(AuditState::load(dir.path()), Err(StateError::Format { found: 99, .. })));
        let missing = AuditState::load(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, StateError::Io { .. }));
    }
}
