//! A [`Card`] laid out as SVG: fixed width, height from the content, every line measured and
//! wrapped here. Pure: the same card gives the same bytes.

use std::fmt::Write as _;

use super::font::{Face, text_width, wrap_limited};
use super::text::TextRun;
use super::{Card, RowStatus};
use crate::record::Outcome;

pub const WIDTH: f32 = 1400.0;
const MARGIN: f32 = 40.0;
const VALUE_X: f32 = 320.0;
const TEXT: &str = "#1f2328";
const MUTED: &str = "#57606a";

/// The colour of a verdict: green, red, orange, grey, purple.
pub fn verdict_colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "#1a7f37",
        Outcome::Fail => "#cf222e",
        Outcome::Error => "#bc4c00",
        Outcome::Skip => "#6e7781",
        Outcome::Interrupted => "#8250df",
        Outcome::Flaky => "#9a6700",
    }
}

/// Escapes text for an SVG text node, dropping characters XML 1.0 forbids.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push(' '),
            c if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// How a run of text is set.
#[derive(Clone, Copy)]
struct Style<'a> {
    face: Face,
    size: f32,
    fill: &'a str,
}

const fn style(face: Face, size: f32, fill: &str) -> Style<'_> {
    Style { face, size, fill }
}

/// The card being laid out: its shapes as SVG, its text apart (painted over the shapes; no
/// shape is ever drawn over earlier text).
struct Canvas {
    body: String,
    texts: Vec<TextRun>,
    y: f32,
}

