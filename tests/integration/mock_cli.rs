//! `mssconf mock` in the foreground: prints its endpoints, writes a target profile that
//! `mssconf run --target` accepts, stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{mssconf, root, text};

#[test]
fn foreground_mock_serves_a_run_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = dir.path().join("mock.yaml");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(["mock", "--write-target", profile.to_str().unwrap(), "--pki-dir", dir.path().join("pki").to_str().unwrap()])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mock starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    while !seen.contains("target profile written") {
        assert!(started.elapsed() < Duration::from_secs(20), "mock did not come up: {seen}");
        match lines.next() {
            Some(Ok(l)) => seen.push_str(&(l + "\n")),
            _ => panic!("mock exited early: {seen}"),
        }
    }
    assert!(seen.contains("SMTP submission (STARTTLS)") && seen.contains("127.0.0.1:"), "{seen}");
    let out = mssconf(&["run", "--target", profile.to_str().unwrap(), "--scenario", "OPE/TLS.01.*", "--report-dir", dir.path().join("r").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // SIGTERM: a clean stop, exit 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "mock exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "mock did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn list_faults_prints_one_per_line_name_first() {
    let out = mssconf(&["mock", "--list-faults"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    for f in mssconf_mock::faults::Fault::ALL {
        assert!(listing.lines().any(|l| l.starts_with(f.name()) && l.len() > f.name().len() + 5), "{} missing", f.name());
    }
}

#[test]
fn list_behaviours_prints_one_per_line_with_the_defaults_marked() {
    let out = mssconf(&["mock", "--list-behaviours"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    for b in mssconf_mock::behaviours::Behaviour::ALL {
        let line = listing.lines().find(|l| l.split_whitespace().next() == Some(b.name()));
        let line = line.unwrap_or_else(|| panic!("{} missing:\n{listing}", b.name()));
        assert_eq!(line.ends_with("(default)"), b.is_default(), "{line}");
    }
}

#[test]
fn behaviours_of_one_family_exclude_each_other_on_every_front_end() {
    let out = mssconf(&["mock", "--behaviour", "refuse-at-rcpt", "--behaviour", "refuse-at-data"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`refuse-at-rcpt` and `refuse-at-data` exclude each other"), "{}", text(&out.stderr));
    let out = mssconf(&["run", "--mock-behaviour", "refuse-at-nowhere", "--report-dir", "/tmp/mssconf-never"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--mock-behaviour: unknown behaviour `refuse-at-nowhere`"), "{}", text(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(["run", "--scenario", "OPE/TLS.01.01", "--report-dir", "/tmp/mssconf-never"])
        .current_dir(root())
        .env("MSSCONF_MOCK_BEHAVIOURS", "keep-open-after-auth-failure,close-after-auth-failure")
        .output()
        .expect("mssconf runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("MSSCONF_MOCK_BEHAVIOURS: behaviours"), "{}", text(&out.stderr));
    let out = mssconf(&["run", "--target", "targets/does-not-exist.yaml", "--mock-behaviour", "refuse-at-rcpt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("embedded mock only"), "{}", text(&out.stderr));
}
