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
