//! `log` proofs as text files: a header saying what the excerpt proves (scenario, requirements,
//! verdict, target, time), the step's checks, then the step's transcript lines with UTC
//! millisecond timestamps. `file` proofs are the same facts as JSON.

use std::fmt::Write as _;

use serde_json::json;

use crate::lang::Lang;
use crate::evidence::labels::{labels, title};
use crate::record::words::verdict;
use crate::exec::transcript::Line;
use crate::record::{Outcome, ProofRecord, RunRecord, ScenarioRecord, StepRecord};
use crate::util::visible::visible;
use crate::util::paris::{format_paris, format_utc};

/// `2026-11-25T17:33:33.553Z imap#1 S: a1 OK done`
pub fn render_line(line: &Line) -> String {
    render_line_in(line, Lang::En)
}

/// [`render_line`], the harness's notes in `lang`.
pub fn render_line_in(line: &Line, lang: Lang) -> String {
    let note = line.dir == crate::exec::transcript::Direction::Note;
    let text = if note { crate::verdict::french::note(&line.text, lang) } else { line.text.clone() };
    format!("{} {} {} {}", line.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"), line.conn, line.dir.prefix(), visible(&text))
}

/// Index in `scenario.steps` of the record of step `step`: the step itself in a straight run;
/// in an audit (where steps may be repeated or skipped) its latest attempt still in the record.
pub fn step_record_index(run: &RunRecord, scenario: &ScenarioRecord, step: usize) -> Option<usize> {
    let index = match &run.audit {
        Some(audit) => audit
            .attestations
            .iter()
            .rev()
            .find(|a| a.scenario == scenario.name && a.step == step && !a.superseded)
            .and_then(|a| a.record_step),
        None => Some(step),
    };
    index.filter(|&i| i < scenario.steps.len())
}

/// The step a proof belongs to, when it ran: its number (0-based) and its record.
pub fn step_of<'a>(run: &RunRecord, scenario: &'a ScenarioRecord, proof: &ProofRecord) -> Option<(usize, &'a StepRecord)> {
    let step = proof.step?;
    step_record_index(run, scenario, step).map(|i| (step, &scenario.steps[i]))
}

/// The transcript lines a proof covers: its step's range, or the whole scenario; and the index
/// of the first one.
pub fn excerpt<'a>(run: &RunRecord, scenario: &'a ScenarioRecord, proof: &ProofRecord) -> (&'a [Line], usize) {
    let all = &scenario.transcript;
    match step_of(run, scenario, proof) {
        Some((_, step)) => {
            let from = step.transcript_from.min(all.len());
            let to = step.transcript_to.clamp(from, all.len());
            (&all[from..to], from)
        }
        None if proof.step.is_some() => (&[], 0),
        None => (all, 0),
    }
}

/// The text of a `log` proof.
pub fn render_log(run: &RunRecord, scenario: &ScenarioRecord, proof: &ProofRecord, lang: Lang) -> String {
    let l = labels(lang);
    let mut out = String::new();
    let _ = writeln!(out, "# mssconf — {} {} — {}", l.proof, proof.id, visible(&proof.title));
    header(&mut out, run, scenario, lang);
    let (lines, from) = excerpt(run, scenario, proof);
    match step_of(run, scenario, proof) {
        Some((i, step)) => {
            // Steps recorded, not entries: in an audit a step may have several attempts.
            let recorded = run.step_numbers(scenario).iter().map(|n| n.step + 1).max().unwrap_or(0);
            let total = recorded.max(i + 1);
            let _ = writeln!(out, "{:<16}{}/{total} — {} ({})", l.step, i + 1, visible(&step.title), verdict(step.outcome, lang).text);
            if let Some(e) = &step.error {
                let _ = writeln!(out, "{:<16}{}", l.reason, visible(&crate::verdict::french::reason(e, lang)));
            }
            checks(&mut out, step, lang);
        }
        None if proof.step.is_some() => {
            let _ = writeln!(out, "{:<16}{} ({})", l.step, proof.step.map_or(0, |s| s + 1), l.not_run);
        }
        None => {}
    }
    let _ = writeln!(out, "{:<16}{}..{} / {}", l.lines, from, from + lines.len(), scenario.transcript.len());
    let _ = writeln!(out, "# {}", l.legend);
    out.push('\n');
    for line in lines {
        out.push_str(&render_line_in(line, lang));
        out.push('\n');
    }
    out
}

fn header(out: &mut String, run: &RunRecord, s: &ScenarioRecord, lang: Lang) {
    let l = labels(lang);
    let t = &run.target;
    let _ = writeln!(out, "{:<16}{} — {}", l.scenario, s.id, visible(title(s, lang)));
    let _ = writeln!(out, "{:<16}{}", l.requirements, s.requirements.join(", "));
    let _ = writeln!(out, "{:<16}{}", l.verdict, verdict(s.outcome, lang).text);
    if let Some(r) = s.reason.as_deref().filter(|_| s.outcome != Outcome::Pass) {
        let _ = writeln!(out, "{:<16}{}", l.reason, visible(&s.reason_in(r, lang)));
    }
    let mock = if t.embedded_mock { format!(" — {}", l.embedded_mock) } else { String::new() };
    let _ = writeln!(out, "{:<16}{} / {} {} ({}){mock}", l.target, t.operator, t.service, t.version, t.environment);
    let _ = writeln!(out, "{:<16}{} ({})", l.host, t.server_name, t.domain);
    let _ = writeln!(out, "{:<16}{}", l.endpoints, t.endpoints.join(", "));
    if let Some(at) = s.started {
        let _ = writeln!(out, "{:<16}{} — Paris {}", l.time, format_utc(at), format_paris(at));
    }
    let _ = writeln!(out, "{:<16}{} {} — {} {}", l.tool, run.tool, run.tool_version, l.run, run.run_id);
}

