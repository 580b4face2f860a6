//! `mssconf preflight` against the embedded mock: a healthy instance exits 0; each broken variant
//! (expired server certificate, wrong anchors, bad token, unreachable port, 26 mailboxes) names
//! its problem on a line to fix and exits 1; a production profile needs --production.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mssconf_mock::faults::Fault;

use super::{Mock, root, text};

/// Runs `mssconf preflight --lang en --target FILE`, with `env` set.
fn preflight(profile: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mssconf"));
    cmd.args(["preflight", "--lang", "en", "--target"]).arg(profile).args(extra).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("mssconf runs")
}

/// The mock's profile, edited by `edit`, written into `dir`.
fn profile(mock: &Mock, dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let path = dir.join("target.yaml");
    std::fs::write(&path, edit(mock.handle().target_profile_yaml())).unwrap();
    path
}

/// The table's lines to fix.
fn to_fix(out: &Output) -> Vec<String> {
    text(&out.stdout).lines().filter(|l| l.starts_with("TO FIX")).map(str::to_string).collect()
}

fn assert_fails_naming(out: &Output, subject: &str, needle: &str) {
    let fixes = to_fix(out);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(
        fixes.iter().any(|l| l.split_whitespace().nth(2) == Some(subject) && l.contains(needle)),
        "no line to fix for `{subject}` naming `{needle}`:\n{}",
        text(&out.stdout)
    );
}

#[test]
fn a_healthy_mock_is_ready_and_every_mailbox_logs_in() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&profile(&mock, dir.path(), |y| y), &[], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(to_fix(&out).is_empty() && stdout.contains("0 warning(s), 0 to fix — a run can start"), "{stdout}");
    for role in ["per1", "per2", "org1", "app1", "app2"] {
        for check in ["smtp-login", "imap-login"] {
            assert!(stdout.lines().any(|l| l.starts_with("OK") && l.contains(role) && l.contains(check)), "{role} {check}:\n{stdout}");
        }
    }
    for endpoint in ["smtp_starttls", "smtp_implicit", "imap_starttls", "imap_implicit"] {
        assert!(stdout.lines().any(|l| l.starts_with("OK") && l.contains(endpoint) && l.contains("chain verified")), "{endpoint}:\n{stdout}");
    }
    // French by default, JSON on request.
    let fr = Command::new(env!("CARGO_BIN_EXE_mssconf")).args(["doctor", "--json", "--target"]).arg(dir.path().join("target.yaml")).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fr.stdout).expect("json");
    assert_eq!((fr.status.code(), json["ready"].as_bool()), (Some(0), Some(true)));
}

#[test]
fn an_expired_server_certificate_is_to_fix() {
    let mock = Mock::start(&[Fault::ExpiredServerCert]);
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&profile(&mock, dir.path(), |y| y), &[], &[]);
    assert_fails_naming(&out, "smtp_starttls", "the server certificate has expired");
    assert_fails_naming(&out, "imap_implicit", "the server certificate has expired");
}

#[test]
fn anchors_that_do_not_lead_to_the_server_chain_are_to_fix() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let files = mock.handle().pki_files().clone();
    let path = profile(&mock, dir.path(), |y| y.replace(&files.ca.display().to_string(), &files.foreign_ca.display().to_string()));
    let out = preflight(&path, &[], &[]);
    assert_fails_naming(&out, "smtp_implicit", "leads to none of `trust_anchors`");
}

#[test]
fn a_bad_token_is_to_fix_and_never_printed() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = profile(&mock, dir.path(), |y| {
        y.lines()
            .map(|l| if l.starts_with("  per1:") { l.replace("token: issuer", "token: { env: MSSCONF_PREFLIGHT_TOKEN }") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let secret = "not-a-valid-token-4f1c9e";
    let out = preflight(&path, &[], &[("MSSCONF_PREFLIGHT_TOKEN", secret)]);
    assert_fails_naming(&out, "per1", "login is refused");
    assert!(!text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret), "the token leaked");
    let unset = preflight(&path, &[], &[]);
    assert_fails_naming(&unset, "per1", "MSSCONF_PREFLIGHT_TOKEN");
}

#[test]
fn an_unreachable_port_is_to_fix() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let port = mock.handle().endpoints().smtp_implicit.port();
    let path = profile(&mock, dir.path(), |y| y.replace(&format!("port: {port},"), &format!("port: {closed},")));
    let out = preflight(&path, &[], &[]);
    assert_fails_naming(&out, "smtp_implicit", "unreachable");
}

#[test]
fn twenty_six_mailboxes_are_to_fix() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = profile(&mock, dir.path(), |y| {
        let extra: String = (1..=19).map(|i| format!("  test{i}: {{ address: test{i}@operateur.mock.mssante.test, type: PER, token: issuer }}\n")).collect();
        y.replace("mailboxes:\n", &format!("mailboxes:\n{extra}"))
    });
    let out = preflight(&path, &[], &[]);
    assert_fails_naming(&out, "profile", "26 mailboxes declared");
}

#[test]
fn a_production_profile_needs_the_production_flag() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = profile(&mock, dir.path(), |y| y.replace("environment: test", "environment: production"));
    let out = preflight(&path, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("--production") && text(&out.stdout).is_empty(), "{}", text(&out.stderr));
    let allowed = preflight(&path, &["--production"], &[]);
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stdout));
}

#[test]
fn a_wrong_tls_mode_is_to_fix_with_the_port_and_mode_named() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let port = mock.handle().endpoints().smtp_starttls.port();
    let path = profile(&mock, dir.path(), |y| y.replace(&format!("port: {port}, tls: starttls"), &format!("port: {port}, tls: implicit")));
    let out = preflight(&path, &[], &[]);
    assert_fails_naming(&out, "smtp_starttls", "check the profile's port and `tls:`");
}
