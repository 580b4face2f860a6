//! The audit section (`mssconf audit` runs only): who watched, each step attempt attested on
//! screen, the steps skipped with their reasons, the notes and the restarts.

use std::fmt::{self, Write};

use super::{Ctx, esc, outcome_badge, scenario_anchor};
use crate::record::audit::AuditRecord;
use crate::record::words;
use crate::lang::Lang;
use crate::util::paris::format_utc;

struct Words {
    title: &'static str,
    intro: &'static str,
    auditor: &'static str,
    complete: &'static str,
    yes: &'static str,
    no: &'static str,
    sessions: &'static str,
    cut_off: &'static str,
    attestations: &'static str,
    scenario: &'static str,
    step: &'static str,
    attempt: &'static str,
    verdict: &'static str,
    observed: &'static str,
    statement: &'static str,
    entry: &'static str,
    superseded: &'static str,
    skips: &'static str,
    reason: &'static str,
    when: &'static str,
    notes: &'static str,
    note: &'static str,
    restarts: &'static str,
    none: &'static str,
}

const FR: Words = Words {
    title: "Audit en direct",
    intro: "Exécution pas à pas sous le regard de l'auditeur (mssconf audit). Chaque tentative d'étape \
            montrée à l'écran fait l'objet d'un constat, saisi pendant la session sur le poste de \
            l'opérateur ; une étape répétée figure autant de fois dans le détail du scénario, dans \
            l'ordre d'exécution (colonne « Entrée »). L'attestation de l'auditeur est sa \
            co-signature du lot de preuves, faite avec sa propre clé (mssconf bundle cosign \
            --attestation) : bundle verify l'affiche, avec le texte qu'il a signé.",
    auditor: "Auditeur",
    complete: "Audit terminé",
    yes: "oui",
    no: "non",
    sessions: "Sessions",
    cut_off: "interrompue sans fin enregistrée",
    attestations: "Constats",
    scenario: words::FR.scenario,
    step: words::FR.step,
    attempt: "Tentative",
    verdict: words::FR.verdict,
    observed: "Observé (UTC)",
    statement: "Constat",
    entry: "Entrée",
    superseded: "remplacée : le scénario a repris à sa première étape",
    skips: "Étapes sautées",
    reason: "Motif de l'omission",
    when: "Quand (UTC)",
    notes: "Notes",
    note: "Note",
    restarts: "Reprises de scénario",
    none: "aucune",
};

const EN: Words = Words {
    title: "Live audit",
    intro: "Step-by-step run watched by the auditor (mssconf audit). Every step attempt shown on screen \
            gets a finding, entered during the session on the operator's computer; a repeated step \
            appears once per attempt in the scenario's details, in the order run (column \"Entry\"). \
            The auditor's attestation is their co-signature of the evidence bundle, made with their own \
            key (mssconf bundle cosign --attestation): bundle verify shows it, with the text they signed.",
    auditor: "Auditor",
    complete: "Audit complete",
    yes: "yes",
    no: "no",
    sessions: "Sessions",
    cut_off: "cut off, no end recorded",
    attestations: "Findings",
    scenario: words::EN.scenario,
    step: words::EN.step,
    attempt: "Attempt",
    verdict: words::EN.verdict,
    observed: "Observed (UTC)",
    statement: "Statement",
    entry: "Entry",
    superseded: "superseded: the scenario restarted from its first step",
    skips: "Skipped steps",
    reason: "Reason for the omission",
    when: "When (UTC)",
    notes: "Notes",
    note: "Note",
    restarts: "Scenario restarts",
    none: "none",
};

pub(super) fn render(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let Some(a) = &cx.record.audit else { return Ok(()) };
    let w = if cx.lang == Lang::En { &EN } else { &FR };
    writeln!(out, "<section id=\"audit\">\n<h2>{}</h2>\n<p>{}</p>", esc(w.title), esc(w.intro))?;
    writeln!(out, "<dl class=\"meta\">")?;
    writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(w.auditor), esc(&a.auditor))?;
    writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(w.complete), esc(if a.complete { w.yes } else { w.no }))?;
    let sessions: String = a
        .sessions
        .iter()
        .map(|s| {
            let end = s.ended.map_or_else(|| w.cut_off.to_string(), format_utc);
            format!("<li>{} — {} — {} → {}</li>", s.number, esc(&s.auditor), esc(&format_utc(s.started)), esc(&end))
        })
        .collect();
    writeln!(out, "<dt>{}</dt><dd><ul class=\"plain\">{sessions}</ul></dd>\n</dl>", esc(w.sessions))?;
    attestations(out, cx, w, a)?;
    skips(out, cx, w, a)?;
    notes(out, cx, w, a)?;
    restarts(out, cx, w, a)?;
    writeln!(out, "</section>")
}

/// The scenario id, linked to its section when the report holds it.
fn scenario_link(cx: &Ctx<'_>, name: &str) -> String {
    match cx.record.scenarios.iter().find(|s| s.name == name) {
        Some(s) => format!("<a class=\"mono\" href=\"#{}\">{}</a>", scenario_anchor(&s.id), esc(&s.id)),
        None => format!("<span class=\"mono\">{}</span>", esc(name)),
    }
}