fn checks(out: &mut String, step: &StepRecord, lang: Lang) {
    if step.checks.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}:", labels(lang).checks);
    for c in &step.checks {
        let mark = match (c.passed, c.advisory, lang) {
            (true, _, _) => "[ok]   ",
            (false, true, Lang::Fr) => "[avis] ",
            (false, true, Lang::En) => "[note] ",
            (false, false, Lang::Fr) => "[ÉCHEC]",
            (false, false, Lang::En) => "[FAIL] ",
        };
        let _ = writeln!(out, "  {mark} {}", visible(&crate::verdict::french::summary(c, lang)));
    }
}

/// The JSON of a `file` proof: the same facts as a log, machine-readable.
pub fn render_json(run: &RunRecord, scenario: &ScenarioRecord, proof: &ProofRecord) -> String {
    let (lines, from) = excerpt(run, scenario, proof);
    let value = json!({
        "proof": proof,
        "run_id": run.run_id,
        "tool": run.tool,
        "tool_version": run.tool_version,
        "target": run.target,
        "scenario": {
            "id": scenario.id,
            "title": scenario.title,
            "title_en": scenario.title_en,
            "requirements": scenario.requirements,
            "outcome": scenario.outcome,
            "reason": scenario.reason,
            "started": scenario.started,
        },
        "step": step_of(run, scenario, proof).map(|(_, s)| s),
        "transcript_from": from,
        "transcript": lines,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    #[test]
    fn a_log_holds_header_checks_and_only_its_step() {
        let s = scenario_with_session();
        let run = run_with(vec![s.clone()]);
        let proof = &s.proofs[0];
        let text = render_log(&run, &s, proof, Lang::Fr);
        assert!(text.starts_with("# mssconf — Preuve OPE/PROD.01.01.01 — Preuve log\n"), "{text}");
        assert!(!text.contains("pass (conforme)"), "no English outcome word in French: {text}");
        for must in ["OPE/PROD.01", "Verdict         conforme", "MockOperateur", "mock.mssante.test", "[ok]", "UTC", "Paris"] {
            assert!(text.contains(must), "{must} missing:\n{text}");
        }
        assert!(text.contains("2026-11-25T17:00:00.000Z smtp#1 S: 220 ready"));
        assert!(!text.contains("imap#2"), "step 1's log must not hold step 2's lines");
        assert!(render_log(&run, &s, proof, Lang::En).contains("Requirements"));
    }

    #[test]
    fn control_characters_are_made_visible() {
        let mut s = scenario_with_session();
        s.transcript[1].text = "220 \u{1b}[31mred".into();
        let run = run_with(vec![s.clone()]);
        let text = render_log(&run, &s, &s.proofs[0], Lang::Fr);
        assert!(text.contains("220 \\x1b[31mred"));
    }

    #[test]
    fn json_proof_parses_and_holds_the_excerpt() {
        let s = scenario_with_session();
        let run = run_with(vec![s.clone()]);
        let v: serde_json::Value = serde_json::from_str(&render_json(&run, &s, &s.proofs[0])).unwrap();
        assert_eq!(v["scenario"]["id"], "OPE/PROD.01.01");
        assert!(v["transcript"].as_array().unwrap().iter().all(|l| l["conn"] == "smtp#1"));
    }

    #[test]
    fn in_an_audit_the_latest_attempt_of_the_step_is_shown() {
        let mut s = scenario_with_session();
        // Step 1 (index 0) was run twice: its second attempt is record step 2.
        let mut retry = s.steps[0].clone();
        retry.title = "Envoi SMTP (nouvel essai)".into();
        s.steps.push(retry);
        let mut run = run_with(vec![s.clone()]);
        let attestation = |step: usize, record_step: usize| {
            serde_json::json!({"scenario": s.name, "step": step, "step_title": "t", "attempt": 1, "outcome": "pass",
                "observed_at": "2026-11-25T17:00:00Z", "auditor": "A", "statement": "vu", "session": 1,
                "record_step": record_step})
        };
        run.audit = Some(
            serde_json::from_value(serde_json::json!({"auditor": "A", "sessions": [], "complete": true,
                "attestations": [attestation(0, 0), attestation(1, 1), attestation(0, 2)]}))
            .unwrap(),
        );
        assert_eq!(step_record_index(&run, &s, 0), Some(2));
        assert_eq!(step_record_index(&run, &s, 1), Some(1));
        assert!(render_log(&run, &s, &s.proofs[0], Lang::Fr).contains("(nouvel essai)"));
        run.audit = None;
        assert_eq!(step_record_index(&run, &s, 0), Some(0));
        assert_eq!(step_record_index(&run, &s, 7), None);
    }
}
