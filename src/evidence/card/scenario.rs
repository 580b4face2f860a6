//! The card of a scenario's `screenshot` proof: what was checked, on which target, with which
//! mailbox, mechanism and TLS, the verdict, and the transcript lines that show it.

use super::{Card, CheckRow};
use crate::lang::Lang;
use crate::evidence::facts::{SessionFacts, key_lines};
use crate::evidence::labels::{Labels, labels, title};
use crate::exec::transcript::Line;
use crate::record::{Outcome, ProofRecord, RunRecord, ScenarioRecord};
use crate::util::visible::visible;
use crate::util::paris::{format_paris, format_utc};

/// Transcript lines shown on a card.
pub const KEY_LINES: usize = 12;

/// `17:33:33.553 smtp#1 S: 235 2.7.0 Authentication successful`
pub fn card_line(line: &Line) -> String {
    format!("{} {} {} {}", line.at.format("%H:%M:%S%.3f"), line.conn, line.dir.prefix(), visible(&line.text))
}

/// The key lines of a transcript, rendered.
pub fn key_transcript(lines: &[Line]) -> Vec<String> {
    key_lines(lines, KEY_LINES).into_iter().map(|i| card_line(&lines[i])).collect()
}

/// The warning band of a run whose target is not a production one.
pub fn target_warning(run: &RunRecord, l: &Labels) -> Option<String> {
    run.target.embedded_mock.then(|| l.embedded_mock.to_string())
}

/// Rows shared by every card: target, host, mailboxes, mechanism, TLS, time, tool.
pub fn common_facts(run: &RunRecord, s: &ScenarioRecord, facts: &SessionFacts, lang: Lang) -> Vec<(String, String)> {
    let l = labels(lang);
    let t = &run.target;
    let or_none = |v: Vec<String>| if v.is_empty() { l.none.to_string() } else { v.join(", ") };
    let mut rows = vec![
        (l.target.into(), format!("{} / {} {} ({})", t.operator, t.service, t.version, t.environment)),
        (l.host.into(), format!("{} — {}", t.server_name, t.domain)),
        (l.mailboxes.into(), or_none(facts.mailboxes())),
        (l.mechanism.into(), or_none(mechanisms(facts, l))),
        (l.tls.into(), or_none(facts.distinct_tls())),
    ];
    if let Some(at) = s.started {
        rows.push((l.time.into(), format!("{} — Paris {}", format_utc(at), format_paris(at))));
    }
    rows.push((l.run.into(), format!("{} {} — {}", run.tool, run.tool_version, run.run_id)));
    rows
}

fn mechanisms(facts: &SessionFacts, l: &Labels) -> Vec<String> {
    facts
        .mechanisms()
        .into_iter()
        .map(|m| if m == "TLS client certificate" { l.client_certificate.to_string() } else { m })
        .collect()
}

/// The footer: where the card comes from, so a reader can find the full evidence.
pub fn footer(run: &RunRecord, proof_id: &str, lang: Lang) -> String {
    let l = labels(lang);
    format!(
        "{} {} {} — {} {} — {} {} — report.json / junit.xml",
        l.generated_by, run.tool, run.tool_version, l.run, run.run_id, l.proof, proof_id
    )
}

/// The card of `proof`, a `screenshot` proof of scenario `s`.
pub fn scenario_card(run: &RunRecord, s: &ScenarioRecord, proof: &ProofRecord, lang: Lang) -> Card {
    let l = labels(lang);
    let facts = SessionFacts::analyse(&s.transcript);
    let mut rows = vec![(l.requirements.to_string(), s.requirements.join(", "))];
    rows.extend(common_facts(run, s, &facts, lang));
    if let Some(r) = s.reason.as_deref().filter(|_| s.outcome != Outcome::Pass) {
        rows.push((l.reason.into(), visible(&s.reason_in(r, lang))));
    }
    Card {
        heading: format!("mssconf — {} {}", l.rendering, proof.id),
        verdict: s.outcome,
        verdict_word: crate::record::words::verdict(s.outcome, lang).word.into(),
        warning: target_warning(run, l),
        title: format!("{} — {}", s.id, title(s, lang)),
        subtitle: Some(proof.title.clone()),
        facts: rows,
        checklist_title: l.steps.into(),
        checklist: steps(run, s, l, lang),
        transcript_title: l.key_lines.into(),
        transcript: key_transcript(&s.transcript),
        footer: footer(run, &proof.id, lang),
    }
}

fn steps(run: &RunRecord, s: &ScenarioRecord, l: &Labels, lang: Lang) -> Vec<CheckRow> {
    run.step_numbers(s)
        .into_iter()
        .zip(&s.steps)
        .map(|(number, step)| {
            let failed = step.checks.iter().find(|c| c.fails()).map(|c| crate::verdict::french::summary(c, lang));
            let detail = match (&step.error, failed) {
                (Some(e), _) => format!("{} — {}", step.title, crate::verdict::french::reason(e, lang)),
                (None, Some(f)) => format!("{} — {}", step.title, f),
                (None, None) => step.title.clone(),
            };
            CheckRow { status: step.outcome.into(), label: number.label(l.step, l.attempt), detail: visible(&detail) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    #[test]
    fn the_card_holds_the_facts() {
        let s = scenario_with_session();
        let run = run_with(vec![s.clone()]);
        let card = scenario_card(&run, &s, &s.proofs[2], Lang::Fr);
        assert_eq!(card.verdict_word, "CONFORME");
        assert_eq!(card.heading, "mssconf — Rendu de la preuve OPE/PROD.01.01.03", "a rendering, not a capture");
        assert!(card.title.starts_with("OPE/PROD.01.01 — Test technique"));
        let facts: Vec<String> = card.facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let all = facts.join("\n");
        for must in ["OPE/PROD.01", "dr.martin.fictif@", "XOAUTH2", "TLSv1_3 TLS13_AES_256_GCM_SHA384", "UTC", "Paris", "20261125T170000Z-abcd"] {
            assert!(all.contains(must), "{must} missing:\n{all}");
        }
        assert!(card.warning.is_some(), "the embedded mock is flagged");
        assert_eq!(card.checklist.len(), 2);
        assert!(card.transcript.iter().any(|t| t.contains("235 2.7.0")));
        assert!(card.transcript.len() <= KEY_LINES);
        let en = scenario_card(&run, &s, &s.proofs[2], Lang::En);
        assert_eq!(en.verdict_word, "PASS");
        assert!(en.heading.starts_with("mssconf — Rendering of proof "), "{}", en.heading);
        assert!(en.title.contains("Production technical test"));
    }
}
