//! The requirement table: each requirement with the scenarios citing it and their verdicts.

use std::fmt::{self, Write};

use super::{Ctx, esc, labels, outcome_badge, requirement_anchor, scenario_anchor, status_badge};
use crate::report::summary::{RequirementRow, requirement_rows};

pub(super) fn render(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let l = cx.l;
    writeln!(out, "<section id=\"requirements\">\n<h2>{}</h2>", esc(l.requirements))?;
    write!(out, "<table><thead><tr>")?;
    for h in [l.col_id, l.col_official, l.col_text, l.col_nature, l.col_confidence, l.col_profile, l.scenarios, l.col_status] {
        write!(out, "<th>{}</th>", esc(h))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for row in requirement_rows(cx.record, cx.index) {
        render_row(out, cx, &row)?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn render_row(out: &mut String, cx: &Ctx<'_>, row: &RequirementRow<'_>) -> fmt::Result {
    let l = cx.l;
    write!(out, "<tr id=\"{}\"><td class=\"mono\">{}</td>", requirement_anchor(&row.id), esc(&row.id))?;
    match row.requirement {
        Some(r) => {
            let (mark, meaning) = labels::confidence(cx.lang, r.confidence);
            let official = if r.official.is_empty() { esc(l.none) } else { esc(&r.official.join(", ")) };
            write!(
                out,
                "<td class=\"mono\">{official}</td><td>{}</td><td>{}</td><td title=\"{}\">{} ({})</td><td>{}</td>",
                esc(&r.text),
                esc(labels::nature(cx.lang, r.nature)),
                esc(meaning),
                esc(mark),
                esc(meaning),
                esc(r.profile.name())
            )?;
        }
        None => {
            let none = esc(l.none);
            write!(out, "<td>{none}</td><td><em>{}</em></td><td>{none}</td><td>{none}</td><td>{none}</td>", esc(l.unknown_requirement))?;
        }
    }
    write!(out, "<td>{}</td><td>{}", scenarios_cell(cx, row), status_badge(cx.lang, row.status))?;
    if let Some(reason) = row.requirement.and_then(|r| r.not_checkable.as_deref()) {
        write!(
            out,
            "<br><small>{} — {}{}{}</small>",
            esc(labels::requirement_status(cx.lang, crate::report::RequirementStatus::NotCheckable)),
            esc(l.reason_not_checkable),
            esc(l.colon),
            esc(reason)
        )?;
    }
    writeln!(out, "</td></tr>")
}

fn scenarios_cell(cx: &Ctx<'_>, row: &RequirementRow<'_>) -> String {
    if row.scenarios.is_empty() {
        return esc(cx.l.none);
    }
    let items: String = row
        .scenarios
        .iter()
        .map(|s| {
            format!(
                "<li><a class=\"mono\" href=\"#{}\">{}</a> {}</li>",
                scenario_anchor(&s.id),
                esc(&s.id),
                outcome_badge(cx.lang, s.outcome)
            )
        })
        .collect();
    format!("<ul class=\"plain\">{items}</ul>")
}