fn header(out: &mut String, caption: &str, columns: &[&str]) -> fmt::Result {
    let th: String = columns.iter().map(|c| format!("<th>{}</th>", esc(c))).collect();
    writeln!(out, "<table><caption>{}</caption><thead><tr>{th}</tr></thead><tbody>", esc(caption))
}

fn attestations(out: &mut String, cx: &Ctx<'_>, w: &Words, a: &AuditRecord) -> fmt::Result {
    header(out, w.attestations, &[w.scenario, w.step, w.attempt, w.verdict, w.observed, w.auditor, w.statement, w.entry])?;
    for t in &a.attestations {
        let entry = match (t.superseded, t.record_step) {
            (true, _) | (false, None) => esc(w.superseded),
            (false, Some(k)) => (k + 1).to_string(),
        };
        writeln!(
            out,
            "<tr><td>{}</td><td>{} — {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{entry}</td></tr>",
            scenario_link(cx, &t.scenario),
            t.step + 1,
            esc(&t.step_title),
            t.attempt,
            outcome_badge(cx.lang, t.outcome),
            esc(&format_utc(t.observed_at)),
            esc(&t.auditor),
            esc(&t.statement)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn skips(out: &mut String, cx: &Ctx<'_>, w: &Words, a: &AuditRecord) -> fmt::Result {
    if a.skips.is_empty() {
        return writeln!(out, "<p><strong>{}</strong> : {}</p>", esc(w.skips), esc(w.none));
    }
    header(out, w.skips, &[w.scenario, w.step, w.reason, w.when, w.auditor])?;
    for s in &a.skips {
        let superseded = if s.superseded { format!(" ({})", esc(w.superseded)) } else { String::new() };
        writeln!(
            out,
            "<tr><td>{}</td><td>{} — {}</td><td class=\"multiline\">{}{superseded}</td><td>{}</td><td>{}</td></tr>",
            scenario_link(cx, &s.scenario),
            s.step + 1,
            esc(&s.step_title),
            esc(&s.reason),
            esc(&format_utc(s.at)),
            esc(&s.auditor)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn notes(out: &mut String, cx: &Ctx<'_>, w: &Words, a: &AuditRecord) -> fmt::Result {
    if a.notes.is_empty() {
        return writeln!(out, "<p><strong>{}</strong> : {}</p>", esc(w.notes), esc(w.none));
    }
    header(out, w.notes, &[w.scenario, w.step, w.note, w.when, w.auditor])?;
    for n in &a.notes {
        let scenario = n.scenario.as_deref().map_or_else(String::new, |s| scenario_link(cx, s));
        let step = n.step.map_or_else(String::new, |s| (s + 1).to_string());
        writeln!(
            out,
            "<tr><td>{scenario}</td><td>{step}</td><td class=\"multiline\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&n.text),
            esc(&format_utc(n.at)),
            esc(&n.auditor)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn restarts(out: &mut String, cx: &Ctx<'_>, w: &Words, a: &AuditRecord) -> fmt::Result {
    if a.restarts.is_empty() {
        return Ok(());
    }
    header(out, w.restarts, &[w.scenario, w.when, w.auditor, w.reason])?;
    for r in &a.restarts {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            scenario_link(cx, &r.scenario),
            esc(&format_utc(r.at)),
            esc(&r.auditor),
            esc(&r.reason)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::record::audit::*;
    use crate::record::Outcome;
    use crate::requirement::RequirementIndex;

    #[test]
    fn audit_section_lists_attestations_skips_notes_and_escapes_them() {
        let mut record = crate::report::tests::empty_record();
        let html = super::super::render_html(&record, &RequirementIndex { requirements: vec![] }, crate::lang::Lang::Fr);
        assert!(!html.contains("id=\"audit\""), "no audit, no section");
        let mut a = AuditRecord::new("Alice <Martin>");
        a.attestations.push(Attestation {
            scenario: "general::OPE/TLS.01.01".into(),
            step: 0,
            step_title: "EHLO".into(),
            attempt: 2,
            outcome: Outcome::Pass,
            observed_at: Utc::now(),
            auditor: "Alice <Martin>".into(),
            statement: STATEMENT.into(),
            session: 1,
            record_step: Some(1),
            superseded: false,
        });
        a.skips.push(AuditSkip {
            scenario: "general::OPE/TLS.01.01".into(),
            step: 1,
            step_title: "sonde".into(),
            at: Utc::now(),
            auditor: "B".into(),
            session: 1,
            reason: "hors <périmètre>".into(),
            superseded: false,
        });
        a.notes.push(AuditNote { scenario: None, step: None, at: Utc::now(), auditor: "B".into(), session: 1, text: "RAS".into() });
        record.audit = Some(a);
        let html = super::super::render_html(&record, &RequirementIndex { requirements: vec![] }, crate::lang::Lang::Fr);
        let section = &html[html.find("id=\"audit\"").expect("audit section")..];
        assert!(section.contains("Alice &lt;Martin&gt;") && !section.contains("<Martin>"));
        assert!(section.contains("observé à l'écran"));
        assert!(section.contains("hors &lt;périmètre&gt;"));
        assert!(section.contains("<td class=\"multiline\">RAS</td>"));
        assert!(section.contains("<td>2</td></tr>"), "entry column points at the second step record");
    }
}
