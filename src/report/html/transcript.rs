//! The scenario transcript as a `<pre>`, with a marker where each step's lines begin.

use std::fmt::{self, Write};

use super::{Ctx, esc};
use crate::exec::transcript::Direction;
use crate::record::{ScenarioRecord, StepNumber};
use crate::report::excerpt::{HTML_MAX_LINES, Item, excerpt};

pub(super) fn render(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord) -> fmt::Result {
    let l = cx.l;
    if s.transcript.is_empty() {
        return writeln!(out, "<p>{}</p>", esc(l.no_transcript));
    }
    let numbers = cx.record.step_numbers(s);
    write!(out, "<pre class=\"transcript\">")?;
    for item in excerpt(&s.transcript, HTML_MAX_LINES) {
        match item {
            Item::Line(i, line) => {
                step_marks(out, cx, s, &numbers, i)?;
                let class = match line.dir {
                    Direction::Sent => " class=\"sent\"",
                    Direction::Received => "",
                    Direction::Note => " class=\"note\"",
                };
                let text = if line.dir == Direction::Note { noted(line, cx.lang) } else { line.render() };
                writeln!(out, "<span{class}>{}</span>", esc(&text))?;
            }
            Item::Cut(n) => writeln!(out, "<span class=\"cut\">[… {n} {} …]</span>", esc(l.lines_cut))?,
        }
    }
    writeln!(out, "</pre>")
}

/// A harness note in the report's language (the line as [`Line::render`] shows it).
fn noted(line: &crate::exec::transcript::Line, lang: crate::lang::Lang) -> String {
    let mut l = line.clone();
    l.text = crate::verdict::french::note(&line.text, lang);
    l.render()
}

/// `── Étape 2 — AUTH XOAUTH2 ──` before the first line of each step starting at line `i`.
fn step_marks(out: &mut String, cx: &Ctx<'_>, s: &ScenarioRecord, numbers: &[StepNumber], i: usize) -> fmt::Result {
    for (n, step) in numbers.iter().zip(&s.steps) {
        if step.transcript_from == i && step.transcript_to > step.transcript_from {
            writeln!(out, "<span class=\"mark\">── {} — {} ──</span>", esc(&n.label(cx.l.step, cx.l.attempt)), esc(&step.title))?;
        }
    }
    Ok(())
}
