//! Issue #18 item 6: the French outputs of a whole catalogue run speak French. The catalogue runs
//! against the embedded mock with faults switched on (so failed checks, refusals and errors are
//! written too); the HTML report, the JUnit messages, the log proofs, the text of every card and
//! the audit screen's check lines are searched for the harness's English phrases. Server text (transcripts, replies)
//! is evidence and stays as sent: transcripts are left out of the search.

use mssconf::audit::screen::{self, Style};
use mssconf::lang::Lang;
use mssconf::evidence::card::production::production_card;
use mssconf::evidence::card::scenario::scenario_card;
use mssconf::evidence::card::Card;
use mssconf::runner::TargetChoice;
use mssconf_mock::faults::FaultSet;

use crate::evidence_support::{everything, root, run_in_process};

/// Phrases the harness writes in English that must not reach a French output.
const ENGLISH: &[&str] = &[
    "reply code",
    "expected ",
    ", got ",
    "not announced",
    "message found",
    "nothing found",
    "verified against",
    "allow-list",
    "suite family",
    "refused at",
    "connection closed by",
    "does not claim",
    "declares no",
    "provides no",
    "(pass)",
    "(fail)",
    "(error)",
    "Verdict pass",
    " bytes)",
    "capability ",
    "tagged status",
    "submission outcome",
    "TLS handshake",
    "TLS session refused",
    "fetched message",
    "comparison with",
    "as sent",
    "Attestation",
    "connecting to",
    "connected to",
    "TLS handshake failed",
];

fn english_in(source: &str, text: &str, found: &mut Vec<String>) {
    for line in text.lines() {
        for phrase in ENGLISH {
            if line.contains(phrase) {
                found.push(format!("{source}: «{phrase}» in: {}", line.chars().take(200).collect::<String>()));
            }
        }
    }
}

/// The HTML's text outside transcripts (`<pre>`) and the stylesheet.
fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<pre") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("</pre>").map_or("", |end| &rest[start + end + 6..]);
    }
    out.push_str(rest);
    let out = match (out.find("<style>"), out.find("</style>")) {
        (Some(a), Some(b)) => format!("{}{}", &out[..a], &out[b..]),
        _ => out,
    };
    out.replace('<', "\n<").replace("&quot;", "\"").replace("&#39;", "'")
}

fn card_text(c: &Card) -> String {
    let mut t = vec![c.heading.clone(), c.verdict_word.clone(), c.title.clone(), c.checklist_title.clone(), c.footer.clone()];
    t.extend(c.warning.clone());
    t.extend(c.facts.iter().map(|(k, v)| format!("{k}: {v}")));
    t.extend(c.checklist.iter().map(|r| format!("{}: {}", r.label, r.detail)));
    t.join("\n")
}

#[test]
fn french_outputs_of_a_catalogue_run_carry_no_english_check_phrases() {
    let faults = FaultSet::parse_list("weak-cipher,auth-before-tls,accept-expired-token,no-sender-check,no-whitelist,strip-xmss-headers,no-dsn,accept-any-client-cert").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = run_in_process(vec![root().join("scenarios")], &everything(), TargetChoice::EmbeddedMock(faults.into()), dir.path());
    let record = &run.record;
    let failed = record.scenarios.iter().filter(|s| s.outcome.name() == "fail").count();
    assert!(failed >= 5, "the faults make scenarios fail, so failed checks are rendered too ({failed})");
    let mut found = Vec::new();

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    english_in("report.html", &html_text(&html), &mut found);

    // JUnit: the messages of failures, errors and skips (the transcript in system-out is left out).
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let messages: Vec<&str> = junit.split("message=\"").skip(1).filter_map(|m| m.split('"').next()).collect();
    assert!(messages.len() >= 5, "failures carry messages: {}", messages.len());
    english_in("junit.xml", &messages.join("\n").replace("&quot;", "\"").replace("&apos;", "'"), &mut found);

    let mut logs = 0;
    for e in std::fs::read_dir(dir.path().join("proofs")).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "log") {
            let text = std::fs::read_to_string(&p).unwrap();
            let head = text.split("\n# C: ").next().unwrap_or("");
            english_in(&p.display().to_string(), head, &mut found);
            // The harness's notes (`*` lines) too; the server's lines stay as sent.
            let notes: Vec<&str> = text.lines().filter(|l| l.split_whitespace().nth(2) == Some("*")).collect();
            english_in(&p.display().to_string(), &notes.join("\n"), &mut found);
            logs += 1;
        }
    }
    assert!(logs > 20, "log proofs were written ({logs})");

    let style = Style::plain();
    for s in &record.scenarios {
        for p in s.proofs.iter().filter(|p| p.kind == "screenshot") {
            english_in(&format!("card {}", p.id), &card_text(&scenario_card(record, s, p, Lang::Fr)), &mut found);
        }
        if s.tags.iter().any(|t| t == "production") {
            english_in("production card", &card_text(&production_card(record, s, Lang::Fr, "p.png")), &mut found);
        }
        for step in &s.steps {
            for c in &step.checks {
                english_in(&format!("audit screen {}", s.id), &screen::check(&style, c).join("\n"), &mut found);
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{} English phrase(s) in French outputs:\n{}", found.len(), found.join("\n"));
}
