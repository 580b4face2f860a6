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
}