impl Canvas {
    fn text(&mut self, x: f32, y: f32, st: Style<'_>, anchor: &str, text: &str) {
        let Style { face, size, fill } = st;
        let (x, y) = (round1(x), round1(y));
        self.texts.push(TextRun { x, y, face, size, fill: fill.to_string(), end_anchor: anchor == "end", text: text.to_string() });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: &str, stroke: Option<&str>) {
        let stroke = stroke.map(|s| format!(r#" stroke="{s}" stroke-width="1""#)).unwrap_or_default();
        let _ = writeln!(self.body, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="6" fill="{fill}"{stroke}/>"#);
    }

    /// Writes wrapped lines starting at the current `y`, advancing it.
    fn paragraph(&mut self, x: f32, width: f32, st: Style<'_>, text: &str, max_lines: usize) {
        let lh = st.size * 1.35;
        for line in wrap_limited(text, st.face, st.size, width, max_lines) {
            self.y += lh;
            self.text(x, self.y - st.size * 0.3, st, "start", &line);
        }
    }

    fn section_title(&mut self, title: &str) {
        self.y += 18.0;
        self.paragraph(MARGIN, WIDTH - 2.0 * MARGIN, style(Face::Bold, 20.0, TEXT), title, 2);
        let _ = writeln!(
            self.body,
            r##"<line x1="{MARGIN}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#d0d7de" stroke-width="1"/>"##,
            self.y + 4.0,
            WIDTH - MARGIN,
            self.y + 4.0
        );
        self.y += 8.0;
    }
}

/// Positions as the SVG document writes them (one decimal), so both renderings agree.
fn round1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

/// A text run as an SVG `<text>` element.
fn text_element(t: &TextRun) -> String {
    format!(
        r#"<text x="{:.1}" y="{:.1}" font-family="{}" font-weight="{}" font-size="{}" fill="{}" text-anchor="{}" xml:space="preserve">{}</text>"#,
        t.x,
        t.y,
        t.face.family(),
        t.face.weight(),
        t.size,
        t.fill,
        if t.end_anchor { "end" } else { "start" },
        escape_xml(&t.text)
    )
}

/// The card as an SVG document (text included).
pub fn render_svg(card: &Card) -> String {
    let mut c = layout(card);
    for t in &c.texts {
        c.body.push_str(&text_element(t));
        c.body.push('\n');
    }
    document(&c)
}

/// The card as an SVG document of its shapes only, and its text runs (painted by
/// [`super::text::paint`], much faster than as SVG text).
pub fn render_parts(card: &Card) -> (String, Vec<TextRun>) {
    let c = layout(card);
    (document(&c), c.texts)
}

/// The card laid out: shapes in `body`, text apart, `y` at the bottom.
fn layout(card: &Card) -> Canvas {
    let mut c = Canvas { body: String::new(), texts: Vec::new(), y: 0.0 };
    band(&mut c, card);
    if let Some(w) = &card.warning {
        warning(&mut c, w);
    }
    c.y += 16.0;
    c.paragraph(MARGIN, WIDTH - 2.0 * MARGIN, style(Face::Bold, 28.0, TEXT), &card.title, 3);
    if let Some(sub) = &card.subtitle {
        c.y += 4.0;
        c.paragraph(MARGIN, WIDTH - 2.0 * MARGIN, style(Face::Sans, 18.0, MUTED), sub, 2);
    }
    c.y += 10.0;
    facts(&mut c, &card.facts);
    if !card.checklist.is_empty() {
        c.section_title(&card.checklist_title);
        checklist(&mut c, card);
    }
    if !card.transcript.is_empty() {
        c.section_title(&card.transcript_title);
        transcript(&mut c, &card.transcript);
    }
    c.y += 16.0;
    c.paragraph(MARGIN, WIDTH - 2.0 * MARGIN, style(Face::Sans, 14.0, MUTED), &card.footer, 3);
    c.y += 20.0;
    c
}

/// The SVG document around the canvas's body, as tall as the content.
fn document(c: &Canvas) -> String {
    let height = c.y.ceil();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">
<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>
{}</svg>
"##,
        c.body
    )
}

fn band(c: &mut Canvas, card: &Card) {
    let colour = verdict_colour(card.verdict);
    let _ = writeln!(c.body, r#"<rect x="0" y="0" width="{WIDTH}" height="72" fill="{colour}"/>"#);
    let word_width = text_width(&card.verdict_word, Face::Bold, 30.0);
    let heading_room = WIDTH - 3.0 * MARGIN - word_width;
    let heading = wrap_limited(&card.heading, Face::Bold, 20.0, heading_room, 1).remove(0);
    c.text(MARGIN, 44.0, style(Face::Bold, 20.0, "#ffffff"), "start", &heading);
    c.text(WIDTH - MARGIN, 48.0, style(Face::Bold, 30.0, "#ffffff"), "end", &card.verdict_word);
    c.y = 72.0;
}

fn warning(c: &mut Canvas, text: &str) {
    let lines = wrap_limited(text, Face::Bold, 18.0, WIDTH - 2.0 * MARGIN - 20.0, 3);
    let h = lines.len() as f32 * 18.0 * 1.35 + 16.0;
    let _ = writeln!(c.body, r##"<rect x="0" y="{:.1}" width="{WIDTH}" height="{h:.1}" fill="#fff8c5"/>"##, c.y);
    c.y += 8.0;
    for line in lines {
        c.y += 18.0 * 1.35;
        c.text(MARGIN, c.y - 5.0, style(Face::Bold, 18.0, "#7d4e00"), "start", &line);
    }
    c.y += 8.0;
}

fn facts(c: &mut Canvas, facts: &[(String, String)]) {
    let size = 17.0;
    for (label, value) in facts {
        let top = c.y;
        c.paragraph(MARGIN, VALUE_X - MARGIN - 16.0, style(Face::Bold, size, TEXT), label, 2);
        let after_label = c.y;
        c.y = top;
        c.paragraph(VALUE_X, WIDTH - VALUE_X - MARGIN, style(Face::Sans, size, TEXT), value, 4);
        c.y = c.y.max(after_label) + 3.0;
    }
}

fn checklist(c: &mut Canvas, card: &Card) {
    let size = 17.0;
    for row in &card.checklist {
        let (mark, colour) = match row.status {
            RowStatus::Ok => ("✓", verdict_colour(Outcome::Pass)),
            RowStatus::Failed => ("✗", verdict_colour(Outcome::Fail)),
            RowStatus::NotSeen => ("–", verdict_colour(Outcome::Skip)),
        };
        let top = c.y;
        c.text(MARGIN, top + size * 1.35 - size * 0.3, style(Face::Bold, size + 2.0, colour), "start", mark);
        c.paragraph(MARGIN + 30.0, VALUE_X - MARGIN - 46.0, style(Face::Bold, size, TEXT), &row.label, 2);
        let after_label = c.y;
        c.y = top;
        c.paragraph(VALUE_X, WIDTH - VALUE_X - MARGIN, style(Face::Sans, size, TEXT), &row.detail, 3);
        c.y = c.y.max(after_label) + 3.0;
    }
}

fn transcript(c: &mut Canvas, lines: &[String]) {
    let size = 14.0;
    let inner = WIDTH - 2.0 * MARGIN - 48.0;
    let wrapped: Vec<Vec<String>> = lines.iter().map(|l| wrap_limited(l, Face::Mono, size, inner, 3)).collect();
    let rows: usize = wrapped.iter().map(Vec::len).sum();
    let h = rows as f32 * size * 1.4 + 20.0;
    c.y += 6.0;
    c.rect(MARGIN, c.y, WIDTH - 2.0 * MARGIN, h, "#f6f8fa", Some("#d0d7de"));
    c.y += 10.0;
    for entry in wrapped {
        for (i, piece) in entry.iter().enumerate() {
            c.y += size * 1.4;
            let x = MARGIN + 12.0 + if i > 0 { 24.0 } else { 0.0 };
            c.text(x, c.y - 4.0, style(Face::Mono, size, TEXT), "start", piece);
        }
    }
    c.y += 10.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_xml(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(escape_xml("a\u{1}b\tc"), "a\u{fffd}b c");
    }
}
