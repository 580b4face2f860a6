//! Safety against live operators: the dry run opens no socket; the harness contacts only
//! declared hosts, spaces and caps the messages it sends, refuses more than 25 test mailboxes,
//! and gates production runs. Each refusal must name what it refuses.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use mssconf_mock::{MockConfig, MockHandle, MockOperator};
use serde_json::Value;

use super::{mssconf, text};

const SAFETY_CASES: &str = "tests/cases/safety";

/// A loopback listener nothing should ever connect to.
struct Trap(TcpListener);

impl Trap {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        Trap(l)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    /// The kernel queues completed connections even after the client exited: none may be there.
    fn assert_untouched(&self) {
        match self.0.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("the harness connected to the trap from {peer}"),
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A profile whose every endpoint and URL is `127.0.0.1:port`; nothing in it is ever read but
/// the YAML (the trust anchor file exists for runs that build their environment).
fn profile(dir: &Path, port: u16, environment: &str, mailboxes: usize, rate: &str) -> PathBuf {
    // Read only by the production gate, which wants an IGC-Santé subject (issue #21).
    std::fs::write(dir.join("ca.pem"), igc_sante_named_ca()).unwrap();
    let mut y = format!(
        "name: listener-target\noperator: Op\nservice: Svc\nversion: \"1\"\nenvironment: {environment}\n\
         claims: [general, per-org, app]\ndomain: op.test\nserver_name: mx.op.test\nendpoints:\n"
    );
    for (name, tls) in [("smtp_starttls", "starttls"), ("smtp_implicit", "implicit"), ("imap_starttls", "starttls"), ("imap_implicit", "implicit")] {
        y += &format!("  {name}: {{ host: 127.0.0.1, port: {port}, tls: {tls} }}\n");
    }
    y += &format!("http:\n  token_issuer: http://127.0.0.1:{port}/psc/token\n  whitelist: http://127.0.0.1:{port}/redirect\n");
    y += "trust_anchors: [ca.pem]\naddresses: { outside_whitelist: x@outside.example, unknown_local: nobody@op.test }\nmailboxes:\n";
    y += "  per1: { address: per1@op.test, type: PER, token: issuer }\n";
    y += "  per2: { address: per2@op.test, type: PER, token: { env: MSSCONF_TEST_TOKEN_PER2 } }\n";
    for i in 3..=mailboxes {
        y += &format!("  extra{i}: {{ address: extra{i}@op.test, type: PER, token: issuer }}\n");
    }
    y += &format!("rate: {rate}\n");
    let path = dir.join(format!("{environment}-{mailboxes}.target.yaml"));
    std::fs::write(&path, y).unwrap();
    path
}

/// A self-signed CA whose subject names IGC-Santé (a stand-in: no real IGC-Santé material).
fn igc_sante_named_ca() -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "TEST AC RACINE IGC-SANTE ELEMENTAIRE (mssconf test)");
    ca.self_signed(&KeyPair::generate().unwrap()).unwrap().pem()
}

/// A production profile whose anchor is not IGC-Santé is refused before any connection, naming it.
#[test]
fn a_production_profile_with_anchors_outside_igc_sante_is_refused() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let prod = profile(dir.path(), trap.port(), "production", 2, SMALL_CAP);
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Some Public Web Root");
    std::fs::write(dir.path().join("ca.pem"), ca.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()).unwrap();
    let out = mssconf(&["run", "--dry-run", "--target", prod.to_str().unwrap(), "--production", "--scenarios", SAFETY_CASES]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("trust anchors must be IGC-Santé") && stderr.contains("Some Public Web Root"), "{stderr}");
    trap.assert_untouched();
}

const SMALL_CAP: &str = "{ messages_per_minute: 30, max_messages_per_run: 2 }";

