//! `junit.xml` for CI (GitLab, Jenkins), built with quick-junit.
//!
//! Layout choice: one `<testsuite>` per REM profile (`general`, `per-org`, `app`, then any other
//! profile in order of appearance), because the profile is what an operator claims support for
//! and what CI dashboards should group by; themes are visible in scenario ids already.
//! `<testsuites>` cannot carry properties in quick-junit, so the run's properties (target,
//! operator, environment, run id…) are repeated on every `<testsuite>`. Each `<testcase>` carries
//! its requirement ids as `requirement` properties (read by Jenkins' JUnit plugin) and again in the
//! first lines of its `system-out` (the only per-case text GitLab shows).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::ReportError;
use super::excerpt::{JUNIT_MAX_LINES, Item, excerpt};
use crate::verdict::french;
use crate::lang::Lang;
use crate::util::visible::{visible, visible_keeping};
use crate::record::{AttemptRecord, Outcome, RunRecord, ScenarioRecord, StepNumber, words};

const PROFILE_ORDER: [&str; 3] = ["general", "per-org", "app"];

/// The JUnit XML of a run.
pub fn render_junit(record: &RunRecord) -> Result<String, ReportError> {
    render_junit_in(record, Lang::En)
}

/// The JUnit XML of a run, its messages in the run's language (the harness's own phrases; what
/// the server sent stays as sent).
pub fn render_junit_in(record: &RunRecord, lang: Lang) -> Result<String, ReportError> {
    Ok(build_report_in(record, lang).to_string()?)
}

/// The quick-junit model of a run (exposed for callers that want to post-process it).
pub fn build_report(record: &RunRecord) -> Report {
    build_report_in(record, Lang::En)
}

/// [`build_report`] with its messages in `lang`.
pub fn build_report_in(record: &RunRecord, lang: Lang) -> Report {
    let mut report = Report::new("mssconf");
    report.set_timestamp(record.started);
    if let Some(finished) = record.finished {
        report.set_time(millis((finished - record.started).num_milliseconds().max(0) as u64));
    }
    let run_properties = run_properties(record);
    for profile in profiles(record) {
        let mut suite = TestSuite::new(profile.as_str());
        suite.set_timestamp(record.started);
        suite.add_properties(run_properties.iter().cloned());
        let cases: Vec<&ScenarioRecord> = record.scenarios.iter().filter(|s| s.profile == profile).collect();
        suite.set_time(millis(cases.iter().map(|s| s.duration_ms).sum()));
        suite.add_test_cases(cases.into_iter().map(|s| test_case(s, &record.step_numbers(s), lang)));
        report.add_test_suite(suite);
    }
    report
}

/// Known profiles first (fixed order), then unknown ones as they appear.
fn profiles(record: &RunRecord) -> Vec<String> {
    let mut out: Vec<String> = PROFILE_ORDER
        .iter()
        .filter(|p| record.scenarios.iter().any(|s| s.profile == **p))
        .map(|p| p.to_string())
        .collect();
    for s in &record.scenarios {
        if !out.contains(&s.profile) {
            out.push(s.profile.clone());
        }
    }
    out
}

fn run_properties(record: &RunRecord) -> Vec<Property> {
    let t = &record.target;
    let mut p = vec![
        Property::new("run_id", &record.run_id),
        Property::new("tool", &record.tool),
        Property::new("tool_version", &record.tool_version),
        Property::new("target", &t.name),
        Property::new("operator", &t.operator),
        Property::new("service", &t.service),
        Property::new("target_version", &t.version),
        Property::new("environment", &t.environment),
        Property::new("domain", &t.domain),
        Property::new("server_name", &t.server_name),
        Property::new("embedded_mock", t.embedded_mock.to_string()),
    ];
    p.extend(t.endpoints.iter().map(|e| Property::new("endpoint", e)));
    p.extend(record.selection.iter().map(|s| Property::new("selection", s)));
    p
}

