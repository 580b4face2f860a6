//! `report.json`: the run record as is, plus a top-level `summary` (see `docs/report-json.md`).

use serde::Serialize;

use super::ReportError;
use super::summary::Summary;
use crate::record::RunRecord;
use crate::requirement::RequirementIndex;

/// The record's fields stay at the top level so `report.json` deserializes back into a
/// [`RunRecord`] (which ignores the extra `summary` key).
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    summary: Summary,
}

pub fn render_json(record: &RunRecord, index: &RequirementIndex) -> Result<String, ReportError> {
    let report = JsonReport { record, summary: Summary::of(record, index) };
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    Ok(text)
}

/// Writes `report.json` to `path` atomically, serialized straight into the file: for a run of
/// 1,000 scenarios the text is ~15 MB, which need not be held in memory at once.
pub fn write_json(path: &std::path::Path, record: &RunRecord, index: &RequirementIndex) -> Result<(), ReportError> {
    use std::io::Write;
    let report = JsonReport { record, summary: Summary::of(record, index) };
    let mut refused = None;
    let written = crate::util::atomic::write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        if let Err(e) = serde_json::to_writer_pretty(&mut out, &report) {
            if e.is_io() {
                return Err(e.into());
            }
            refused = Some(e);
            return Err(std::io::Error::other("report.json could not be serialized"));
        }
        out.write_all(b"\n")?;
        out.flush()
    });
    match (written, refused) {
        (_, Some(e)) => Err(ReportError::Json(e)),
        (Err(source), None) => Err(ReportError::Io { path: path.to_path_buf(), source }),
        (Ok(()), None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_sits_beside_the_record_fields() {
        let index = RequirementIndex { requirements: vec![] };
        let text = render_json(&crate::report::tests::empty_record(), &index).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["run_id"], "20260101T000000Z-0000");
        assert_eq!(v["summary"]["all_passed"], true);
        assert_eq!(v["summary"]["scenarios"]["total"], 0);
        assert_eq!(v["summary"]["requirements"]["not_run"], 0);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn the_written_file_is_the_rendered_text() {
        let index = RequirementIndex { requirements: vec![] };
        let record = crate::report::tests::empty_record();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_json(&path, &record, &index).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), render_json(&record, &index).unwrap());
    }
}
