//! Golden runs: a fixed selection against the embedded mock, once conformant and once with
//! faults, compared with `tests/golden/<run>/` after normalising what changes from run to run
//! (timestamps, durations, ports, run ids, random message-id parts, digests of dated messages).
//!
//! A refactor that changes an output shows here as a diff. When the change is intended,
//! rewrite the expected files with `MSSCONF_BLESS=1 cargo test --test integration golden` and
//! review `git diff tests/golden/`.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::{mssconf, root, text};

/// Scenarios covering SMTP, IMAP, TLS probes, HTTP, DSN and a client certificate.
const CLEAN: &[&str] = &[
    "OPE/TLS.01.01",
    "OPE/TLS.02.01",
    "OPE/TLS.04.01",
    "OPE/AUTH.03.01",
    "OPE/APP.01.01",
    "OPE/MSG.01.01",
    "OPE/SUB.03.01",
    "OPE/IMAP.01.01",
    "OPE/DIR.01.01",
    "OPE/DSN.02.01",
];
/// The same kinds of scenarios against a mock that breaks some rules (fail) and drops a
/// connection in the middle of DATA (error).
const FAULTY: &[&str] = &[
    "OPE/TLS.01.01",
    "OPE/TLS.02.01",
    "OPE/AUTH.03.01",
    "OPE/MSG.01.01",
    "OPE/SUB.03.01",
    "OPE/IMAP.01.01",
    "OPE/DIR.01.01",
    "OPE/DSN.02.01",
];
const FAULTS: &[&str] = &["tls10", "no-whitelist", "accept-expired-token", "drop-mid-data"];

#[test]
fn golden_conformant_run() {
    golden("clean", CLEAN, &[]);
}

#[test]
fn golden_faulty_run() {
    let junit = golden("faults", FAULTY, FAULTS);
    // Every failure names the line of the expectation that failed, Hurl-like.
    let failures: Vec<&str> = junit.split("<failure message=\"").skip(1).collect();
    assert_eq!(failures.len(), 3, "{junit}");
    let at = Regex::new(r"^scenarios/[a-z/_.-]+\.yaml:\d+:\d+: ").unwrap();
    for f in failures {
        assert!(at.is_match(f), "a failure without its position: {}", &f[..f.len().min(200)]);
    }
}

/// Runs and compares; returns the normalised `junit.xml`.
fn golden(name: &str, scenarios: &[&str], faults: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_str().unwrap();
    // One job: the mock's mailboxes (UIDs, folders) then see the scenarios in plan order.
    let mut args = vec!["run", "--jobs", "1", "--report-dir", d];
    for s in scenarios {
        args.extend(["--scenario", s]);
    }
    for f in faults {
        args.extend(["--mock-fault", f]);
    }
    let out = mssconf(&args);
    let code = out.status.code().map_or("signal".to_string(), |c| c.to_string());
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}\n{}", text(&out.stderr)));
    let actual = [
        ("exit-code.txt", format!("{code}\n")),
        ("report.json", normalise(&json(&read("report.json")))),
        // Proof attachments name the (temporary) report folder.
        ("junit.xml", without_pacing(&normalise(&read("junit.xml").replace(d, "<REPORT_DIR>")))),
        ("report.txt", without_pacing(&normalise(&html_text(&read("report.html"))))),
    ];
    let junit = actual[2].1.clone();
    let expected_dir = root().join("tests/golden").join(name);
    let bless = std::env::var("MSSCONF_BLESS").is_ok_and(|v| v == "1");
    let mut mismatches = Vec::new();
    for (file, got) in actual {
        let path = expected_dir.join(file);
        if bless {
            std::fs::create_dir_all(&expected_dir).expect("golden dir");
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            mismatches.push(describe(&path, &want, &got));
        }
    }
    assert!(mismatches.is_empty(), "golden run `{name}` differs (MSSCONF_BLESS=1 rewrites it):\n{}", mismatches.join("\n"));
    junit
}

/// Lines that only some runs have: the connection pacing waited (timing-dependent).
const PACING: &str = "pacing: waited";

/// `report.json` with every duration zeroed (keys ending in `_ms`, the phase timings), the
/// sizes of messages (their dates vary in length), and without the pacing notes.
fn json(raw: &str) -> String {
    let mut v: Value = serde_json::from_str(raw).expect("report.json parses");
    zero_durations(&mut v, false);
    for s in v["scenarios"].as_array_mut().into_iter().flatten() {
        drop_pacing_notes(s);
    }
    serde_json::to_string_pretty(&v).expect("json") + "\n"
}

