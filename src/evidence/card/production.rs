//! `preuve-test-production.png`: the one picture the agency asks for at the end of the funding
//! (« capture d'écran du test technique réalisé en production »). In one frame: the production
//! host, the time (UTC and Paris), the mailbox, the mechanism, TLS version and suite, the result
//! of each phase (connect, TLS, authenticate, send, read back), the Message-ID, the verdict,
//! the tool version and the run id.

use super::scenario::{common_facts, footer, key_transcript};
use super::{Card, CheckRow, RowStatus};
use crate::lang::Lang;
use crate::evidence::facts::{Seen, SessionFacts};
use crate::evidence::labels::{Labels, labels, title};
use crate::record::{Outcome, RunRecord, ScenarioRecord};
use crate::util::visible::visible;

/// File name of the production proof in a report folder and in the bundle.
pub const PRODUCTION_PROOF_FILE: &str = "preuve-test-production.png";

/// The production card; `label` names it in the footer (a proof id or the file name).
pub fn production_card(run: &RunRecord, s: &ScenarioRecord, lang: Lang, label: &str) -> Card {
    let l = labels(lang);
    let facts = SessionFacts::analyse(&s.transcript);
    let mut rows = vec![(l.production_host.to_string(), format!("{} — {}", run.target.server_name, run.target.endpoints.join(", ")))];
    rows.extend(common_facts(run, s, &facts, lang).into_iter().filter(|(k, _)| k != l.host));
    rows.push((l.message_id.into(), sent_message_id(s).unwrap_or_else(|| l.none.into())));
    rows.extend(super::identity::identity_rows(run, lang));
    rows.push((l.requirements.into(), format!("{} — {}", s.requirements.join(", "), s.id)));
    if let Some(r) = s.reason.as_deref().filter(|_| s.outcome != Outcome::Pass) {
        rows.push((l.reason.into(), visible(&s.reason_in(r, lang))));
    }
    Card {
        heading: format!("mssconf — {}", l.production_heading),
        verdict: s.outcome,
        verdict_word: crate::record::words::verdict(s.outcome, lang).word.into(),
        warning: warning(run, l),
        title: title(s, lang).to_string(),
        subtitle: None,
        facts: rows,
        checklist_title: l.steps.into(),
        checklist: phases(run, s, &facts, l, lang),
        transcript_title: l.key_lines.into(),
        transcript: key_transcript(&s.transcript),
        footer: footer(run, label, lang),
    }
}

fn warning(run: &RunRecord, l: &Labels) -> Option<String> {
    let mut parts = Vec::new();
    if run.target.environment != "production" {
        parts.push(l.not_production.to_string());
    }
    if run.target.embedded_mock {
        parts.push(l.embedded_mock.to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" — "))
}

fn sent_message_id(s: &ScenarioRecord) -> Option<String> {
    s.messages.iter().find(|m| m.direction == "sent").and_then(|m| m.message_id.clone())
}

fn row(label: &str, seen: Seen, l: &Labels) -> CheckRow {
    let (status, detail) = match seen {
        Seen::Ok(d) => (RowStatus::Ok, d),
        Seen::Failed(d) => (RowStatus::Failed, d),
        Seen::NotSeen => (RowStatus::NotSeen, l.not_seen.to_string()),
    };
    CheckRow { status, label: label.to_string(), detail: visible(&detail) }
}

/// Read back: a received message carrying the Message-ID of the one sent.
fn read_back(s: &ScenarioRecord, l: &Labels) -> Seen {
    let sent: Vec<&str> = s.messages.iter().filter(|m| m.direction == "sent").filter_map(|m| m.message_id.as_deref()).collect();
    let received: Vec<_> = s.messages.iter().filter(|m| m.direction == "received").collect();
    if received.is_empty() {
        return Seen::NotSeen;
    }
    match received.iter().find(|m| m.message_id.as_deref().is_some_and(|id| sent.contains(&id))) {
        Some(m) => Seen::Ok(format!("{} ({} {})", l.read_back_same, m.size, l.bytes)),
        None => Seen::Failed(l.read_back_other.to_string()),
    }
}

fn phases(run: &RunRecord, s: &ScenarioRecord, facts: &SessionFacts, l: &Labels, lang: Lang) -> Vec<CheckRow> {
    let mut rows = vec![
        row(l.phase_connect, facts.connect_phase(), l),
        row(l.phase_tls, facts.tls_phase(), l),
        row(l.phase_auth, facts.auth_phase(), l),
        row(l.phase_send, facts.send_phase(), l),
        row(l.phase_read_back, read_back(s, l), l),
    ];
    // A check that failed outside these phases (e.g. the read-back content) still shows.
    for (number, step) in run.step_numbers(s).into_iter().zip(&s.steps).filter(|(_, st)| st.outcome != Outcome::Pass) {
        let why = step.error.as_deref().map(|e| crate::verdict::french::reason(e, lang)).or_else(|| step.checks.iter().find(|c| c.fails()).map(|c| crate::verdict::french::summary(c, lang)));
        rows.push(CheckRow {
            status: step.outcome.into(),
            label: number.label(l.step, l.attempt),
            detail: visible(&format!("{} — {}", step.title, why.unwrap_or_default())),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    #[test]
    fn every_phase_is_shown() {
        let s = scenario_with_session();
        let run = run_with(vec![s.clone()]);
        let card = production_card(&run, &s, Lang::Fr, PRODUCTION_PROOF_FILE);
        let labels: Vec<&str> = card.checklist.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["Connexion", "TLS", "Authentification", "Envoi", "Relecture"]);
        assert!(card.checklist.iter().all(|r| r.status == RowStatus::Ok), "{:?}", card.checklist);
        assert!(card.checklist[3].detail.contains("queued as"));
        let facts = card.facts.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n");
        assert!(facts.contains("Message-ID: <prod@"), "{facts}");
        assert!(facts.contains("Hôte de production: mock.mssante.test"), "{facts}");
        assert!(card.warning.as_deref().unwrap().contains("production"));
    }

    #[test]
    fn a_missing_read_back_is_visible() {
        let mut s = scenario_with_session();
        s.messages.retain(|m| m.direction == "sent");
        s.outcome = Outcome::Fail;
        s.steps[1].outcome = Outcome::Fail;
        let mut run = run_with(vec![s.clone()]);
        run.target.environment = "production".into();
        run.target.embedded_mock = false;
        let card = production_card(&run, &s, Lang::En, PRODUCTION_PROOF_FILE);
        assert_eq!(card.checklist[4].status, RowStatus::NotSeen);
        assert_eq!(card.checklist.len(), 6, "the failed step is listed");
        assert!(card.warning.is_none());
        assert_eq!(card.verdict_word, "FAIL");
    }
}
