//! The report's inline stylesheet: black on white, verdict colours dark enough for white text
//! (WCAG AA or better), verdict words always written out (never colour alone), printable.

pub const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: #111;
  background: #fff; margin: 0 auto; max-width: 1200px; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; border-bottom: 3px solid #111; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #111; margin-top: 2rem; }
h3 { font-size: 1.15rem; margin-bottom: .4rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; }
a { color: #00336b; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid #444; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
ul.plain { margin: 0; padding-left: 1.1rem; }
.mono, code { font-family: ui-monospace, "DejaVu Sans Mono", Consolas, monospace; font-size: .9em; }
.multiline { white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-weight: bold; color: #fff;
  white-space: nowrap; border: 2px solid transparent; }
.o-pass { background: #0b5d1e; }
.o-fail { background: #a50e0e; }
.o-error { background: #8a3c00; }
.o-skip { background: #4a4a4a; }
.o-interrupted { background: #5a2a82; }
.o-flaky { background: #6b5900; }
.o-partial { background: #1f4e79; }
.o-not_run, .o-not_checkable { background: #fff; color: #111; border-color: #111; }
.counts { display: flex; flex-wrap: wrap; gap: .6rem; margin: .5rem 0 1rem; }
.count { padding: .4rem .8rem; min-width: 8rem; color: #fff; border-radius: 4px; border: 2px solid #111; }
.count.o-total { background: #fff; color: #111; }
.count .n { font-size: 1.6rem; font-weight: bold; display: block; }
.warning { border: 3px solid #a50e0e; padding: .6rem; font-weight: bold; }
.check-ok { color: #0b5d1e; font-weight: bold; white-space: nowrap; }
.check-ko { color: #a50e0e; font-weight: bold; white-space: nowrap; }
tr.failed td { background: #fde8e8; }
.check-advice { color: #6b5900; font-weight: bold; white-space: nowrap; }
tr.advice td { background: #fff8d6; }
.advice-badge { background: #6b5900; color: #fff; border-radius: 3px; padding: 0 .4em; font-size: .85em; }
section.scenario { border-top: 3px solid #111; margin-top: 2.5rem; }
div.step { border-left: 4px solid #888; padding-left: .8rem; margin: .8rem 0; }
pre.transcript { background: #f4f4f4; color: #111; border: 1px solid #444; padding: .5rem;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: .82rem; line-height: 1.3; }
pre.transcript .sent { color: #00336b; font-weight: bold; }
pre.transcript .note { color: #3d3d3d; font-style: italic; }
pre.transcript .mark { background: #dcdcdc; font-weight: bold; }
pre.transcript .cut { border: 1px dashed #111; font-weight: bold; }
caption { text-align: left; font-weight: bold; padding: .2rem 0; }
footer { margin-top: 3rem; border-top: 1px solid #111; font-size: .9rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .badge, .count, tr.failed td, th, pre.transcript .mark {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr, div.step { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  a { color: #111; text-decoration: none; }
}
"#;
