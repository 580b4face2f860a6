//! The words every output shares, in French (default) and English: verdicts in their forms,
//! skip kinds, profile names, and the few labels two or more of cards, logs, HTML, audit screen
//! and JUnit print. Written once here; each front end's own table (`evidence::labels`,
//! `report::html::labels`, `audit::screen`) keeps only the words it alone uses.
//!
//! Beside the record (what every report is rendered from), below evidence, report and audit, so
//! they all read it without an import against the pipeline.

use crate::lang::Lang;
use crate::record::Outcome;

/// One verdict in the forms the outputs print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// A card's or the audit screen's word: `NON CONFORME` / `FAIL`.
    pub word: &'static str,
    /// In a text line (logs, JUnit): `non conforme` / `fail` (English: the outcome's name).
    pub text: &'static str,
    /// In the HTML report: `non conforme` / `non-conformant`.
    pub report: &'static str,
}

/// The verdict words of `o` in `lang`.
pub fn verdict(o: Outcome, lang: Lang) -> Verdict {
    let v = |word, text, report| Verdict { word, text, report };
    match (lang, o) {
        (Lang::Fr, Outcome::Pass) => v("CONFORME", "conforme", "conforme"),
        (Lang::Fr, Outcome::Fail) => v("NON CONFORME", "non conforme", "non conforme"),
        (Lang::Fr, Outcome::Error) => v("ERREUR", "erreur", "erreur"),
        (Lang::Fr, Outcome::Skip) => v("NON EXÉCUTÉ", "non exécuté", "non exécuté"),
        (Lang::Fr, Outcome::Interrupted) => v("INTERROMPU", "interrompu", "interrompu"),
        (Lang::Fr, Outcome::Flaky) => v("INSTABLE", "instable", "instable"),
        (Lang::En, Outcome::Pass) => v("PASS", o.name(), "conformant"),
        (Lang::En, Outcome::Fail) => v("FAIL", o.name(), "non-conformant"),
        (Lang::En, Outcome::Error) => v("ERROR", o.name(), "error"),
        (Lang::En, Outcome::Skip) => v("SKIPPED", o.name(), "not run"),
        (Lang::En, Outcome::Interrupted) => v("INTERRUPTED", o.name(), "interrupted"),
        (Lang::En, Outcome::Flaky) => v("FLAKY", o.name(), "flaky"),
    }
}

/// The run's progress line (`mssconf run`, English, read in CI logs): the cards' English word,
/// `SKIP` for a skip.
pub fn progress_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Skip => "SKIP",
        _ => verdict(o, Lang::En).word,
    }
}

/// Why a scenario was skipped, as auditors are told it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// The target does not claim the scenario's profile: « non applicable ».
    NotApplicable,
    /// The target lacks what the scenario needs (an endpoint, a mailbox, a token…).
    MissingMaterial,
    /// Any other reason (an auditor's skip, a filter…).
    NotRun,
}

/// How a plan skip reason begins when the target does not claim the profile.
const NOT_CLAIMED: &str = "the target does not claim profile ";

impl SkipKind {
    /// The kind of a skip from its recorded reason (the plan's English sentence).
    pub fn of(reason: Option<&str>) -> SkipKind {
        let missing = ["the target declares no ", "the target provides no ", "the target profile has no ", "mailbox "];
        match reason {
            Some(r) if r.starts_with(NOT_CLAIMED) => SkipKind::NotApplicable,
            Some(r) if missing.iter().any(|p| r.starts_with(p)) => SkipKind::MissingMaterial,
            _ => SkipKind::NotRun,
        }
    }

    pub fn word(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::Fr, SkipKind::NotApplicable) => "non applicable",
            (Lang::Fr, SkipKind::MissingMaterial) => "non exécuté — matériel de test manquant",
            (Lang::Fr, SkipKind::NotRun) => verdict(Outcome::Skip, lang).text,
            (Lang::En, SkipKind::NotApplicable) => "not applicable",
            (Lang::En, SkipKind::MissingMaterial) => "not run — test material missing",
            (Lang::En, SkipKind::NotRun) => verdict(Outcome::Skip, lang).report,
        }
    }
}

/// A skipped scenario's label: « non applicable », « non exécuté — matériel de test manquant »
/// or « non exécuté ».
pub fn skip_label(reason: Option<&str>, lang: Lang) -> &'static str {
    SkipKind::of(reason).word(lang)
}

/// `general` / `per-org` / `app` as the agency's documents name them.
pub fn profile_name(p: &str, lang: Lang) -> String {
    match (p, lang) {
        ("general", Lang::Fr) => "Général".into(),
        ("general", Lang::En) => "General".into(),
        ("per-org", _) => "BAL PER-ORG".into(),
        ("app", _) => "BAL APP".into(),
        (other, _) => other.to_string(),
    }
}

/// Labels printed by two or more outputs (the front ends' tables take them from here). Capitalised
/// as a heading; a sentence lowercases them.
pub struct Words {
    pub run: &'static str,
    pub target: &'static str,
    pub endpoints: &'static str,
    pub tool: &'static str,
    pub requirements: &'static str,
    pub scenario: &'static str,
    pub steps: &'static str,
    pub step: &'static str,
    /// `Étape 1 (tentative 2)`: a step repeated in an audit.
    pub attempt: &'static str,
    pub verdict: &'static str,
    pub reason: &'static str,
    pub checks: &'static str,
    /// A message's direction (`sent` / `received` in the record).
    pub sent: &'static str,
    pub received: &'static str,
    pub bytes: &'static str,
    /// Transcripts' times.
    pub times_utc: &'static str,
}