/// `numbers`: the scenario step of each entry of `s.steps` ([`RunRecord::step_numbers`]).
fn test_case(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> TestCase {
    let mut case = TestCase::new(s.id.as_str(), status(s, numbers, lang));
    case.set_classname(format!("mssconf.{}", s.profile));
    case.set_time(millis(s.duration_ms));
    if let Some(started) = s.started {
        case.set_timestamp(started);
    }
    case.add_properties(s.requirements.iter().map(|r| Property::new("requirement", r)));
    case.add_property(Property::new("file", &s.file));
    if s.nature != "exigence" {
        case.add_property(Property::new("nature", &s.nature));
    }
    // Observations and préconisations not followed: reported, never a <failure>.
    case.add_properties(s.advisories.iter().map(|a| Property::new("advisory", visible(a))));
    case.set_system_out(system_out(s, lang));
    case
}

fn status(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> TestCaseStatus {
    let mut status = last_attempt_status(s, numbers, lang);
    // Success keeps earlier attempts as <flakyFailure>/<flakyError>; a scenario that never
    // passed keeps them as <rerunFailure>/<rerunError>.
    status.add_reruns(s.attempts.iter().map(|a| rerun(a, lang)));
    status
}

fn last_attempt_status(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> TestCaseStatus {
    match s.outcome {
        Outcome::Pass | Outcome::Flaky => TestCaseStatus::success(),
        Outcome::Fail => failure(s, numbers, lang),
        Outcome::Error => error(s, numbers, lang),
        Outcome::Interrupted => interrupted(s),
        Outcome::Skip => {
            let mut st = TestCaseStatus::skipped();
            let label = words::skip_label(s.reason.as_deref(), lang);
            match s.reason.as_deref() {
                Some(r) if lang == Lang::Fr => st.set_message(format!("{label} : {}", s.reason_in(r, lang))),
                Some(r) => st.set_message(r),
                None => st.set_message(label),
            };
            st
        }
    }
}

/// `step` / `attempt` in the run's language, inside a sentence.
fn step_words(lang: Lang) -> (String, String) {
    let w = words::words(lang);
    (w.step.to_lowercase(), w.attempt.to_lowercase())
}

/// `motif` / `reason`, inside a sentence.
fn reason_word(lang: Lang) -> String {
    words::words(lang).reason.to_lowercase()
}

/// An earlier attempt of a retried scenario.
fn rerun(a: &AttemptRecord, lang: Lang) -> TestRerun {
    let kind = if a.outcome == Outcome::Fail { NonSuccessKind::Failure } else { NonSuccessKind::Error };
    let mut r = TestRerun::new(kind);
    let message = match lang {
        Lang::En => format!("attempt {}: {}: {}", a.attempt, a.outcome.name(), a.reason.as_deref().unwrap_or("no reason recorded")),
        Lang::Fr => format!(
            "tentative {} : {} : {}",
            a.attempt,
            words::verdict(a.outcome, lang).text,
            a.reason.as_deref().map_or("aucun motif enregistré".to_string(), |r| french::reason_in(r, &a.check.iter().collect::<Vec<_>>(), lang))
        ),
    };
    r.set_type(a.outcome.name()).set_message(visible(&message)).set_time(millis(a.duration_ms));
    if let Some(started) = a.started {
        r.set_timestamp(started);
    }
    let mut out = String::new();
    for item in excerpt(&a.transcript, JUNIT_MAX_LINES) {
        match item {
            Item::Line(_, line) => out.push_str(&line.render()),
            Item::Cut(n) => out.push_str(&format!("[... {n} lines cut here ...]")),
        }
        out.push('\n');
    }
    if !out.is_empty() {
        r.set_system_out(visible_keep_newlines(&out));
    }
    r
}

/// `step 2 "AUTH with a revoked token": reply code: expected 535, got 235`
fn failed_checks(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (step_word, attempt_word) = step_words(lang);
    for (n, step) in numbers.iter().zip(&s.steps) {
        for c in step.checks.iter().filter(|c| c.fails()) {
            let summary = french::summary(c, lang);
            out.push((c.summary(), format!("{} \"{}\": {summary}", n.label(&step_word, &attempt_word), step.title)));
        }
    }
    out
}

fn failure(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> TestCaseStatus {
    let failed = failed_checks(s, numbers, lang);
    let first = numbers.iter().zip(&s.steps).flat_map(|(_, st)| st.checks.iter()).find(|c| c.fails());
    let message = match (first, &s.reason) {
        (Some(c), _) => french::summary(c, lang),
        (None, Some(reason)) => s.reason_in(reason, lang),
        (None, None) if lang == Lang::Fr => format!("{} (aucune vérification en échec consignée)", words::verdict(Outcome::Fail, lang).text),
        (None, None) => format!("{} (no failed check recorded)", words::verdict(Outcome::Fail, lang).report),
    };
    // The record's reason is usually the first failed check again: say it once.
    let reason_is_a_check = s.reason.as_ref().is_some_and(|r| failed.iter().any(|(summary, _)| summary == r));
    let mut text: Vec<String> = failed.into_iter().map(|(_, line)| line).collect();
    if let Some(reason) = s.reason.as_ref().filter(|_| !reason_is_a_check) {
        text.push(format!("{}: {}", reason_word(lang), s.reason_in(reason, lang)));
    }
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
    st.set_type("assertion").set_message(visible(&message)).set_description(visible_keep_newlines(&text.join("\n")));
    st
}

fn error(s: &ScenarioRecord, numbers: &[StepNumber], lang: Lang) -> TestCaseStatus {
    // The last entry in error: a run stops at its first, an audit may have repeated it since.
    let step = numbers.iter().zip(&s.steps).rfind(|(_, st)| st.outcome == Outcome::Error || st.error.is_some());
    let category = step.and_then(|(_, st)| st.error_category.clone()).unwrap_or_else(|| "harness".into());
    let message = step
        .and_then(|(_, st)| st.error.clone())
        .or_else(|| s.reason.clone())
        .map(|m| s.reason_in(&m, lang))
        .unwrap_or_else(|| if lang == Lang::Fr { "l'outil n'a pas pu observer".into() } else { "the harness could not observe".into() });
    let mut text = Vec::new();
    let (step_word, attempt_word) = step_words(lang);
    if let Some((n, st)) = step {
        let e = st.error.as_deref().map(|e| french::reason(e, lang)).unwrap_or_else(|| "error".into());
        text.push(format!("{} \"{}\" ({}): {e}", n.label(&step_word, &attempt_word), st.title, category));
    }
    if let Some(reason) = &s.reason {
        text.push(format!("{}: {}", reason_word(lang), s.reason_in(reason, lang)));
    }
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
    st.set_type(category).set_message(visible(&message));
    if !text.is_empty() {
        st.set_description(visible_keep_newlines(&text.join("\n")));
    }
    st
}

fn interrupted(s: &ScenarioRecord) -> TestCaseStatus {
    let message = match &s.reason {
        Some(reason) => format!("interrupted: not run to the end ({reason})"),
        None => "interrupted: not run to the end (the run was stopped)".into(),
    };
    let last = s.steps.last().map_or("none".to_string(), |st| format!("\"{}\" ({})", st.title, st.outcome.name()));
    let text = format!("{} step(s) recorded before the interruption; last: {last}", s.steps.len());
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
    st.set_type("interrupted").set_message(visible(&message)).set_description(visible(&text));
    st
}

/// A short header (what GitLab shows per case) followed by the transcript excerpt.
fn system_out(s: &ScenarioRecord, lang: Lang) -> String {
    let mut out = match lang {
        Lang::En => format!(
            "scenario: {}\ntitle: {}\nrequirements: {}\nprofile: {}\noutcome: {}\n",
            s.id,
            s.title,
            s.requirements.join(", "),
            s.profile,
            s.outcome.name()
        ),
        Lang::Fr => format!(
            "scénario : {}\ntitre : {}\nexigences : {}\nprofil : {}\nverdict : {}\n",
            s.id,
            s.title,
            s.requirements.join(", "),
            words::profile_name(&s.profile, lang),
            if s.outcome == Outcome::Skip { words::skip_label(s.reason.as_deref(), lang) } else { words::verdict(s.outcome, lang).text }
        ),
    };
    if let Some(reason) = &s.reason {
        let colon = if lang == Lang::Fr { " : " } else { ": " };
        out.push_str(&format!("{}{colon}{}\n", reason_word(lang), s.reason_in(reason, lang)));
    }
    let fr = lang == Lang::Fr;
    if !s.attempts.is_empty() {
        let n = s.attempts.len() + 1;
        out.push_str(&if fr {
            format!("tentatives : {n} (la transcription ci-dessous est celle de la dernière)\n")
        } else {
            format!("attempts: {n} (the transcript below is the last one)\n")
        });
    }
    for a in &s.advisories {
        let a = s.reason_in(a, lang);
        out.push_str(&if fr {
            format!("non suivi (observation ou préconisation, pas un échec) : {a}\n")
        } else {
            format!("not followed (observation or préconisation, not a failure): {a}\n")
        });
    }
    let n = s.transcript.len();
    out.push_str(&if fr {
        format!("--- transcription ({n} lignes, {}) ---\n", words::FR.times_utc)
    } else {
        format!("--- transcript ({n} lines, {}) ---\n", words::EN.times_utc)
    });
    for item in excerpt(&s.transcript, JUNIT_MAX_LINES) {
        match item {
            Item::Line(_, line) => out.push_str(&line.render()),
            Item::Cut(n) => out.push_str(&format!(
                "[... {n} lines cut here; the full transcript is in report.html and the evidence files ...]"
            )),
        }
        out.push('\n');
    }
    visible_keep_newlines(&out)
}

/// Like [`visible`], keeping the newlines that separate lines.
fn visible_keep_newlines(text: &str) -> String {
    visible_keeping(text, &['\t', '\n'])
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_run_is_an_empty_testsuites() {
        let xml = render_junit(&crate::report::tests::empty_record()).unwrap();
        assert!(xml.contains(r#"<testsuites name="mssconf" tests="0" skipped="0" failures="0" errors="0""#), "{xml}");
    }

    /// A run with one scenario of this outcome and these earlier attempts.
    fn retried(outcome: Outcome, earlier: &[Outcome]) -> RunRecord {
        let mut record = crate::report::tests::empty_record();
        let attempts: Vec<serde_json::Value> = earlier
            .iter()
            .enumerate()
            .map(|(i, o)| serde_json::json!({"attempt": i + 1, "outcome": o, "reason": "reply code: expected 250, got 421",
                "started": null, "duration_ms": 12, "transcript": []}))
            .collect();
        record.scenarios.push(
            serde_json::from_value(serde_json::json!({
                "id": "OPE/TLS.01.01", "name": "general::OPE/TLS.01.01", "title": "t", "title_en": null, "description": null,
                "requirements": ["OPE/TLS.01"], "profile": "general", "tags": [], "confidence": null, "file": "f.yaml",
                "file_sha256": "00", "outcome": outcome, "reason": null, "started": null, "duration_ms": 30,
                "steps": [], "transcript": [], "proofs": [], "messages": [], "attempts": attempts
            }))
            .expect("valid scenario record"),
        );
        record
    }

    #[test]
    fn flaky_is_a_success_with_its_failed_attempts_as_flaky_failures() {
        let xml = render_junit(&retried(Outcome::Flaky, &[Outcome::Fail, Outcome::Error])).unwrap();
        assert!(xml.contains("failures=\"0\" errors=\"0\""), "{xml}");
        assert!(xml.contains("<flakyFailure time=\"0.012\" message=\"attempt 1: fail: reply code: expected 250, got 421\""), "{xml}");
        assert!(xml.contains("<flakyError time=\"0.012\" message=\"attempt 2: error:"), "{xml}");
        assert!(!xml.contains("<failure") && !xml.contains("<error"), "{xml}");
        assert!(xml.contains("attempts: 3 (the transcript below is the last one)"), "{xml}");
    }

    #[test]
    fn a_scenario_failing_every_attempt_keeps_them_as_reruns() {
        let xml = render_junit(&retried(Outcome::Fail, &[Outcome::Fail])).unwrap();
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("<rerunFailure time=\"0.012\" message=\"attempt 1: fail:"), "{xml}");
        assert!(!xml.contains("flaky"), "{xml}");
    }

    #[test]
    fn in_an_audit_an_error_names_the_scenario_step_and_its_attempt() {
        let mut record = retried(Outcome::Error, &[]);
        let step = |outcome: &str, error: Option<&str>| {
            serde_json::json!({"title": "EHLO", "kind": "smtp", "outcome": outcome, "checks": [], "error": error,
                "error_category": error.map(|_| "timeout"), "transcript_from": 0, "transcript_to": 0,
                "duration_ms": 1, "server_wait_ms": 1})
        };
        let entries = [step("pass", None), step("error", Some("first try")), step("error", Some("no reply"))];
        record.scenarios[0].steps = entries.into_iter().map(|e| serde_json::from_value(e).unwrap()).collect();
        // Step 1 passed; step 2 errored, was repeated and errored again.
        let attested = |step: usize, attempt: u32, entry: usize| {
            serde_json::json!({"scenario": "general::OPE/TLS.01.01", "step": step, "step_title": "EHLO", "attempt": attempt,
                "outcome": "pass", "observed_at": "2026-11-25T17:00:00Z", "auditor": "A", "statement": "vu",
                "session": 1, "record_step": entry})
        };
        record.audit = Some(
            serde_json::from_value(serde_json::json!({"auditor": "A", "sessions": [], "complete": true,
                "attestations": [attested(0, 1, 0), attested(1, 1, 1), attested(1, 2, 2)]}))
            .unwrap(),
        );
        let xml = render_junit(&record).unwrap();
        assert!(xml.contains("step 2 (attempt 2) &quot;EHLO&quot; (timeout): no reply"), "{xml}");
        assert!(xml.contains("message=\"no reply\""), "{xml}");
        assert!(!xml.contains("step 3"), "an entry number leaked: {xml}");
    }

    #[test]
    fn french_runs_get_french_messages_and_keep_the_server_text() {
        let mut record = retried(Outcome::Fail, &[Outcome::Fail]);
        let s = &mut record.scenarios[0];
        s.reason = Some("step 1: reply code: expected 250, got 554 5.7.1 Relay access denied".into());
        let fr = render_junit_in(&record, Lang::Fr).unwrap();
        assert!(fr.contains("message=\"étape 1 : code de réponse : attendu 250, obtenu 554 5.7.1 Relay access denied\""), "{fr}");
        assert!(!fr.contains("reply code"), "{fr}");
        let en = render_junit(&record).unwrap();
        assert!(en.contains("message=\"step 1: reply code: expected 250, got 554 5.7.1 Relay access denied\""), "{en}");
        // The system-out header lines too: attempts and the transcript's heading.
        assert!(fr.contains("tentatives : ") && fr.contains("--- transcription (") && !fr.contains("attempts: "), "{fr}");
        assert!(en.contains("attempts: ") && en.contains("--- transcript ("), "{en}");
    }

    /// An earlier attempt keeps the failed check its reason was written from, so a French run
    /// words it from the check's fields (position, then the French phrases, then the server's
    /// text as sent) rather than from the English sentence. A record without it still reads.
    #[test]
    fn an_earlier_attempts_failed_check_is_worded_from_the_check() {
        let mut record = retried(Outcome::Fail, &[]);
        let s = &mut record.scenarios[0];
        let mut c = crate::verdict::Check::new("reply text", "contains \"OK, got it\"", "235 2.7.0 ok", false);
        c.at = Some("scenarios/auth/x.yaml:42:11".into());
        s.steps = vec![serde_json::from_value(serde_json::json!({"title": "AUTH", "kind": "smtp", "outcome": "fail",
            "checks": [c], "error": null, "transcript_from": 0, "transcript_to": 0, "duration_ms": 1, "server_wait_ms": 0}))
        .unwrap()];
        s.reason = Some(s.steps[0].checks[0].summary());
        let attempt = AttemptRecord::of(s, 1);
        assert_eq!(attempt.check.as_ref(), Some(&s.steps[0].checks[0]), "the check is kept");
        let json = serde_json::to_value(&attempt).unwrap();
        assert_eq!(json["check"]["at"], "scenarios/auth/x.yaml:42:11");
        // As a record written before the check was kept: it still reads.
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("check");
        assert!(serde_json::from_value::<AttemptRecord>(old).unwrap().check.is_none());
        // Only the attempt holds the check: the last attempt failed elsewhere.
        s.steps.clear();
        s.reason = Some("no reply".into());
        s.attempts = vec![attempt];
        let fr = render_junit_in(&record, Lang::Fr).unwrap();
        let said = "tentative 1 : non conforme : scenarios/auth/x.yaml:42:11: texte de la réponse : attendu contient &quot;OK, got it&quot;, obtenu 235 2.7.0 ok";
        assert!(fr.contains(said), "{fr}");
        assert!(!fr.contains("reply text"), "{fr}");
    }

    #[test]
    fn newlines_survive_control_character_cleanup() {
        assert_eq!(visible_keep_newlines("a\u{7}\nb"), "a\\x07\nb");
    }
}