/// Removes the pacing notes of a scenario's transcript, its steps' line ranges following.
fn drop_pacing_notes(scenario: &mut Value) {
    let Some(lines) = scenario["transcript"].as_array_mut() else { return };
    let dropped: Vec<u64> = (0..lines.len() as u64).filter(|&i| lines[i as usize]["text"].as_str().is_some_and(|t| t.starts_with(PACING))).collect();
    lines.retain(|l| !l["text"].as_str().is_some_and(|t| t.starts_with(PACING)));
    for step in scenario["steps"].as_array_mut().into_iter().flatten() {
        for key in ["transcript_from", "transcript_to"] {
            if let Some(at) = step[key].as_u64() {
                step[key] = Value::from(at - dropped.iter().filter(|&&d| d < at).count() as u64);
            }
        }
    }
}

fn zero_durations(v: &mut Value, in_phases: bool) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if x.is_number() && (in_phases || k.ends_with("_ms") || k == "size") {
                    *x = Value::from(0);
                } else {
                    zero_durations(x, k == "phases");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| zero_durations(x, false)),
        _ => {}
    }
}

/// The text a reader sees in `report.html`: no style, one line per block, entities decoded.
fn html_text(html: &str) -> String {
    let no_style = Regex::new(r"(?s)<style.*?</style>|<script.*?</script>").unwrap().replace_all(html, "");
    let breaks = Regex::new(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|dd|summary|details|pre|table|section|header|footer)>").unwrap();
    let cells = Regex::new(r"(?i)</t[dh]>|</dt>").unwrap();
    let tags = Regex::new(r"<[^>]*>").unwrap();
    let s = breaks.replace_all(&no_style, "\n");
    let s = cells.replace_all(&s, " | ");
    let s = tags.replace_all(&s, "");
    let s = html_escape::decode_html_entities(&s);
    s.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n") + "\n"
}

fn without_pacing(text: &str) -> String {
    text.lines().filter(|l| !l.contains(PACING)).map(|l| format!("{l}\n")).collect()
}

/// Replaces what differs between two runs of the same selection.
fn normalise(s: &str) -> String {
    const RULES: &[(&str, &str)] = &[
        // Certificate validity as x509-parser prints it (the test PKI is made anew on a new machine).
        (r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2}\.\d+ [+-]\d{2}:\d{2}:\d{2}", "<TIME>"),
        // Certificate serial numbers (service identity), same reason.
        (r"\b[0-9a-f]{2}(:[0-9a-f]{2}){7,}\b", "<SERIAL>"),
        (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", "<TIME>"),
        (r"\b\d{2}:\d{2}:\d{2}\.\d{3}\b", "<HMS>"),
        (r"\d{8}T\d{6}Z-[0-9a-f]{4}", "<RUN>"),
        (r"\.m(\d+)\.[0-9a-f]{10}@", ".m$1.<RAND>@"),
        (r"\b[0-9a-f]{64}\b", "<SHA256>"),
        (r"sha256 [0-9a-f]{16}\b", "sha256 <SHA16>"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<PORT>"),
        (r"<port>\d+</port>", "<port><PORT></port>"),
        (r"&lt;port&gt;\d+&lt;/port&gt;", "&lt;port&gt;<PORT>&lt;/port&gt;"),
        (r"\b[0-9A-F]{13}\b", "<QID>"),
        (r"\d+(\.\d+)? m?s\b", "<DURATION>"),
        // Line counts of transcripts: pacing notes come and go (see PACING).
        (r"transcript \(\d+ lines", "transcript (N lines"),
        (r"transcription \(\d+ lignes", "transcription (N lignes"),
        // Sizes of dated messages: an unpadded day of month makes them vary by a byte.
        (r"\d+ bytes\b", "N bytes"),
        (r"\d+ octets\b", "N octets"),
        (r"\{\d+\}", "{N}"),
        (r"\| \d+ \| <SHA256>", "| N | <SHA256>"),
        (r"UTC[+-]\d{2}:\d{2}", "UTC<OFFSET>"),
        (r"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}( GMT| [+-]\d{4})?", "<DATE>"),
        (r#"time="[0-9.]+""#, r#"time="0""#),
    ];
    RULES.iter().fold(s.to_string(), |acc, (re, to)| Regex::new(re).unwrap().replace_all(&acc, *to).into_owned())
}

/// The first differing lines, and where the whole actual file was written.
fn describe(path: &Path, want: &str, got: &str) -> String {
    let actual: PathBuf = std::env::temp_dir().join(format!(
        "mssconf-golden-{}-{}",
        path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        path.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::write(&actual, got);
    let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
    let mut out = format!("--- {} ({} lines)\n+++ {} ({} lines)\n", path.display(), w.len(), actual.display(), g.len());
    let mut shown = 0;
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b && shown < 12 {
            out += &format!("@{}\n- {}\n+ {}\n", i + 1, a.unwrap_or(&""), b.unwrap_or(&""));
            shown += 1;
        }
    }
    out
}