#[test]
fn dry_run_prints_the_plan_and_opens_no_socket() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), trap.port(), "test", 2, SMALL_CAP);
    let out = mssconf(&["run", "--dry-run", "--target", p.to_str().unwrap(), "--scenarios", SAFETY_CASES]);
    let stdout = text(&out.stdout);
    trap.assert_untouched();
    assert_eq!(out.status.code(), Some(1), "the plan holds refusals\n{stdout}\n{}", text(&out.stderr));
    let port = trap.port();
    for needle in [
        "DRY RUN: nothing is contacted".to_string(),
        format!("connect smtp smtp_starttls = 127.0.0.1:{port} (STARTTLS, SNI mx.op.test)"),
        format!("authenticate XOAUTH2 as mailbox `per1` <per1@op.test> with its token (token issuer POST http://127.0.0.1:{port}/psc/token)"),
        "RCPT TO <per2@op.test>".into(),
        "send message `m1`: subject \"mssconf test message 1\", from per1@op.test to per2@op.test,".into(),
        "HTTP GET http://127.0.0.2:9/listeblanchemssante.xml".into(),
        "REFUSED: safety: host `127.0.0.2`".into(),
        "messages to send: 3; at 30/min they take at least 4 s".into(),
        "`rate.max_messages_per_run` is 2".into(),
        "plan: 5 scenario(s) to run, 0 skipped".into(),
    ] {
        assert!(stdout.contains(&needle), "missing `{needle}` in\n{stdout}");
    }
    assert!(!stdout.contains("OPE/PROD.01.91"), "production scenarios are not selected by default");
}

#[test]
fn dry_run_without_a_target_does_not_start_the_mock() {
    let out = mssconf(&["run", "--dry-run", "--scenarios", "tests/cases/ci"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("the embedded mock operator (not started: ports shown as 0)"), "{stdout}");
    assert!(stdout.contains("= 127.0.0.1:0 (STARTTLS"), "{stdout}");
    assert!(!text(&out.stderr).contains("embedded mock operator started"));
}

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("report.json")).expect("json")
}

fn scenario<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["scenarios"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id} not in report"))
}

#[test]
fn an_http_step_to_an_undeclared_host_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--scenarios", SAFETY_CASES, "--scenario", "OPE/DIR.01.91", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(3), "a refusal by the harness is an error, not a failure: exit 3\n{}", text(&out.stderr));
    let r = report(dir.path());
    let s = scenario(&r, "OPE/DIR.01.91");
    assert_eq!(s["outcome"], "error");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.contains("host `127.0.0.2`") && reason.contains("not declared by the target profile"), "{reason}");
    assert!(s["transcript"].as_array().unwrap().is_empty(), "nothing was sent: {s}");
}

/// Answers every HTTP request with a redirect to an undeclared host, counting requests.
fn redirecting_server(trap: &Trap) -> std::thread::JoinHandle<usize> {
    let l = trap.0.try_clone().unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut served = 0;
        while std::time::Instant::now() < deadline && served == 0 {
            match l.accept() {
                Ok((mut s, _)) => {
                    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    served += 1;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        served
    })
}

#[test]
fn a_redirect_to_an_undeclared_host_is_not_followed() {
    let trap = Trap::new();
    let server = redirecting_server(&trap);
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), trap.port(), "test", 2, SMALL_CAP);
    let reports = dir.path().join("reports");
    let out = mssconf(&[
        "run", "--target", p.to_str().unwrap(), "--scenarios", SAFETY_CASES, "--scenario", "OPE/DIR.01.92",
        "--report-dir", reports.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "a refusal by the harness is an error, not a failure: exit 3\n{}", text(&out.stderr));
    assert_eq!(server.join().unwrap(), 1, "the declared URL was requested once");
    let r = report(&reports);
    let s = scenario(&r, "OPE/DIR.01.92");
    assert_eq!(s["outcome"], "error");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.contains("redirect to host `127.0.0.2`"), "{reason}");
}

/// The embedded mock's own profile, edited, served by a mock of this test process.
struct MockTarget {
    rt: tokio::runtime::Runtime,
    mock: Option<MockHandle>,
    profile: PathBuf,
    _dir: tempfile::TempDir,
}

impl MockTarget {
    fn start(edits: &[(&str, &str)]) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let config = MockConfig::new(mssconf::runner::mock_state_dir().join("pki"));
        let mock = rt.block_on(MockOperator::start(config)).expect("mock starts");
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("mock.target.yaml");
        mock.write_target(&profile).unwrap();
        let mut yaml = std::fs::read_to_string(&profile).unwrap();
        for (from, to) in edits {
            assert!(yaml.contains(from), "`{from}` not in the mock profile");
            yaml = yaml.replace(from, to);
        }
        std::fs::write(&profile, yaml).unwrap();
        MockTarget { rt, mock: Some(mock), profile, _dir: dir }
    }

    fn delivered_to(&self, role: &str) -> usize {
        let mock = self.mock.as_ref().unwrap();
        let address = mock.context().accounts.by_role(role).unwrap().address.clone();
        mock.context().store.with_mailbox(&address, |m| m.folders["INBOX"].messages.len()).unwrap_or(0)
    }
}

