//! `index.csv`: one row per declared proof (RFC 4180: comma separated, CRLF, fields quoted
//! when needed, UTF-8), so a reviewer can map each file to its requirement and verdict.

use crate::record::RunRecord;

pub const INDEX_FILE: &str = "index.csv";

/// One row: proof id, scenario id, requirement ids (space separated), kind, title, verdict and
/// the proof's file in the bundle (empty when the scenario did not produce it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub proof_id: String,
    pub scenario: String,
    pub requirements: String,
    pub kind: String,
    pub title: String,
    pub verdict: String,
    pub file: String,
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

pub fn render_index(rows: &[IndexRow]) -> String {
    let mut out = String::from("proof_id,scenario,requirements,kind,title,verdict,file\r\n");
    for r in rows {
        let fields = [&r.proof_id, &r.scenario, &r.requirements, &r.kind, &r.title, &r.verdict, &r.file];
        out.push_str(&fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// Rows for every proof of `run`; `file_of` maps a proof to its name in the bundle.
pub fn rows(run: &RunRecord, file_of: impl Fn(&str) -> Option<String>) -> Vec<IndexRow> {
    run.scenarios
        .iter()
        .flat_map(|s| {
            let file_of = &file_of;
            s.proofs.iter().map(move |p| IndexRow {
                proof_id: p.id.clone(),
                scenario: s.id.clone(),
                requirements: s.requirements.join(" "),
                kind: p.kind.clone(),
                title: p.title.clone(),
                verdict: s.outcome.name().to_string(),
                file: file_of(&p.id).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let row = IndexRow {
            proof_id: "OPE/TLS.01.01.01".into(),
            scenario: "OPE/TLS.01.01".into(),
            requirements: "OPE/TLS.01 OPE/TLS.06".into(),
            kind: "log".into(),
            title: "Log, \"EHLO\"".into(),
            verdict: "pass".into(),
            file: "OPE_TLS.01.01.01.log".into(),
        };
        let text = render_index(&[row]);
        assert_eq!(
            text,
            "proof_id,scenario,requirements,kind,title,verdict,file\r\n\
             OPE/TLS.01.01.01,OPE/TLS.01.01,OPE/TLS.01 OPE/TLS.06,log,\"Log, \"\"EHLO\"\"\",pass,OPE_TLS.01.01.01.log\r\n"
        );
    }
}
