//! Canary: the whole catalogue (plus the evidence tests' own scenarios: the production test and
//! token refusals) runs against the embedded mock; then every file written — reports, proofs,
//! `.eml`, and the bundle's entries — is scanned for every token the mock issued or the harness
//! made up, in clear, base64 at any alignment, and inside decoded base64 runs. The audit
//! screen, captured through a real terminal (tmux), is scanned the same way.

use base64::Engine;
use crate::evidence_support::{Scanner, all_files, everything, find_token, root, run_in_process, test_scenarios};
use mssconf::evidence::bundle::create_bundle;
use mssconf::evidence::bundle::keys;
use mssconf::runner::TargetChoice;

#[test]
fn the_scanner_finds_planted_tokens() {
    // Built at run time: no JWT-shaped literal is committed, even a fictitious one.
    let part = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!(
        "{}.{}.{}",
        part(r#"{"alg":"HS256"}"#),
        part(r#"{"sub":"899900000001","mailbox":"a@b"}"#),
        part("signature-of-the-canary")
    );
    let token = token.as_str();
    assert!(find_token(b"nothing here", token).is_none());
    assert!(find_token(format!("x {token} y").as_bytes(), token).is_some());
    let signature = token.rsplit('.').next().unwrap();
    assert!(find_token(format!("sig={signature}").as_bytes(), token).is_some(), "a secret part alone is found");
    for prefix in ["", "a", "ab", "user=dr@x\u{1}auth=Bearer "] {
        let payload = format!("{prefix}{token}\u{1}\u{1}");
        for engine in [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::URL_SAFE_NO_PAD] {
            let line = format!("AUTH XOAUTH2 {}", engine.encode(&payload));
            assert!(find_token(line.as_bytes(), token).is_some(), "prefix {prefix:?}");
        }
    }
}

#[test]
fn no_token_in_any_evidence_file() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("report");
    let run = run_in_process(
        vec![root().join("scenarios"), test_scenarios()],
        &everything(),
        TargetChoice::EmbeddedMock(Default::default()),
        &report_dir,
    );
    // The run must have used tokens, or the scan proves nothing.
    assert!(run.tokens.len() >= 4, "the mock issued too few tokens: {}", run.tokens.len());
    let ran: Vec<_> = run.record.scenarios.iter().filter(|s| s.started.is_some()).map(|s| s.id.as_str()).collect();
    assert!(ran.contains(&"OPE/PROD.01.01") && ran.contains(&"OPE/PROD.01.90") && ran.contains(&"OPE/AUTH.01.90"), "{ran:?}");
    let key_dir = dir.path().join("keys");
    let (key, _) = keys::generate(&key_dir).unwrap();
    create_bundle(&report_dir, None, Some(&keys::read_signing_key(&key).unwrap())).unwrap();
    let files = all_files(&report_dir);
    let kinds = ["junit.xml", "report.json", "report.html", ".log", ".png", ".eml", ".json", ".zip", ".zip!index.csv"];
    for kind in kinds {
        assert!(files.iter().any(|(n, _)| n.ends_with(kind)), "no {kind} file was written: nothing scanned");
    }
    let scanner = Scanner::new(&run.tokens);
    let leaks: Vec<String> =
        files.iter().filter_map(|(name, bytes)| scanner.scan(bytes).map(|how| format!("{name}: a token {how}"))).collect();
    assert!(leaks.is_empty(), "tokens leaked into evidence:\n{}", leaks.join("\n"));
    // The redaction marks are there instead.
    let json = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
    assert!(json.contains("<redacted token"), "AUTH lines carry a redaction mark");
}

/// The audit screen holds no token either, as the auditor's terminal shows it: `mssconf audit`
/// runs in tmux against a server that echoes the token in its refusal (so the step's failed
/// check quotes it), and the whole scroll-back from `tmux capture-pane` is scanned, as shown and
/// with every space and line break removed (mssconf wraps its own lines: a token cut by a wrap
/// would escape a plain scan).
#[test]
fn no_token_on_the_audit_screen_captured_through_tmux() {
    use crate::audit::{Pane, tmux_available};
    use crate::evidence_redaction::{SCENARIO, TOKEN, echo_server, pki, write_profile};
    if !tmux_available() {
        assert!(std::env::var("MSSCONF_REQUIRE_TOOLS").as_deref() != Ok("1"), "tmux is required (MSSCONF_REQUIRE_TOOLS=1)");
        eprintln!("skipped: tmux cannot be found (Debian package `tmux`, installed by .ci/run): the audit screen was not scanned");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pki();
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    server_rt.spawn(echo_server(listener, cert, key));
    let profile = write_profile(dir.path(), port, &ca);
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(scenarios.join("echo.yaml"), SCENARIO).unwrap();
    let command = format!(
        "cd {} && env -u MSSCONF_MOCK_FAULTS NO_COLOR=1 {} audit --auditor 'Alice Canari' --target {} --scenarios {} --report-dir {}",
        root().display(),
        env!("CARGO_BIN_EXE_mssconf"),
        profile.display(),
        scenarios.display(),
        dir.path().join("audit").display()
    );
    let pane = Pane::start("canary", &command);
    pane.answer("[Entrée] exécuter", 1, "");
    pane.answer("[Entrée] continuer", 1, "");
    let flat = pane.wait("[exit", 1);
    let screen = pane.text();
    server_rt.shutdown_background();
    // The server did echo, and the screen shows the refusal with the token masked.
    assert!(flat.contains("535 5.7.8 token <redacted> refused"), "the echoed refusal is not on screen: {screen}");
    let scanner = Scanner::new(&[TOKEN.to_string()]);
    let joined: String = screen.split_whitespace().collect();
    for (what, text) in [("as shown", &screen), ("with spaces and line breaks removed", &joined)] {
        assert!(scanner.scan(text.as_bytes()).is_none(), "a token is on the audit screen ({what}): {screen}");
    }
}