impl Drop for MockTarget {
    fn drop(&mut self) {
        if let Some(m) = self.mock.take() {
            self.rt.block_on(m.shutdown());
        }
    }
}

/// `(scenario id, time of its DATA command)` in time order.
fn data_times(r: &Value) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
    let mut out: Vec<_> = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["transcript"].as_array().unwrap().iter().filter(|l| l["text"] == "DATA").map(move |l| {
                (s["id"].as_str().unwrap().to_string(), l["at"].as_str().unwrap().parse().unwrap())
            })
        })
        .collect();
    out.sort_by_key(|(_, t)| *t);
    out
}

#[test]
fn parallel_scenarios_share_one_submission_rate() {
    let target = MockTarget::start(&[("messages_per_minute: 600", "messages_per_minute: 120")]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--target", target.profile.to_str().unwrap(), "--scenarios", SAFETY_CASES, "--tag", "send", "--jobs", "3", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let times = data_times(&report(dir.path()));
    assert_eq!(times.len(), 3, "{times:?}");
    // 120/min: one DATA every 500 ms across the three parallel scenarios (50 ms of slack for
    // the time between the first slot and its DATA line).
    for (k, (id, at)) in times.iter().enumerate().skip(1) {
        let gap = (*at - times[0].1).num_milliseconds();
        assert!(gap >= 500 * k as i64 - 50, "DATA of {id} only {gap} ms after the first: {times:?}");
    }
    assert_eq!(target.delivered_to("per2"), 3);
}

#[test]
fn the_message_over_the_run_cap_is_refused_and_not_sent() {
    let target = MockTarget::start(&[("max_messages_per_run: 500", "max_messages_per_run: 2")]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mssconf(&["run", "--target", target.profile.to_str().unwrap(), "--scenarios", SAFETY_CASES, "--tag", "send", "--jobs", "1", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(3), "a refusal by the harness is an error, not a failure: exit 3\n{}", text(&out.stderr));
    let r = report(dir.path());
    let outcomes: Vec<&str> = r["scenarios"].as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["pass", "pass", "error"]);
    let reason = r["scenarios"][2]["reason"].as_str().unwrap();
    assert!(reason.contains("message cap reached") && reason.contains("allows 2 message(s) per run"), "{reason}");
    assert_eq!(data_times(&r).len(), 2, "the third DATA command was never sent");
    assert_eq!(target.delivered_to("per2"), 2);
}

#[test]
fn production_runs_are_gated_with_clear_refusals() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let prod = profile(dir.path(), trap.port(), "production", 2, SMALL_CAP);
    let test = profile(dir.path(), trap.port(), "test", 2, SMALL_CAP);
    let (prod, test) = (prod.to_str().unwrap(), test.to_str().unwrap());
    let refused = |args: &[&str], needle: &str| {
        let out = mssconf(&[&["run", "--scenarios", SAFETY_CASES, "--report-dir", "/nonexistent/never-written"], args].concat());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: missing `{needle}` in {stderr}");
    };
    refused(&["--target", prod], "target `listener-target` is marked `environment: production`: refusing to run without --production");
    refused(&["--target", test, "--production"], "--production needs a target profile marked `environment: production`; `listener-target` is a test environment");
    refused(&["--production"], "--production refuses the embedded mock operator");
    refused(
        &["--target", prod, "--production", "--tag", "send"],
        "in production only scenarios tagged `production` may run; the selection includes 3 other(s): OPE/SUB.01.91, OPE/SUB.01.92, OPE/SUB.01.93",
    );
    refused(&["--target", prod, "--production", "--scenario", "OPE/*"], "OPE/DIR.01.91");
    trap.assert_untouched();

    // Accepted: a production profile, --production, and the production-tagged scenarios only.
    let out = mssconf(&["run", "--dry-run", "--target", prod, "--production", "--scenarios", SAFETY_CASES]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("RUN  general::OPE/PROD.01.91") && stdout.contains("plan: 1 scenario(s) to run"), "{stdout}");
    trap.assert_untouched();
}

/// Every command that connects goes through the same production gate: without `--production`
/// a production profile is refused (exit 2) before any connection, naming the flag.
#[test]
fn every_command_that_connects_refuses_a_production_profile_without_the_flag() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let prod = profile(dir.path(), trap.port(), "production", 2, SMALL_CAP);
    let p = prod.to_str().unwrap();
    let out_dir = dir.path().join("out");
    let o = out_dir.to_str().unwrap();
    let needle = "target `listener-target` is marked `environment: production`";
    let commands: [&[&str]; 5] = [
        &["run", "--target", p, "--report-dir", o],
        &["audit", "--target", p, "--report-dir", o, "--auditor", "A. Uditeur"],
        &["proof", "--target", p, "--report-dir", o],
        &["load", "--target", p, "--duration", "1s"],
        &["bench", "--peer", p, "--out", o, "--only", "load"],
    ];
    for args in commands {
        let out = mssconf(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}{}", text(&out.stdout));
        assert!(stderr.contains(needle) && stderr.contains("--production"), "{args:?}: {stderr}");
    }
    let out = std::process::Command::new(super::front_ends::conformance_bin())
        .current_dir(super::root())
        .env("MSSCONF_TARGET", &prod)
        .env("MSSCONF_REPORT_DIR", &out_dir)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "conformance: {stderr}");
    assert!(stderr.contains(needle), "conformance: {stderr}");
    trap.assert_untouched();
    // Accepted with the flag (the selection then narrows to the production-tagged scenarios):
    // the audit plans them and asks before contacting anything; input ends at the first prompt.
    let out = mssconf(&["audit", "--production", "--target", p, "--scenarios", SAFETY_CASES, "--report-dir", o, "--auditor", "A. Uditeur"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("OPE/PROD.01.91") && stdout.contains("1 restant(s)"), "{stdout}{}", text(&out.stderr));
    trap.assert_untouched();
    // An audit runs the scenarios the auditor selects on a production platform (issue #18), not
    // only the production test; still nothing is contacted before the first go-ahead.
    let o2 = dir.path().join("out-selected");
    let out = mssconf(&["audit", "--production", "--target", p, "--scenarios", SAFETY_CASES, "--tag", "send", "--report-dir", o2.to_str().unwrap(), "--auditor", "A. Uditeur"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("OPE/SUB.01.91") && stdout.contains("3 restant(s)"), "{stdout}{}", text(&out.stderr));
    trap.assert_untouched();
}

/// `audit --resume` takes the target path from the state file: a profile changed since the
/// audit started is refused (exit 2) before anything is contacted; the unchanged one resumes.
#[test]
fn audit_resume_refuses_a_changed_target_profile() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), trap.port(), "test", 2, SMALL_CAP);
    let report = dir.path().join("audit");
    let r = report.to_str().unwrap();
    let out = mssconf(&["audit", "--target", p.to_str().unwrap(), "--scenarios", SAFETY_CASES, "--report-dir", r, "--auditor", "A. Uditeur"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = mssconf(&["audit", "--resume", r, "--auditor", "A. Uditeur"]);
    assert!(text(&out.stdout).contains("inchangé depuis le début"), "{}{}", text(&out.stdout), text(&out.stderr));
    let changed = std::fs::read_to_string(&p).unwrap().replace("host: 127.0.0.1", "host: 127.0.0.2");
    std::fs::write(&p, changed).unwrap();
    let out = mssconf(&["audit", "--resume", r, "--auditor", "A. Uditeur"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("changed since the audit started") && stderr.contains(p.to_str().unwrap()), "{stderr}");
    trap.assert_untouched();
}

#[test]
fn at_most_25_test_mailboxes_are_accepted() {
    let trap = Trap::new();
    let dir = tempfile::tempdir().unwrap();
    let ok = profile(dir.path(), trap.port(), "test", 25, SMALL_CAP);
    let out = mssconf(&["run", "--dry-run", "--target", ok.to_str().unwrap(), "--scenarios", "tests/cases/ci"]);
    assert_eq!(out.status.code(), Some(0), "25 mailboxes load: {}", text(&out.stderr));
    let too_many = profile(dir.path(), trap.port(), "test", 26, SMALL_CAP);
    let out = mssconf(&["run", "--target", too_many.to_str().unwrap(), "--scenarios", "tests/cases/ci"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("26 mailboxes declared") && stderr.contains("at most 25 test mailboxes"), "{stderr}");
    trap.assert_untouched();
}
