//! The report writers on a hand-built record holding every outcome and text needing escaping.
//!
//! `junit.xml` is checked four ways: counts, quick-junit's own reader, a well-formedness pass
//! (quick-xml) and `xmllint` against `tests/data/junit.xsd` (skipped when xmllint is missing,
//! unless `MSSCONF_REQUIRE_TOOLS=1`).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use mssconf::lang::Lang;
use mssconf::exec::transcript::{Direction, Line};
use mssconf::record::{MessageRecord, Outcome, ProofRecord, RunRecord, ScenarioRecord, StepRecord, TargetSummary};
use mssconf::report::{self, write_all};
use mssconf::requirement::{Confidence, Nature, Requirement, RequirementIndex};
use mssconf::scenario::model::Profile;
use mssconf::verdict::Check;
use quick_junit::{NonSuccessKind, TestCaseStatus};

/// Text with everything a careless writer would break on.
const NASTY: &str = r#"<script>alert("x")</script> & 'quoted' — accentué"#;
/// Lines in the passing scenario's transcript: more than JUnit keeps.
const LONG_TRANSCRIPT: usize = 1000;

fn t0() -> DateTime<Utc> {
    "2026-03-29T00:30:00Z".parse().unwrap()
}

fn line(at: DateTime<Utc>, dir: Direction, conn: &str, text: &str) -> Line {
    Line { at, dir, conn: conn.into(), text: text.into() }
}

fn step(title: &str, outcome: Outcome, checks: Vec<Check>, from: usize, to: usize) -> StepRecord {
    StepRecord {
        title: title.into(),
        kind: "smtp".into(),
        outcome,
        checks,
        error: None,
        error_category: None,
        transcript_from: from,
        transcript_to: to,
        duration_ms: 120,
        server_wait_ms: 80,
        harness_ms: 40,
        notes: vec![],
    }
}

fn scenario(id: &str, profile: &str, outcome: Outcome, requirements: &[&str]) -> ScenarioRecord {
    ScenarioRecord {
        id: id.into(),
        name: format!("{profile}::{id}"),
        title: format!("Scénario {id} : « titre » & <b>gras</b>"),
        title_en: Some(format!("Scenario {id} in English")),
        description: None,
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        profile: profile.into(),
        tags: vec!["tls".into()],
        confidence: None,
        nature: "exigence".into(),
        advisories: vec![],
        file: format!("scenarios/{id}.yaml"),
        file_sha256: "ab".repeat(32),
        outcome,
        reason: None,
        started: Some(t0()),
        duration_ms: 1500,
        server_wait_ms: 1200,
        harness_ms: 300,
        steps: vec![],
        transcript: vec![],
        proofs: vec![],
        messages: vec![],
        attempts: vec![],
    }
}

fn passing() -> ScenarioRecord {
    let mut s = scenario("TLS-STARTTLS-01", "general", Outcome::Pass, &["OPE/TLS.01"]);
    s.transcript = (0..LONG_TRANSCRIPT)
        .map(|i| line(t0(), if i % 2 == 0 { Direction::Sent } else { Direction::Received }, "smtp#1", &format!("250-line {i}")))
        .collect();
    s.steps = vec![step("EHLO", Outcome::Pass, vec![Check::new("reply code", "250", "250 mock", true)], 0, LONG_TRANSCRIPT)];
    s.proofs = vec![ProofRecord {
        id: "TLS-STARTTLS-01.01".into(),
        kind: "transcript".into(),
        title: "Log de la session SMTP".into(),
        file: Some("proofs/TLS-STARTTLS-01.01 session.txt".into()),
        step: Some(0),
        not_needed: None,
    }];
    s.messages = vec![MessageRecord {
        name: "m1".into(),
        direction: "sent".into(),
        message_id: Some("<m1@mssconf.test>".into()),
        subject: Some("Objet é <test>".into()),
        size: 1234,
        sha256: "cd".repeat(32),
        file: Some("messages/m1.eml".into()),
    }];
    s
}

