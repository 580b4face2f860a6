//! One section per scenario: identity, verdict, steps with their checks, proofs, messages and
//! the transcript.

use std::fmt::{self, Write};

use chrono::{DateTime, Utc};

use super::{Ctx, duration, esc, outcome_badge, relative_href, requirement_anchor, scenario_anchor, transcript};
use crate::lang::Lang;
use crate::record::{ScenarioRecord, StepNumber, StepRecord};
use crate::verdict::french;
use crate::util::paris::{format_paris, format_utc};
use crate::verdict::Check;

/// The scenario title in the report's language (French when no English title exists).
pub(super) fn title<'a>(cx: &Ctx<'_>, s: &'a ScenarioRecord) -> &'a str {
    match (cx.lang, &s.title_en) {
        (Lang::En, Some(en)) => en,
        _ => &s.title,
    }
}

pub(super) fn render_all(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    writeln!(out, "<section id=\"scenarios\">\n<h2>{}</h2>", esc(cx.l.scenarios))?;
    for s in &cx.record.scenarios {
        render(out, cx, s)?;
    }
    writeln!(out, "</section>")
}

fn render(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord) -> fmt::Result {
    let l = cx.l;
    writeln!(out, "<section class=\"scenario\" id=\"{}\">", scenario_anchor(&s.id))?;
    writeln!(
        out,
        "<h3><span class=\"mono\">{}</span> — {} {}{}</h3>",
        esc(&s.id),
        esc(title(cx, s)),
        scenario_badge(cx, s),
        advice_badge(cx, s)
    )?;
    writeln!(out, "<dl class=\"meta\">")?;
    field(out, l.verdict, &scenario_badge(cx, s))?;
    if s.nature != "exigence" {
        field(out, l.col_nature, &esc(&s.nature))?;
    }
    if !s.advisories.is_empty() {
        let items: String = s.advisories.iter().map(|a| format!("<li>{}</li>", esc(&s.reason_in(a, cx.lang)))).collect();
        field(out, l.advice_badge, &format!("<ul class=\"advisories\">{items}</ul>"))?;
    }
    if let Some(reason) = &s.reason {
        field(out, l.reason, &format!("<span class=\"multiline\">{}</span>", esc(&s.reason_in(reason, cx.lang))))?;
    }
    if !s.attempts.is_empty() {
        field(out, super::labels::earlier_attempts(cx.lang), &attempts(cx, s))?;
    }
    field(out, l.requirements, &requirement_links(cx, &s.requirements))?;
    field(out, l.profile, &esc(&crate::record::words::profile_name(&s.profile, cx.lang)))?;
    if !s.tags.is_empty() {
        field(out, l.tags, &esc(&s.tags.join(", ")))?;
    }
    if let Some(note) = &s.confidence {
        field(out, l.confidence_note, &format!("<span class=\"multiline\">{}</span>", esc(note)))?;
    }
    if let Some(d) = &s.description {
        field(out, l.description, &format!("<span class=\"multiline\">{}</span>", esc(d)))?;
    }
    let file = format!("<span class=\"mono\">{}</span><br><small class=\"mono\">sha256 {}</small>", esc(&s.file), esc(&s.file_sha256));
    field(out, l.file, &file)?;
    if let Some(started) = s.started {
        field(out, l.started, &instant(cx, started))?;
    }
    field(out, l.duration, &esc(&duration(s.duration_ms)))?;
    writeln!(out, "</dl>")?;
    steps(out, cx, s)?;
    proofs(out, cx, s)?;
    messages(out, cx, s)?;
    writeln!(out, "<h4>{} ({})</h4>", esc(l.transcript), esc(l.times_utc))?;
    transcript::render(out, cx, s)?;
    writeln!(out, "</section>")
}

/// The scenario's verdict badge; a skipped scenario says whether it does not apply (profile not
/// claimed) or could not run (test material missing).
pub(super) fn scenario_badge(cx: &Ctx<'_>, s: &ScenarioRecord) -> String {
    if s.outcome != crate::record::Outcome::Skip {
        return outcome_badge(cx.lang, s.outcome);
    }
    format!("<span class=\"badge o-skip\">{}</span>", esc(crate::record::words::skip_label(s.reason.as_deref(), cx.lang)))
}

/// ` ▲ préconisation / observation non suivie` beside the verdict: never a failure, never hidden.
pub(super) fn advice_badge(cx: &Ctx<'_>, s: &ScenarioRecord) -> String {
    if s.advisories.is_empty() {
        return String::new();
    }
    format!(" <span class=\"advice-badge\">▲ {} ({})</span>", esc(cx.l.advice_badge), s.advisories.len())
}

/// Earlier attempts of a retried scenario: `1. <badge> (120 ms): reason`.
fn attempts(cx: &Ctx<'_>, s: &ScenarioRecord) -> String {
    let items: String = s
        .attempts
        .iter()
        .map(|a| {
            let reason = a.reason.as_deref().map(|r| format!(": {}", esc(&s.reason_in(r, cx.lang)))).unwrap_or_default();
            format!("<li>{}. {} ({}){reason}</li>", a.attempt, outcome_badge(cx.lang, a.outcome), esc(&duration(a.duration_ms)))
        })
        .collect();
    format!("<ul class=\"plain\">{items}</ul>")
}

fn field(out: &mut String, name: &str, value_html: &str) -> fmt::Result {
    writeln!(out, "<dt>{}</dt><dd>{value_html}</dd>", esc(name))
}

