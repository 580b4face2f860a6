//! Stage 6, the end of the pipeline. Reports rendered from a finished [`RunRecord`]: `junit.xml` for CI, `report.json` for tools,
//! `report.html` for auditors. Rendering is pure; the only IO is writing the files atomically.

pub mod diff;
pub mod excerpt;
pub mod html;
pub mod json;
pub mod junit;
pub mod junit_attachments;
pub mod summary;

use std::io;
use std::path::{Path, PathBuf};

pub use summary::{RequirementStatus, Summary};

use crate::lang::Lang;
use crate::record::RunRecord;
use crate::requirement::RequirementIndex;

pub const JUNIT_FILE: &str = "junit.xml";
pub const JSON_FILE: &str = "report.json";
pub const HTML_FILE: &str = "report.html";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The report folder or a file in it could not be written (disk, permissions: the
    /// environment's fault, not the target's).
    #[error("cannot write report {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// quick-junit refused the model (a bug of ours).
    #[error("cannot serialize junit.xml: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// serde_json refused the record (a bug of ours).
    #[error("cannot serialize report.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes `junit.xml`, `report.json` and `report.html` into `dir` (created if missing) and
/// returns their paths in that order. Every file is rendered before any is written, so a
/// rendering bug leaves the folder untouched.
pub fn write_all(record: &RunRecord, index: &RequirementIndex, dir: &Path, lang: Lang) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
    crate::util::atomic::remove_stale_temps(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
    // One file at a time, each dropped once written: a large run's reports are tens of MB.
    let text = |path: PathBuf, text: String| {
        crate::util::atomic::write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Io { path: path.clone(), source }).map(|()| path)
    };
    let mut written = Vec::with_capacity(3);
    // Each case links its proof files (CI shows the PNG card of a failed case).
    written.push(text(dir.join(JUNIT_FILE), junit_attachments::render(record, dir, lang)?)?);
    let json = dir.join(JSON_FILE);
    json::write_json(&json, record, index)?;
    written.push(json);
    written.push(text(dir.join(HTML_FILE), html::render_html(record, index, lang))?);
    Ok(written)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run that selected no scenario (the smallest valid record).
    pub(crate) fn empty_record() -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "20260101T000000Z-0000", "tool": "mssconf", "tool_version": "0.1.0",
            "started": "2026-01-01T00:00:00Z", "finished": null,
            "target": {"name": "t", "operator": "o", "service": "s", "version": "1", "environment": "test",
                "domain": "d.test", "server_name": "mx.d.test", "endpoints": [], "claims": [], "embedded_mock": true},
            "selection": [], "scenarios": []
        }))
        .expect("valid record")
    }

    #[test]
    fn empty_run_writes_three_files() {
        let dir = std::env::temp_dir().join(format!("mssconf-report-empty-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = RequirementIndex { requirements: vec![] };
        let files = write_all(&empty_record(), &index, &dir, Lang::Fr).unwrap();
        assert_eq!(files, [dir.join(JUNIT_FILE), dir.join(JSON_FILE), dir.join(HTML_FILE)]);
        assert!(files.iter().all(|f| f.is_file()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
