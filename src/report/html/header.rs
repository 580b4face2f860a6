//! Page header (who, what, when) and the summary (counts, scenario overview).

use std::fmt::{self, Write};

use chrono::{DateTime, Utc};

use super::{Ctx, duration, esc, scenario_anchor, status_badge};
use crate::record::Outcome;
use crate::util::paris::{format_paris, format_utc};
use crate::report::summary::{OutcomeCounts, RequirementStatus, Summary};

const OUTCOMES: [Outcome; 6] =
    [Outcome::Pass, Outcome::Flaky, Outcome::Fail, Outcome::Error, Outcome::Skip, Outcome::Interrupted];

pub(super) fn render(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let (l, r, t) = (cx.l, cx.record, &cx.record.target);
    writeln!(out, "<header>\n<h1>{}</h1>", esc(l.title))?;
    if t.embedded_mock {
        writeln!(out, "<p class=\"warning\">{}</p>", esc(l.mock_warning))?;
    }
    for w in &t.anchor_warnings {
        writeln!(out, "<p class=\"warning anchor-warning\">▲ {}</p>", esc(w))?;
    }
    writeln!(out, "<dl class=\"meta\">")?;
    field(out, l.target, &esc(&t.name))?;
    field(out, l.operator, &esc(&t.operator))?;
    field(out, l.service, &esc(&t.service))?;
    field(out, l.target_version, &esc(&t.version))?;
    field(out, l.environment, &esc(&t.environment))?;
    field(out, l.domain, &esc(&t.domain))?;
    field(out, l.server_name, &esc(&t.server_name))?;
    let anchors: Vec<String> = t
        .trust_anchors
        .iter()
        .map(|a| format!("{} — {} — SHA-256 {} ({})", a.subject, if a.igc_sante { l.igc_sante } else { l.not_igc_sante }, a.sha256, a.file))
        .collect();
    field(out, l.trust_anchors, &list(&anchors, l.none, true))?;
    field(out, l.endpoints, &list(&t.endpoints, l.none, true))?;
    let claims: Vec<String> = t.claims.iter().map(|c| crate::record::words::profile_name(c, cx.lang)).collect();
    field(out, l.claims, &list(&claims, l.none, false))?;
    field(out, l.run_id, &format!("<span class=\"mono\">{}</span>", esc(&r.run_id)))?;
    field(out, l.started, &instant(cx, r.started))?;
    let finished = r.finished.map_or_else(|| esc(l.not_finished), |f| instant(cx, f));
    field(out, l.finished, &finished)?;
    if let Some(f) = r.finished {
        field(out, l.duration, &esc(&duration((f - r.started).num_milliseconds().max(0) as u64)))?;
    }
    field(out, l.tool, &format!("{} {}", esc(&r.tool), esc(&r.tool_version)))?;
    let selection = if r.selection.is_empty() { esc(l.everything) } else { list(&r.selection, l.none, true) };
    field(out, l.selection, &selection)?;
    writeln!(out, "</dl>\n<p class=\"ids-note\">{}</p>\n</header>", esc(ids_note(cx.lang)))?;
    summary(out, cx)
}

/// Whose the `OPE/*` ids are (issue #18): said on every report.
pub(crate) fn ids_note(lang: crate::lang::Lang) -> &'static str {
    match lang {
        crate::lang::Lang::Fr => "Les identifiants OPE/* (exigences, scénarios, preuves) sont ceux de mssconf, pas ceux de \
            l'Agence ; ils sont rapprochés des identifiants officiels du REM (référentiel d'exigences et de \
            scénarios de conformité) là où ceux-ci sont connus (colonne des réf. officielles, fichier de \
            correspondance des numéros de preuve).",
        crate::lang::Lang::En => "The OPE/* ids (requirements, scenarios, proofs) are mssconf's own, not the agency's; they \
            are mapped to the official REM ids (requirements and conformance scenarios) where those are known \
            (official ids column, proof number mapping file).",
    }
}