fn instant(cx: &Ctx<'_>, at: DateTime<Utc>) -> String {
    format!("{} — {} {}", esc(&format_utc(at)), esc(&format_paris(at)), esc(cx.l.paris_time))
}

fn requirement_links(cx: &Ctx<'_>, ids: &[String]) -> String {
    if ids.is_empty() {
        return esc(cx.l.none);
    }
    ids.iter()
        .map(|id| format!("<a class=\"mono\" href=\"#{}\">{}</a>", requirement_anchor(id), esc(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn steps(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord) -> fmt::Result {
    let l = cx.l;
    writeln!(out, "<h4>{}</h4>", esc(l.steps))?;
    if s.steps.is_empty() {
        return writeln!(out, "<p>{}</p>", esc(l.no_steps));
    }
    for (number, step) in cx.record.step_numbers(s).into_iter().zip(&s.steps) {
        render_step(out, cx, number, step)?;
    }
    Ok(())
}

fn render_step(out: &mut String, cx: &Ctx<'_>, number: StepNumber, step: &StepRecord) -> fmt::Result {
    let l = cx.l;
    writeln!(
        out,
        "<div class=\"step\"><p><strong>{} — {}</strong> <span class=\"mono\">[{}]</span> {} {} ({} {})</p>",
        esc(&number.label(l.step, l.attempt)),
        esc(&step.title),
        esc(&step.kind),
        outcome_badge(cx.lang, step.outcome),
        esc(&duration(step.duration_ms)),
        esc(l.server_wait),
        esc(&duration(step.server_wait_ms))
    )?;
    if let Some(error) = &step.error {
        let category = step.error_category.as_deref().map(|c| format!(" ({})", esc(c))).unwrap_or_default();
        writeln!(
            out,
            "<p class=\"multiline\"><strong>{}{category}{}</strong>{}</p>",
            esc(l.error),
            esc(l.colon),
            esc(&french::reason(error, cx.lang))
        )?;
    }
    checks(out, cx, &step.checks)?;
    writeln!(out, "</div>")
}

fn checks(out: &mut String, cx: &Ctx<'_>, checks: &[Check]) -> fmt::Result {
    let l = cx.l;
    if checks.is_empty() {
        return writeln!(out, "<p>{}</p>", esc(l.no_checks));
    }
    writeln!(
        out,
        "<table><caption>{}</caption><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(l.checks),
        esc(l.what),
        esc(l.expected),
        esc(l.actual),
        esc(l.result)
    )?;
    for c in checks {
        let (what, expected, actual) = french::check(c, cx.lang);
        let (row_class, mark) = if c.passed {
            ("", format!("<span class=\"check-ok\">{}</span>", esc(l.check_ok)))
        } else if c.advisory {
            (" class=\"advice\"", format!("<span class=\"check-advice\">{}</span>", esc(l.check_advice)))
        } else {
            (" class=\"failed\"", format!("<span class=\"check-ko\">{}</span>", esc(l.check_ko)))
        };
        writeln!(
            out,
            "<tr{row_class}><td>{}{}</td><td class=\"mono multiline\">{}</td><td class=\"mono multiline\">{}</td><td>{mark}</td></tr>",
            esc(&what),
            // Beside a check that does not hold: where its expectation is written.
            c.at.as_ref().filter(|_| !c.passed).map(|a| format!("<br><span class=\"mono\">{}</span>", esc(a))).unwrap_or_default(),
            esc(&expected),
            esc(&actual)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

/// A link to a file of the report folder, or its name alone when it is not a safe relative path.
fn file_link(cx: &Ctx<'_>, file: Option<&str>) -> String {
    match file {
        None => esc(cx.l.none),
        Some(f) => match relative_href(f) {
            Some(href) => format!("<a class=\"mono\" href=\"{href}\">{}</a>", esc(f)),
            None => format!("<span class=\"mono\">{}</span>", esc(f)),
        },
    }
}

fn proofs(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord) -> fmt::Result {
    let l = cx.l;
    if s.proofs.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h4>{}</h4>", esc(l.proofs))?;
    writeln!(
        out,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(l.proof_id),
        esc(l.kind),
        esc(l.title_field),
        esc(l.step),
        esc(l.file)
    )?;
    for p in &s.proofs {
        let step = p.step.map_or_else(|| esc(l.none), |n| (n + 1).to_string());
        writeln!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{step}</td><td>{}</td></tr>",
            esc(&p.id),
            esc(&p.kind),
            esc(&p.title),
            file_link(cx, p.file.as_deref())
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn messages(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord) -> fmt::Result {
    let l = cx.l;
    if s.messages.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h4>{}</h4>", esc(l.messages))?;
    writeln!(
        out,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>Message-ID</th><th>{}</th><th>SHA-256</th><th>{}</th></tr></thead><tbody>",
        esc(l.col_id),
        esc(l.direction),
        esc(l.subject),
        esc(l.size),
        esc(l.file)
    )?;
    for m in &s.messages {
        let direction = match m.direction.as_str() {
            "sent" => l.sent,
            "received" => l.received,
            other => other,
        };
        let opt = |v: &Option<String>| v.as_deref().map_or_else(|| esc(l.none), esc);
        writeln!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\"><small>{}</small></td><td>{}</td></tr>",
            esc(&m.name),
            esc(direction),
            opt(&m.subject),
            opt(&m.message_id),
            m.size,
            esc(&m.sha256),
            file_link(cx, m.file.as_deref())
        )?;
    }
    writeln!(out, "</tbody></table>")
}