fn failing() -> ScenarioRecord {
    let mut s = scenario("AUTH-XOAUTH2-02", "per-org", Outcome::Fail, &["OPE/AUTH.02", "OPE/UNKNOWN.09"]);
    s.reason = Some(format!("reply code: expected 535, got 235 {NASTY}"));
    s.confidence = Some("Exigence déduite (I) : « refus » non écrit.".into());
    s.transcript = vec![
        line(t0(), Direction::Sent, "smtp#1", "AUTH XOAUTH2 <redacted: user=a@b>"),
        line(t0(), Direction::Received, "smtp#1", &format!("235 2.7.0 {NASTY}")),
        line(t0(), Direction::Note, "smtp#1", "connection closed\u{1b}[0m\u{ffff}\u{0}"),
    ];
    s.steps = vec![
        step("EHLO", Outcome::Pass, vec![Check::new("reply code", "250", "250", true)], 0, 0),
        step(
            "AUTH with a revoked token",
            Outcome::Fail,
            vec![
                Check::new("reply code", "535", format!("235 {NASTY}"), false),
                Check::new("enhanced status", "5.7*", "2.7.0", false),
                Check::new("connection closed by server", "false", "false", true),
            ],
            0,
            3,
        ),
    ];
    s
}

fn erroring() -> ScenarioRecord {
    let mut s = scenario("SMTP-SUBMIT-03", "general", Outcome::Error, &["OPE/TLS.01"]);
    let mut st = step("connect", Outcome::Error, vec![], 0, 1);
    st.error = Some("connection refused by 127.0.0.1:1 <no listener>".into());
    st.error_category = Some("connect".into());
    s.steps = vec![st];
    s.transcript = vec![line(t0(), Direction::Note, "smtp#1", "connect 127.0.0.1:1: refused")];
    s.reason = Some("could not connect".into());
    s
}

fn skipped() -> ScenarioRecord {
    let mut s = scenario("APP-CERT-04", "app", Outcome::Skip, &["OPE/APP.04"]);
    s.reason = Some("the target claims no APP mailbox (claim `app` absent)".into());
    s.started = None;
    s.duration_ms = 0;
    s
}

fn interrupted() -> ScenarioRecord {
    let mut s = scenario("IMAP-IDLE-05", "general", Outcome::Interrupted, &["OPE/APP.04"]);
    s.steps = vec![step("IDLE", Outcome::Interrupted, vec![], 0, 1)];
    s.transcript = vec![line(t0() + Duration::seconds(2), Direction::Sent, "imap#1", "a1 IDLE")];
    s
}

fn record() -> RunRecord {
    RunRecord {
        schema_version: mssconf::record::SCHEMA_VERSION,
        run_id: "20260329T003000Z-a1b2".into(),
        tool: "mssconf".into(),
        tool_version: "0.1.0".into(),
        started: t0(),
        finished: Some(t0() + Duration::minutes(95)),
        target: TargetSummary {
            name: "Opérateur <Démo> & Cie".into(),
            operator: "Démo \"MSS\"".into(),
            service: "API LPS".into(),
            version: "2.1".into(),
            environment: "recette".into(),
            domain: "demo.mssante.test".into(),
            server_name: "mx.demo.mssante.test".into(),
            endpoints: vec!["smtp=127.0.0.1:2525 (starttls)".into(), "imaps=127.0.0.1:9993 (tls)".into()],
            claims: vec!["per".into(), "org".into()],
            embedded_mock: true,
        },
        selection: vec!["--profile general".into()],
        scenarios: vec![passing(), failing(), erroring(), skipped(), interrupted()],
        audit: None,
        timing: None,
    }
}

fn requirement(id: &str, not_checkable: Option<&str>) -> Requirement {
    Requirement {
        id: id.into(),
        text: format!("Énoncé de {id} avec <balise> & \"guillemets\""),
        official: vec!["ECO.1.0.1".into(), "SC.MSS/CONF.05".into()],
        source: "api-lps-spec A1".into(),
        profile: Profile::General,
        nature: Nature::Exigence,
        confidence: Confidence::V2,
        not_checkable: not_checkable.map(String::from),
    }
}

fn index() -> RequirementIndex {
    RequirementIndex {
        requirements: vec![
            requirement("OPE/TLS.01", None),
            requirement("OPE/AUTH.02", None),
            requirement("OPE/APP.04", None),
            requirement("OPE/LOG.07", Some("journaux internes <opérateur>")),
            requirement("OPE/NONE.08", None),
        ],
    }
}

