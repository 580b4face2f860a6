//! `mssconf audit` driven through a real pseudo-terminal (tmux, 100×40): keystrokes in, screen
//! text out. Two sessions on the embedded mock: the first runs, repeats, notes, skips and quits;
//! the second resumes under another auditor and finishes. Then report.json must hold it all.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::root;

/// Longest wait for one expected screen text (a step on the mock takes well under a second).
const WAIT: Duration = Duration::from_secs(30);

/// A private tmux server (own socket) running one command in a 100×40 pane; killed on drop.
pub(crate) struct Pane {
    socket: String,
}

impl Pane {
    pub(crate) fn start(name: &str, command: &str) -> Pane {
        let pane = Pane { socket: format!("mssconf-test-{name}-{}", std::process::id()) };
        // The shell keeps the pane open after mssconf exits, so its exit status can be read.
        let wrapped = format!("{command}; echo \"[exit $?]\"; sleep 120");
        pane.tmux(&["new-session", "-d", "-s", "audit", "-x", "100", "-y", "40", "sh", "-c", &wrapped]);
        pane
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` then Enter (an empty `text` is Enter alone).
    pub(crate) fn type_line(&self, text: &str) {
        if !text.is_empty() {
            self.tmux(&["send-keys", "-t", "audit", "-l", text]);
        }
        self.tmux(&["send-keys", "-t", "audit", "Enter"]);
    }

    /// The whole scroll-back, wrapped lines joined, no-break spaces as spaces.
    pub(crate) fn text(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "audit"]).replace('\u{a0}', " ")
    }

    /// The same with colour escape sequences kept.
    fn text_with_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-J", "-S", "-", "-t", "audit"])
    }

    /// Waits until `needle` appears at least `times` times on screen; fails with the screen.
    /// Returns the screen flattened: mssconf wraps paragraphs itself, so every run of spaces
    /// and line breaks becomes one space (texts are then found across wrap points).
    pub(crate) fn wait(&self, needle: &str, times: usize) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.matches(needle).count() >= times {
                return flat;
            }
            if start.elapsed() > WAIT {
                panic!("waited {WAIT:?} for {needle:?} ×{times}; screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for `needle` (×`times`), then answers `answer`.
    pub(crate) fn answer(&self, needle: &str, times: usize, answer: &str) {
        self.wait(needle, times);
        self.type_line(answer);
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

pub(crate) fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

fn command(report: &Path, extra: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_mssconf");
    let root = root().display();
    format!("cd {root} && env -u MSSCONF_MOCK_FAULTS {extra} {bin} audit --scenarios {root}/tests/data/audit --report-dir {}", report.display())
}

const BEFORE: &str = "[Entrée] exécuter";
const AFTER: &str = "[Entrée] continuer";

#[test]
fn audit_session_runs_repeats_skips_notes_quits_resumes_and_reports() {
    if !tmux_available() {
        assert!(std::env::var("MSSCONF_REQUIRE_TOOLS").as_deref() != Ok("1"), "tmux is required (MSSCONF_REQUIRE_TOOLS=1)");
        eprintln!("skipped: tmux is not installed (Debian package `tmux`)");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("audit");
    first_session(&report);
    let state: Value = serde_json::from_slice(&std::fs::read(report.join("audit-state.json")).expect("state saved")).unwrap();
    assert_eq!(state["current"], "general::OPE/TLS.02.91", "the unfinished scenario is remembered");
    assert_eq!(state["record"]["audit"]["attestations"].as_array().unwrap().len(), 3);
    assert!(!report.join("report.json").exists(), "no report before the audit is finished");
    second_session(&report);
    check_report(&report);
}

/// Alice: step 1 run and repeated, a note, step 2 skipped, next scenario's step 1, quit.
fn first_session(report: &Path) {
    let pane = Pane::start("s1", &command(report, ""));
    pane.answer("Nom de l'auditeur ou de l'auditrice >", 1, "Alice Martin");
    // Every check waits for the last line printed first (the prompt), then reads above it.
    let screen = pane.wait(BEFORE, 1);
    assert!(screen.contains("Étape 1/2 : Soumission d'un message de per1 à per2"), "{screen}");
    assert!(screen.contains("1. Connexion SMTP à 127.0.0.1:") && screen.contains("en STARTTLS"), "{screen}");
    assert!(screen.contains("par le mécanisme XOAUTH2 avec un jeton d'accès valide (non affiché)"), "{screen}");
    assert!(screen.contains("objet « Audit mssconf : message de test fictif »"), "{screen}");
    pane.type_line("");
    let screen = pane.wait(AFTER, 1);
    assert!(screen.contains("Verdict de l'étape 1/2 : CONFORME"), "{screen}");
    assert!(screen.contains("smtp#1 C: EHLO mssconf.test") && screen.contains("smtp#1 S: 250"), "{screen}");
    assert!(screen.contains("<redacted token"), "the token is never shown: {screen}");
    assert!(screen.contains("OK code de réponse : attendu 235 / obtenu 235"), "{screen}");
    assert!(screen.contains("Message envoyé « m1 » : objet « Audit mssconf : message de test fictif »,"), "{screen}");
    assert!(screen.contains("Constat : observé à l'écran par Alice Martin, 20"), "{screen}");
    pane.type_line("r");
    pane.wait("Verdict de l'étape 1/2 (tentative 2) : CONFORME", 1);
    pane.answer(AFTER, 2, "n");
    pane.answer("Note (une ligne", 1, "Échange lisible, jeton masqué");
    pane.wait("Note enregistrée.", 1);
    pane.answer(AFTER, 3, "");
    pane.wait("Étape 2/2 : Relève du message dans la BAL de per2", 1);
    pane.answer(BEFORE, 2, "s");
    pane.answer("Motif de l'omission (obligatoire) >", 1, "Relève faite hors de cette visite");
    pane.wait("Étape 2/2 PASSÉE (non exécutée)", 1);
    pane.wait("Fin du scénario OPE/SUB.01.91 : NON EXÉCUTÉ", 1);
    let screen = pane.wait("Étape 1/3 : Poignée de main TLS", 1);
    assert!(screen.contains("Scénario 2/2 · OPE/TLS.02.91 · profil general"), "{screen}");
    pane.answer(BEFORE, 3, "");
    let screen = pane.wait(AFTER, 4);
    assert!(screen.contains("Verdict de l'étape 1/3 : CONFORME"), "{screen}");
    assert!(screen.contains("tls#1 * TLS TLSv1_"), "TLS facts are shown: {screen}");
    pane.type_line("");
    let screen = pane.wait(BEFORE, 4);
    assert!(screen.contains("Étape 2/3 : Sonde TLS 1.0"), "{screen}");
    assert!(screen.contains("ClientHello n'offrant que TLS 1.0. Attendu : connexion TLS refusée par le serveur."), "{screen}");
    pane.type_line("q");
    let screen = pane.wait("[exit 0]", 1);
    assert!(screen.contains(&format!("Pour reprendre : mssconf audit --resume {}", report.display())), "{screen}");
    // tmux re-emits SGR attributes one by one (`ESC[1m ESC[32m`).
    assert!(pane.text_with_escapes().contains("\x1b[32mCONFORME"), "colour on a terminal without NO_COLOR");
    assert_narrow(&pane.text());
}

/// Bruno resumes: the unfinished scenario restarts from step 1 and runs to the end.
fn second_session(report: &Path) {
    let pane = Pane::start("s2", &command(report, "NO_COLOR=1").replace(
        &format!("audit --scenarios {}/tests/data/audit --report-dir {}", root().display(), report.display()),
        &format!("audit --resume {}", report.display()),
    ));
    pane.answer("(Entrée : Alice Martin) >", 1, "Bruno Petit");
    let screen = pane.wait(BEFORE, 1);
    assert!(screen.contains("Reprise : le scénario general::OPE/TLS.02.91 était en cours ; il recommence à sa première étape."), "{screen}");
    assert!(screen.contains("Scénarios : 2 prévus, 1 restant(s)."), "{screen}");
    for (step, title) in [(1, "Poignée de main TLS"), (2, "Sonde TLS 1.0"), (3, "EHLO en clair")] {
        assert!(pane.wait(BEFORE, step).contains(&format!("Étape {step}/3 : {title}")));
        pane.type_line("");
        assert!(pane.wait(AFTER, step).contains(&format!("Verdict de l'étape {step}/3 : CONFORME")));
        pane.type_line("");
    }
    let screen = pane.wait("[exit 0]", 1);
    assert!(screen.contains("Fin du scénario OPE/TLS.02.91 : CONFORME"), "{screen}");
    assert!(screen.contains("Audit terminé : 2 scénario(s) : 1 conforme(s)"), "{screen}");
    assert!(screen.contains("Rapport écrit : ") && screen.contains("report.json"), "{screen}");
    assert!(!pane.text_with_escapes().contains('\x1b'), "NO_COLOR: no escape sequence at all");
    assert_narrow(&pane.text());
}

/// mssconf wraps its own lines: none relies on the terminal to wrap.
fn assert_narrow(screen: &str) {
    let wide: Vec<&str> = screen.lines().filter(|l| l.chars().count() > 100).collect();
    assert!(wide.is_empty(), "lines wider than 100 columns: {wide:#?}");
}

fn check_report(report: &Path) {
    let json: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).expect("report.json")).unwrap();
    let audit = &json["audit"];
    assert_eq!(audit["auditor"], "Alice Martin");
    assert_eq!(audit["complete"], true);
    let sessions = audit["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["ended"].is_string()));
    assert_eq!(sessions[1]["auditor"], "Bruno Petit");
    let att = audit["attestations"].as_array().unwrap();
    let seen: Vec<(&str, u64, u64, &str, bool)> = att
        .iter()
        .map(|a| {
            assert_eq!(a["statement"], "observé à l'écran");
            assert!(a["observed_at"].as_str().unwrap().ends_with('Z'), "UTC time: {a}");
            (a["scenario"].as_str().unwrap(), a["step"].as_u64().unwrap(), a["attempt"].as_u64().unwrap(), a["auditor"].as_str().unwrap(), a["superseded"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("general::OPE/SUB.01.91", 0, 1, "Alice Martin", false),
            ("general::OPE/SUB.01.91", 0, 2, "Alice Martin", false),
            ("general::OPE/TLS.02.91", 0, 1, "Alice Martin", true),
            ("general::OPE/TLS.02.91", 0, 1, "Bruno Petit", false),
            ("general::OPE/TLS.02.91", 1, 1, "Bruno Petit", false),
            ("general::OPE/TLS.02.91", 2, 1, "Bruno Petit", false),
        ]
    );
    // Each kept attestation points at the step record it attests.
    let scenarios = json["scenarios"].as_array().unwrap();
    for a in att.iter().filter(|a| a["superseded"] == false) {
        let s = scenarios.iter().find(|s| s["name"] == a["scenario"]).expect("scenario in report");
        let step = &s["steps"][a["record_step"].as_u64().unwrap() as usize];
        assert_eq!((&step["title"], &step["outcome"]), (&a["step_title"], &a["outcome"]), "{a}");
    }
    let skips = audit["skips"].as_array().unwrap();
    assert_eq!(skips.len(), 1);
    assert_eq!((&skips[0]["reason"], &skips[0]["step"], &skips[0]["auditor"]), (&"Relève faite hors de cette visite".into(), &1.into(), &"Alice Martin".into()));
    assert_eq!(audit["notes"][0]["text"], "Échange lisible, jeton masqué");
    assert_eq!(audit["notes"][0]["step"], 0);
    assert_eq!(audit["restarts"].as_array().unwrap().len(), 1);
    let outcomes: Vec<(&str, &str, usize)> = scenarios
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["outcome"].as_str().unwrap(), s["steps"].as_array().unwrap().len()))
        .collect();
    assert_eq!(outcomes, [("OPE/SUB.01.91", "skip", 3), ("OPE/TLS.02.91", "pass", 3)]);
    check_evidence(report, scenarios);
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert!(html.contains("Audit en direct") && html.contains("Relève faite hors de cette visite") && html.contains("Échange lisible"));
    // Step entries are numbered as scenario steps: Alice's repetition of step 1 is its attempt 2,
    // and the step she skipped after it is step 2 (not the third entry).
    assert!(html.contains("<strong>Étape 1 (tentative 2) — Soumission d'un message de per1 à per2</strong>"), "{html}");
    assert!(html.contains("<strong>Étape 2 — Relève du message dans la BAL de per2</strong>"));
}

/// Each scenario's evidence was written when it ended: the message sent in Alice's session
/// (the process is gone since) and the proofs of the scenario Bruno finished.
fn check_evidence(report: &Path, scenarios: &[Value]) {
    let sub = &scenarios[0]["messages"][0];
    let eml = std::fs::read(report.join(sub["file"].as_str().expect("the message has its file"))).expect("eml written");
    assert!(String::from_utf8_lossy(&eml).contains("Subject: Audit mssconf : message de test fictif"));
    let proofs: Vec<&str> = scenarios[1]["proofs"].as_array().unwrap().iter().map(|p| p["file"].as_str().expect("proof file")).collect();
    assert_eq!(proofs, ["proofs/OPE_TLS.02.91.01.log", "proofs/OPE_TLS.02.91.02.png"]);
    let log = std::fs::read_to_string(report.join(proofs[0])).expect("log proof");
    assert!(log.contains("1/3 — Poignée de main TLS sur la soumission SMTP en TLS implicite (conforme)"), "{log}");
    assert!(std::fs::read(report.join(proofs[1])).expect("card").starts_with(b"\x89PNG"));
}

/// Evidence that cannot be written (a file stands where `proofs/` goes) is said when the
/// scenario ends and at the end, the reports are still written, and the exit status is 2.
#[test]
fn evidence_that_cannot_be_written_is_said_and_fails_the_audit() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("audit");
    std::fs::create_dir_all(&report).unwrap();
    std::fs::write(report.join("proofs"), "not a folder").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .current_dir(root())
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env("NO_COLOR", "1")
        .args(["audit", "--scenarios", "tests/data/audit", "--report-dir"])
        .arg(&report)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("mssconf audit starts");
    // The auditor's name, then Enter at every prompt (more than the steps need: input ends
    // the audit only after the last scenario).
    let input = format!("Alice Martin\n{}", "\n".repeat(40));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().expect("mssconf audit ends");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "evidence not written: its own exit code\n{screen}");
    assert!(screen.contains("Preuves non écrites"), "{screen}");
    assert!(screen.contains("Preuves incomplètes pour\u{a0}: general::OPE/TLS.02.91 "), "{screen}");
    let json: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).expect("reports still written")).unwrap();
    assert_eq!(json["scenarios"][1]["outcome"], "pass");
    // The other scenario's messages were written.
    assert!(report.join("messages/OPE_SUB.01.91/m1.eml").is_file());
}