/// `2026-11-25 17:13:04 UTC<br>2026-11-25 18:13:04 (UTC+01:00) heure de Paris`
fn instant(cx: &Ctx<'_>, at: DateTime<Utc>) -> String {
    format!("{}<br>{} {}", esc(&format_utc(at)), esc(&format_paris(at)), esc(cx.l.paris_time))
}

fn field(out: &mut String, name: &str, value_html: &str) -> fmt::Result {
    writeln!(out, "<dt>{}</dt><dd>{value_html}</dd>", esc(name))
}

fn list(items: &[String], none: &str, mono: bool) -> String {
    if items.is_empty() {
        return esc(none);
    }
    let class = if mono { " class=\"mono\"" } else { "" };
    let lis: String = items.iter().map(|i| format!("<li{class}>{}</li>", esc(i))).collect();
    format!("<ul class=\"plain\">{lis}</ul>")
}

fn summary(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let l = cx.l;
    let counts = OutcomeCounts::of(cx.record);
    writeln!(out, "<section id=\"summary\">\n<h2>{}</h2>", esc(l.summary))?;
    writeln!(out, "<h3>{}</h3>\n<div class=\"counts\">", esc(l.scenarios))?;
    writeln!(out, "<div class=\"count o-total\"><span class=\"n\">{}</span>{}</div>", counts.total, esc(l.total))?;
    for o in OUTCOMES {
        let label = crate::record::words::verdict(o, cx.lang).report;
        writeln!(out, "<div class=\"count o-{}\"><span class=\"n\">{}</span>{}</div>", o.name(), counts.get(o), esc(label))?;
    }
    writeln!(out, "</div>")?;
    skip_split(out, cx)?;
    requirement_counts(out, cx)?;
    scenario_overview(out, cx)?;
    writeln!(out, "</section>")
}

/// The skipped scenarios told apart: not applicable (profile not claimed) or not run (test
/// material missing, or another reason).
fn skip_split(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let mut by_label: Vec<(&str, usize)> = Vec::new();
    for s in cx.record.scenarios.iter().filter(|s| s.outcome == Outcome::Skip) {
        let label = crate::record::words::skip_label(s.reason.as_deref(), cx.lang);
        match by_label.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => by_label.push((label, 1)),
        }
    }
    if by_label.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = by_label.iter().map(|(l, n)| format!("{} : {n}", esc(l))).collect();
    writeln!(out, "<p class=\"skip-split\">{} — {}</p>", esc(crate::record::words::verdict(Outcome::Skip, cx.lang).report), parts.join(" · "))
}

fn requirement_counts(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let s = Summary::of(cx.record, cx.index);
    writeln!(out, "<h3>{}</h3>", esc(cx.l.requirements))?;
    writeln!(out, "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>", esc(cx.l.col_status), esc(cx.l.total))?;
    for status in RequirementStatus::ALL {
        let n = s.requirements.get(&status).copied().unwrap_or(0);
        writeln!(out, "<tr><td>{}</td><td>{n}</td></tr>", status_badge(cx.lang, status))?;
    }
    writeln!(out, "</tbody></table>")
}

/// One line per scenario, linking to its section.
fn scenario_overview(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let l = cx.l;
    writeln!(out, "<h3>{}</h3>", esc(l.contents))?;
    writeln!(
        out,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(l.col_id),
        esc(l.title_field),
        esc(l.col_profile),
        esc(l.verdict)
    )?;
    for s in &cx.record.scenarios {
        writeln!(
            out,
            "<tr><td class=\"mono\"><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            scenario_anchor(&s.id),
            esc(&s.id),
            esc(super::scenario::title(cx, s)),
            esc(&crate::record::words::profile_name(&s.profile, cx.lang)),
            super::scenario::scenario_badge(cx, s),
            super::scenario::advice_badge(cx, s)
        )?;
    }
    writeln!(out, "</tbody></table>")
}
