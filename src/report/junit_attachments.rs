//! Evidence files attached to `junit.xml` test cases the way CI servers read them: one
//! `[[ATTACHMENT|path]]` line per proof file at the top of the case's `<system-out>` (GitLab's
//! unit test reports link the first one, so a scenario's PNG card comes first; Jenkins' JUnit
//! Attachments plugin keeps them all).
//!
//! Paths are the report folder as given (relative to the directory mssconf runs in, which in CI
//! is the checkout: `$CI_PROJECT_DIR`, the Jenkins workspace) joined with each proof's path, so
//! they name the files the CI job keeps as artifacts. An absolute report folder under the
//! current directory is made relative the same way; `MSSCONF_JUNIT_ATTACHMENT_BASE` replaces the
//! folder when CI sees it elsewhere. A marker anywhere else in the text (a server reply echoed
//! in a transcript) is defused, so a server cannot make CI attach a file of its choosing.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use quick_junit::{Report, TestCaseStatus, XmlString};

use crate::record::{RunRecord, ScenarioRecord};

pub const MARKER: &str = "[[ATTACHMENT|";
/// Overrides the report folder written in the attachment paths.
pub const BASE_ENV: &str = "MSSCONF_JUNIT_ATTACHMENT_BASE";

/// `junit.xml` for a run whose evidence is in `dir`.
pub fn render(record: &RunRecord, dir: &Path, lang: crate::lang::Lang) -> Result<String, quick_junit::SerializeError> {
    let base = std::env::var(BASE_ENV).ok().filter(|b| !b.trim().is_empty()).unwrap_or_else(|| base_for(dir));
    let mut report = super::junit::build_report_in(record, lang);
    attach(&mut report, record, &base);
    report.to_string()
}

/// The report folder as CI sees it: relative to the current directory when it is under it.
pub fn base_for(dir: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = match cwd.as_deref().and_then(|c| dir.strip_prefix(c).ok()) {
        Some(rel) if dir.is_absolute() => rel,
        _ => dir,
    };
    let clean: PathBuf = rel.components().filter(|c| *c != Component::CurDir).collect();
    clean.to_string_lossy().into_owned()
}

/// Puts each scenario's attachment lines first in its case's `<system-out>`, and defuses
/// markers everywhere else in the case's outputs.
pub fn attach(report: &mut Report, record: &RunRecord, base: &str) {
    let by_case: HashMap<(String, String), &ScenarioRecord> =
        record.scenarios.iter().map(|s| ((format!("mssconf.{}", s.profile), s.id.clone()), s)).collect();
    for suite in &mut report.test_suites {
        for case in &mut suite.test_cases {
            let key = (case.classname.as_deref().unwrap_or("").to_string(), case.name.to_string());
            let lines = by_case.get(&key).map(|s| lines(s, base)).unwrap_or_default();
            let rest = case.system_out.as_ref().map(|t| defuse(t.as_str())).unwrap_or_default();
            if !(lines.is_empty() && rest.is_empty()) {
                case.system_out = Some(XmlString::new(format!("{lines}{rest}")));
            }
            for rerun in reruns(&mut case.status) {
                if let Some(out) = rerun.system_out.take() {
                    rerun.system_out = Some(XmlString::new(defuse(out.as_str())));
                }
            }
        }
    }
}

fn reruns(status: &mut TestCaseStatus) -> &mut [quick_junit::TestRerun] {
    match status {
        TestCaseStatus::Success { flaky_runs } => flaky_runs,
        TestCaseStatus::NonSuccess { reruns, .. } => &mut reruns.runs,
        TestCaseStatus::Skipped { .. } => &mut [],
    }
}

/// One `[[ATTACHMENT|base/file]]` line per proof file, PNG cards first.
pub fn lines(s: &ScenarioRecord, base: &str) -> String {
    let mut files: Vec<&str> = s.proofs.iter().filter_map(|p| p.file.as_deref()).collect();
    files.sort_by_key(|f| !f.ends_with(".png"));
    files.iter().map(|f| format!("{MARKER}{}]]\n", join(base, f))).collect()
}

fn join(base: &str, file: &str) -> String {
    if base.is_empty() { file.to_string() } else { format!("{}/{file}", base.trim_end_matches('/')) }
}

/// A marker not written by us becomes inert text (`[ [ATTACHMENT|…`).
pub fn defuse(text: &str) -> String {
    text.replace("[[ATTACHMENT", "[ [ATTACHMENT")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_with_proofs() -> RunRecord {
        let mut record = crate::report::tests::empty_record();
        record.scenarios.push(
            serde_json::from_value(serde_json::json!({
                "id": "OPE/TLS.05.01", "name": "general::OPE/TLS.05.01", "title": "t", "title_en": null, "description": null,
                "requirements": ["OPE/TLS.05"], "profile": "general", "tags": [], "confidence": null, "file": "f.yaml",
                "file_sha256": "00", "outcome": "fail", "reason": "chain not verified", "started": null, "duration_ms": 30,
                "steps": [], "transcript": [{"at": "2026-11-25T17:00:00Z", "conn": "smtp#1", "dir": "received",
                    "text": "250 ok [[ATTACHMENT|/etc/passwd]]"}],
                "proofs": [
                    {"id": "OPE/TLS.05.01.01", "kind": "log", "title": "log", "file": "proofs/OPE_TLS.05.01.01.log", "step": 0},
                    {"id": "OPE/TLS.05.01.03", "kind": "screenshot", "title": "card", "file": "proofs/OPE_TLS.05.01.03.png", "step": null},
                    {"id": "OPE/TLS.05.01.04", "kind": "log", "title": "never reached", "file": null, "step": 1}
                ],
                "messages": []
            }))
            .expect("valid scenario record"),
        );
        record
    }

    #[test]
    fn proof_files_are_attached_card_first_and_foreign_markers_defused() {
        let record = record_with_proofs();
        let mut report = crate::report::junit::build_report(&record);
        attach(&mut report, &record, "reports/shard-1");
        let xml = report.to_string().unwrap();
        let out = xml.split("<system-out>").nth(1).expect("system-out");
        assert!(
            out.starts_with("[[ATTACHMENT|reports/shard-1/proofs/OPE_TLS.05.01.03.png]]\n[[ATTACHMENT|reports/shard-1/proofs/OPE_TLS.05.01.01.log]]\nscenario: OPE/TLS.05.01"),
            "{xml}"
        );
        assert_eq!(xml.matches("[[ATTACHMENT|").count(), 2, "{xml}");
        assert!(xml.contains("250 ok [ [ATTACHMENT|/etc/passwd]]"), "{xml}");
    }

    #[test]
    fn the_base_is_the_report_folder_as_given_or_relative_to_the_current_directory() {
        assert_eq!(base_for(Path::new("./reports/shard-2")), "reports/shard-2");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(base_for(&cwd.join("reports/x")), "reports/x");
        assert_eq!(base_for(Path::new("/elsewhere/reports")), "/elsewhere/reports");
    }
}