/// Writes the three reports into a fresh folder (a missing sub-folder, to test its creation).
fn write(lang: Lang) -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reports").join("run");
    let files = write_all(&record(), &index(), &dir, lang).unwrap();
    (tmp, dir, files)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn writes_three_files_and_no_temp_file() {
    let (_tmp, dir, files) = write(Lang::Fr);
    let names: Vec<&str> = files.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["junit.xml", "report.json", "report.html"]);
    let mut listed: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    listed.sort();
    assert_eq!(listed, ["junit.xml", "report.html", "report.json"]);
    // Writing again over existing files works and still leaves nothing behind.
    write_all(&record(), &index(), &dir, Lang::En).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
}

#[test]
fn unwritable_folder_is_reported_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let err = write_all(&record(), &index(), &file, Lang::Fr).unwrap_err();
    assert!(matches!(&err, report::ReportError::Io { path, .. } if path == &file), "{err:?}");
    assert!(err.to_string().contains("not-a-folder"));
}

#[test]
fn write_atomic_leaves_only_the_final_file() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..20 {
        mssconf::util::atomic::write_atomic(&tmp.path().join("evidence.txt"), format!("version {i}").as_bytes()).unwrap();
    }
    let listed: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(listed, ["evidence.txt"]);
    assert_eq!(read(&tmp.path().join("evidence.txt")), "version 19");
}

#[test]
fn json_round_trips_and_summarises() {
    let (_tmp, dir, _) = write(Lang::Fr);
    let text = read(&dir.join("report.json"));
    let back: RunRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(record()).unwrap());

    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = &v["summary"];
    assert_eq!(s["all_passed"], false);
    assert_eq!(s["scenarios"], serde_json::json!({"total": 5, "pass": 1, "fail": 1, "error": 1, "skip": 1, "interrupted": 1, "flaky": 0}));
    let status = &s["requirement_status"];
    assert_eq!(status["OPE/TLS.01"], "error", "pass + error → error");
    assert_eq!(status["OPE/AUTH.02"], "fail");
    assert_eq!(status["OPE/APP.04"], "interrupted", "skip + interrupted → interrupted");
    assert_eq!(status["OPE/LOG.07"], "not_checkable");
    assert_eq!(status["OPE/NONE.08"], "not_run");
    assert_eq!(status["OPE/UNKNOWN.09"], "fail", "ids missing from the index are still reported");
    assert_eq!(s["requirements"]["fail"], 2);
    assert_eq!(s["requirements"]["pass"], 0);
    assert_eq!(s["requirements"]["not_run"], 1);
}

#[test]
fn html_is_escaped_complete_and_french_by_default() {
    let (_tmp, dir, _) = write(Lang::Fr);
    let html = read(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
    for s in record().scenarios {
        assert!(html.contains(&format!(">{}</", s.id)), "scenario {} missing", s.id);
    }
    for label in ["conforme", "non conforme", "erreur", "non exécuté", "interrompu"] {
        assert!(html.contains(&format!(">{label}</span>")), "verdict label {label:?} missing");
    }
    assert!(html.contains("non vérifiable de l'extérieur"));
    assert!(html.contains("journaux internes &lt;opérateur&gt;"), "not-checkable reason shown");
    assert!(html.contains("aucun scénario dans cette exécution"));
    assert!(html.contains("absente de l'index des exigences"));
    // Escaping: the hostile text appears only escaped, the transcript line included.
    assert!(!html.to_lowercase().contains("<script"), "unescaped <script in the HTML");
    assert!(html.contains("235 2.7.0 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 'quoted' — accentué"));
    assert!(html.contains("Opérateur &lt;Démo&gt; &amp; Cie"));
    assert!(html.contains("connection closed\\x1b[0m"), "control characters are made visible");
    // French titles, expected vs actual, proofs with a safe link, both time zones.
    assert!(html.contains("Scénario AUTH-XOAUTH2-02 : « titre » &amp; &lt;b&gt;gras&lt;/b&gt;"));
    assert!(html.contains("✘ ÉCHEC") && html.contains("✔ OK"));
    assert!(html.contains("href=\"proofs/TLS-STARTTLS-01.01%20session.txt\""));
    assert!(html.contains("2026-03-29 00:30:00 UTC") && html.contains("2026-03-29 01:30:00 (UTC+01:00)"));
    assert!(html.contains("2026-03-29 02:05:00 UTC") && html.contains("2026-03-29 04:05:00 (UTC+02:00)"), "DST switch");
    // Self-contained: no script, no external resource.
    for forbidden in ["<link", " src=", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(forbidden), "found {forbidden:?}");
    }
    for tag in ["section", "table", "pre", "dl", "ul", "div"] {
        let open = html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        assert_eq!(open, html.matches(&format!("</{tag}>")).count(), "unbalanced <{tag}>");
    }
}

