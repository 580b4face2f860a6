//! `report.html`: one self-contained page (inline CSS, no script, no external resource) for an
//! auditor. Every text from the record or the index goes through `esc`.

mod audit;
mod header;
mod identity;
pub mod labels;
mod requirements;
mod scenario;
mod style;
mod transcript;

use std::fmt::{self, Write};

use crate::lang::Lang;
use crate::record::{Outcome, RunRecord};
use crate::util::visible::visible_keeping;
use crate::report::summary::RequirementStatus;
use crate::requirement::RequirementIndex;
use labels::Labels;

/// What every section renderer needs.
struct Ctx<'a> {
    lang: Lang,
    l: &'static Labels,
    record: &'a RunRecord,
    index: &'a RequirementIndex,
}

/// The whole HTML document.
pub fn render_html(record: &RunRecord, index: &RequirementIndex, lang: Lang) -> String {
    let cx = Ctx { lang, l: labels::labels(lang), record, index };
    let mut out = String::with_capacity(64 * 1024 + record.scenarios.len() * 16 * 1024);
    document(&mut out, &cx).expect("formatting into a String cannot fail");
    out
}

fn document(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let l = cx.l;
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"{}\">", l.html_lang)?;
    writeln!(out, "<head>\n<meta charset=\"utf-8\">")?;
    // Belt and braces: even if some text escaped our escaping, nothing could run or be fetched.
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(out, "<meta name=\"generator\" content=\"{} {}\">", esc(&cx.record.tool), esc(&cx.record.tool_version))?;
    writeln!(out, "<title>{} — {} — {}</title>", esc(l.title), esc(&cx.record.target.name), esc(&cx.record.run_id))?;
    writeln!(out, "<style>{}</style>\n</head>\n<body>", style::CSS)?;
    header::render(out, cx)?;
    identity::render(out, cx)?;
    requirements::render(out, cx)?;
    scenario::render_all(out, cx)?;
    audit::render(out, cx)?;
    writeln!(
        out,
        "<footer><p>{} {} {} — {} <span class=\"mono\">{}</span></p></footer>",
        esc(l.generated_by),
        esc(&cx.record.tool),
        esc(&cx.record.tool_version),
        esc(l.run_id),
        esc(&cx.record.run_id)
    )?;
    writeln!(out, "</body>\n</html>")
}

/// Escapes text for HTML element content and double-quoted attributes (the only kind this
/// report writes): `&`, `<`, `>` and `"`. Control characters other than tab and newline are
/// shown as `\xNN`.
pub(crate) fn esc(text: &str) -> String {
    let clean = visible_keeping(text, &['\t', '\n']);
    html_escape::encode_double_quoted_attribute(&clean).into_owned()
}

/// A stable, unique fragment id for any text (ids may hold `/`, `.`, spaces…).
fn anchor(prefix: &str, id: &str) -> String {
    format!("{prefix}-{}", hex::encode(id.as_bytes()))
}

fn scenario_anchor(id: &str) -> String {
    anchor("sc", id)
}

fn requirement_anchor(id: &str) -> String {
    anchor("req", id)
}

/// `<span class="badge o-fail">non conforme</span>`
fn outcome_badge(lang: Lang, o: Outcome) -> String {
    format!("<span class=\"badge o-{}\">{}</span>", o.name(), esc(crate::record::words::verdict(o, lang).report))
}

fn status_badge(lang: Lang, s: RequirementStatus) -> String {
    format!("<span class=\"badge o-{}\">{}</span>", s.name(), esc(labels::requirement_status(lang, s)))
}

/// An `href` for a file of the report folder, or `None` when the path is not a plain relative
/// path (a scheme, an absolute path or `..` could point outside the report).
fn relative_href(path: &str) -> Option<String> {
    let p = path.replace('\\', "/");
    if p.is_empty() || p.starts_with('/') || p.contains(':') || p.split('/').any(|part| part == "..") {
        return None;
    }
    let mut href = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            href.push(char::from(b));
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    Some(href)
}

/// `87 ms`, `1.234 s`, `2 min 05 s`, `1 h 35 min 00 s`
fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{s}.{:03} s", ms % 1000),
        60_000..3_600_000 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min {:02} s", s / 3600, s % 3600 / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;'");
        assert_eq!(esc("a\u{1b}b\nc"), "a\\x1bb\nc");
        assert_eq!(esc("é"), "é");
    }

    #[test]
    fn hrefs_stay_inside_the_report() {
        assert_eq!(relative_href("proofs/TLS 01.txt").as_deref(), Some("proofs/TLS%2001.txt"));
        assert_eq!(relative_href("a\"><script>.txt").as_deref(), Some("a%22%3E%3Cscript%3E.txt"));
        assert_eq!(relative_href("javascript:alert(1)"), None);
        assert_eq!(relative_href("/etc/passwd"), None);
        assert_eq!(relative_href("../x"), None);
        assert_eq!(relative_href("C:\\x"), None);
    }

    #[test]
    fn anchors_are_unique_and_safe() {
        assert_ne!(requirement_anchor("OPE/TLS.01"), requirement_anchor("OPE-TLS.01"));
        assert!(scenario_anchor("a b<").chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn durations() {
        assert_eq!(duration(87), "87 ms");
        assert_eq!(duration(1234), "1.234 s");
        assert_eq!(duration(125_000), "2 min 05 s");
        assert_eq!(duration(5_700_000), "1 h 35 min 00 s");
    }
}