pub const FR: Words = Words {
    run: "Exécution",
    target: "Cible",
    endpoints: "Points d'accès",
    tool: "Outil",
    requirements: "Exigences",
    scenario: "Scénario",
    steps: "Étapes",
    step: "Étape",
    attempt: "tentative",
    verdict: "Verdict",
    reason: "Motif",
    checks: "Vérifications",
    sent: "envoyé",
    received: "reçu",
    bytes: "octets",
    times_utc: "heures UTC",
};

pub const EN: Words = Words {
    run: "Run",
    target: "Target",
    endpoints: "Endpoints",
    tool: "Tool",
    requirements: "Requirements",
    scenario: "Scenario",
    steps: "Steps",
    step: "Step",
    attempt: "attempt",
    verdict: "Verdict",
    reason: "Reason",
    checks: "Checks",
    sent: "sent",
    received: "received",
    bytes: "bytes",
    times_utc: "times in UTC",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// A recorded message direction (`sent` / `received`) in `lang`.
pub fn direction(direction: &str, lang: Lang) -> &'static str {
    if direction == "sent" { words(lang).sent } else { words(lang).received }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    const ALL: [Outcome; 6] = [Outcome::Pass, Outcome::Fail, Outcome::Error, Outcome::Skip, Outcome::Interrupted, Outcome::Flaky];

    /// Cards, logs, HTML, JUnit and the audit screen print this table's verdict words, for every
    /// outcome and language: a front end back to words of its own fails here.
    #[test]
    fn every_front_end_prints_the_tables_verdict_words() {
        let index = crate::requirement::RequirementIndex { requirements: vec![] };
        for o in ALL {
            let mut s = scenario_with_session();
            s.outcome = o;
            let run = run_with(vec![s.clone()]);
            for lang in [Lang::Fr, Lang::En] {
                let v = verdict(o, lang);
                let card = crate::evidence::card::scenario::scenario_card(&run, &s, &s.proofs[2], lang);
                assert_eq!(card.verdict_word, v.word, "card {o:?} {lang:?}");
                let log = crate::evidence::logfile::render_log(&run, &s, &s.proofs[0], lang);
                assert!(log.contains(&format!("{:<16}{}\n", words(lang).verdict, v.text)), "log {o:?} {lang:?}:\n{log}");
                let html = crate::report::html::render_html(&run, &index, lang);
                let count = format!("<div class=\"count o-{}\"><span class=\"n\">1</span>{}</div>", o.name(), v.report);
                assert!(html.contains(&count), "HTML {o:?} {lang:?}: {count}");
                let junit = crate::report::junit::render_junit_in(&run, lang).expect("junit");
                let said = match lang {
                    Lang::Fr => format!("verdict : {}\n", v.text),
                    Lang::En => format!("outcome: {}\n", v.text),
                };
                assert!(junit.contains(&said), "JUnit {o:?} {lang:?}: {said}");
            }
            // The audit screen is French.
            assert_eq!(crate::audit::screen::Style::plain().verdict(o), verdict(o, Lang::Fr).word, "audit {o:?}");
            assert_eq!(crate::cli::progress::label(o), progress_word(o), "progress {o:?}");
        }
    }

    #[test]
    fn skips_are_told_apart() {
        assert_eq!(skip_label(Some("the target does not claim profile `app`"), Lang::Fr), "non applicable");
        assert_eq!(skip_label(Some("the target provides no revoked token (`negative.revoked_token`)"), Lang::Fr), "non exécuté — matériel de test manquant");
        assert_eq!(skip_label(Some("step 1 skipped: hors périmètre"), Lang::Fr), "non exécuté");
        assert_eq!(skip_label(None, Lang::En), "not run");
        assert_eq!(skip_label(Some("mailbox `app` has no client certificate"), Lang::En), "not run — test material missing");
    }

    /// The verdict words are spelled once, here: no other file of `src/` writes one as a string
    /// literal outside its tests. Three literals mean something else: a signature's state, a word
    /// looked for in a note, a step not run (French « non exécutée », not the verdict).
    #[test]
    fn verdict_words_are_written_only_here() {
        let mut spelled: Vec<&str> = vec![progress_word(Outcome::Skip)];
        for o in ALL {
            let (fr, en) = (verdict(o, Lang::Fr), verdict(o, Lang::En));
            spelled.extend([fr.word, fr.text, fr.report, en.word, en.report].into_iter().filter(|w| *w != o.name()));
        }
        let elsewhere = [("cli/bundle.rs", "FAIL"), ("evidence/facts.rs", "ERROR"), ("evidence/labels.rs", "not run")];
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        let mut files = vec![src.clone()];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).expect("src").map(|e| e.expect("entry").path()));
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".rs") || rel == "record/words.rs" || rel.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for w in &spelled {
                    if line.contains(&format!("\"{w}\"")) && !elsewhere.contains(&(rel.as_str(), *w)) {
                        found.push(format!("{rel}: {w}: {}", line.trim()));
                    }
                }
            }
        }
        assert!(found.is_empty(), "verdict words spelled outside record::words:\n{}", found.join("\n"));
    }
}