#[test]
fn html_in_english_uses_english_titles() {
    let (_tmp, dir, _) = write(Lang::En);
    let html = read(&dir.join("report.html"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Scenario AUTH-XOAUTH2-02 in English"));
    assert!(html.contains(">non-conformant</span>") && html.contains(">not run</span>"));
    assert!(!html.contains("Scénario AUTH-XOAUTH2-02"));
}

#[test]
fn junit_counts_and_contents_match_the_record() {
    let (_tmp, dir, _) = write(Lang::Fr);
    let xml = read(&dir.join("junit.xml"));
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(report.name.as_ref().unwrap().as_str(), "mssconf");
    assert_eq!((report.tests, report.failures, report.errors, report.skipped), (5, 1, 2, 1));
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, ["general", "per-org", "app"]);
    let general = &report.test_suites[0];
    assert_eq!((general.tests, general.failures, general.errors, general.skipped), (3, 0, 2, 0));
    assert!(general.properties.iter().any(|p| p.name.as_str() == "operator" && p.value.as_str() == "Démo \"MSS\""));
    assert!(general.properties.iter().any(|p| p.name.as_str() == "run_id" && p.value.as_str() == "20260329T003000Z-a1b2"));
    assert_eq!(general.properties.iter().filter(|p| p.name.as_str() == "endpoint").count(), 2);

    let case = |id: &str| report.test_suites.iter().flat_map(|s| &s.test_cases).find(|c| c.name.as_str() == id).unwrap();
    let pass = case("TLS-STARTTLS-01");
    assert_eq!(pass.classname.as_ref().unwrap().as_str(), "mssconf.general");
    assert_eq!(pass.time, Some(std::time::Duration::from_millis(1500)));
    assert!(matches!(pass.status, TestCaseStatus::Success { .. }));
    let out = pass.system_out.as_ref().unwrap().as_str();
    assert!(out.contains("requirements: OPE/TLS.01"));
    assert!(out.contains("lines cut here"), "long transcript is capped");
    assert!(out.lines().count() < 420, "system-out has {} lines", out.lines().count());
    assert!(out.contains("250-line 0") && out.contains(&format!("250-line {}", LONG_TRANSCRIPT - 1)));

    let fail = case("AUTH-XOAUTH2-02");
    let TestCaseStatus::NonSuccess { kind, message, ty, description, .. } = &fail.status else { panic!("not a failure") };
    assert_eq!(*kind, NonSuccessKind::Failure);
    assert_eq!(ty.as_ref().unwrap().as_str(), "assertion");
    assert_eq!(message.as_ref().unwrap().as_str(), format!("reply code: expected 535, got 235 {NASTY}"));
    let text = description.as_ref().unwrap().as_str();
    assert!(text.contains("enhanced status: expected 5.7*, got 2.7.0"), "all failed checks listed: {text}");
    assert!(!text.contains("connection closed by server"), "passed checks are not listed");
    assert!(!text.contains("reason:"), "a reason repeating the first failed check is not repeated");
    let reqs: Vec<&str> = fail.properties.iter().filter(|p| p.name.as_str() == "requirement").map(|p| p.value.as_str()).collect();
    assert_eq!(reqs, ["OPE/AUTH.02", "OPE/UNKNOWN.09"]);
    assert!(fail.system_out.as_ref().unwrap().as_str().contains(&format!("smtp#1 S: 235 2.7.0 {NASTY}")));

    let error = case("SMTP-SUBMIT-03");
    let TestCaseStatus::NonSuccess { kind, message, ty, .. } = &error.status else { panic!("not an error") };
    assert_eq!((*kind, ty.as_ref().unwrap().as_str()), (NonSuccessKind::Error, "connect"));
    assert!(message.as_ref().unwrap().as_str().contains("connection refused"));

    let stopped = case("IMAP-IDLE-05");
    let TestCaseStatus::NonSuccess { kind, message, ty, .. } = &stopped.status else { panic!("not an error") };
    assert_eq!((*kind, ty.as_ref().unwrap().as_str()), (NonSuccessKind::Error, "interrupted"));
    assert!(message.as_ref().unwrap().as_str().contains("not run to the end"));

    let skip = case("APP-CERT-04");
    let TestCaseStatus::Skipped { message, .. } = &skip.status else { panic!("not skipped") };
    assert!(message.as_ref().unwrap().as_str().contains("claims no APP mailbox"));
}

#[test]
fn junit_is_well_formed_xml() {
    let (_tmp, dir, _) = write(Lang::Fr);
    let xml = read(&dir.join("junit.xml"));
    assert_well_formed(&xml).unwrap();
    // The checker itself must catch a broken document.
    assert!(assert_well_formed("<testsuites><testsuite></testsuites>").is_err());
    assert!(assert_well_formed("<a>x & y</a>").is_err());
}

/// Reads every event; quick-xml checks end-tag names, entities and attribute syntax.
fn assert_well_formed(xml: &str) -> Result<(), String> {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        match reader.read_event().map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))? {
            Event::Start(e) => {
                roots += usize::from(depth == 0);
                depth += 1;
                for a in e.attributes() {
                    a.map_err(|e| e.to_string())?.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                }
            }
            Event::End(_) => depth = depth.checked_sub(1).ok_or("unmatched end tag")?,
            Event::Empty(e) => {
                roots += usize::from(depth == 0);
                for a in e.attributes() {
                    a.map_err(|e| e.to_string())?.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                }
            }
            Event::Text(t) => {
                t.decode().map_err(|e| e.to_string())?;
                let raw = std::str::from_utf8(&t).map_err(|e| e.to_string())?;
                check_entities(raw)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (depth, roots) {
        (0, 1) => Ok(()),
        (d, r) => Err(format!("{d} unclosed element(s), {r} root element(s)")),
    }
}

/// Every `&` in text must start a known or numeric entity reference.
fn check_entities(raw: &str) -> Result<(), String> {
    for (i, _) in raw.match_indices('&') {
        let rest = &raw[i + 1..];
        let end = rest.find(';').ok_or_else(|| format!("bare & in text: {raw:?}"))?;
        let name = &rest[..end];
        let known = ["lt", "gt", "amp", "quot", "apos"].contains(&name)
            || name.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || name.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !known {
            return Err(format!("bad entity &{name}; in text"));
        }
    }
    Ok(())
}

#[test]
fn junit_validates_against_the_xsd() {
    if !xmllint_available() {
        return;
    }
    let (_tmp, dir, _) = write(Lang::Fr);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    let (ok, stderr) = xmllint(&schema, &dir.join("junit.xml"));
    assert!(ok, "junit.xml does not validate:\n{stderr}");

    // The schema is not vacuous: a test case without a name, or two outcomes, is refused.
    let bad = dir.join("bad.xml");
    for doc in [
        r#"<testsuites tests="1" failures="0" errors="0"><testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>"#,
        r#"<testsuites tests="1" failures="1" errors="1"><testsuite name="s" tests="1" failures="1" errors="1"><testcase name="a"><failure/><error/></testcase></testsuite></testsuites>"#,
        r#"<testsuites tests="x" failures="0" errors="0"/>"#,
        r#"<testsuite name="s" tests="0" failures="0" errors="0"/>"#,
    ] {
        std::fs::write(&bad, doc).unwrap();
        assert!(!xmllint(&schema, &bad).0, "schema accepted {doc}");
    }
}

fn xmllint(schema: &Path, doc: &Path) -> (bool, String) {
    let out = Command::new("xmllint").arg("--noout").arg("--schema").arg(schema).arg(doc).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Missing xmllint skips the test, unless CI demands the tool (`MSSCONF_REQUIRE_TOOLS=1`).
fn xmllint_available() -> bool {
    let found = Command::new("xmllint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("MSSCONF_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
        assert!(!required, "xmllint is required (MSSCONF_REQUIRE_TOOLS=1) but not installed (package libxml2-utils)");
        eprintln!("skipped: xmllint not installed (package libxml2-utils); set MSSCONF_REQUIRE_TOOLS=1 to make this fatal");
    }
    found
}

