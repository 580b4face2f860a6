//! No false « non conforme »: the mock operator's conformant behaviours (refusal at MAIL, RCPT or
//! the end of DATA; unknown recipient refused at RCPT or bounced; session closed or kept open
//! after a refused AUTH) are choices the sources leave to the operator. Against each of them, and
//! against combinations, the whole catalogue must end as pass or skip and `mssconf run` exit 0.
//! Each run must also show, on the wire, that the catalogue met the behaviour (a behaviour no
//! scenario meets would prove nothing).

use std::collections::BTreeMap;

use mssconf_mock::behaviours::Behaviour::{self, *};
use mssconf_mock::faults::Fault;

use super::{mssconf, text};

/// One catalogue run per line (about 4 s each). Combinations rather than single behaviours: the
/// families meet (a session kept open after a refused AUTH goes on to MAIL and RCPT, where the
/// refusal stage answers): each refusal stage runs with the session kept open, and each
/// non-default behaviour is in a run. The first is a stock Postfix: `smtpd_delay_reject = yes`, unknown users refused at RCPT,
/// session kept open after a refused AUTH.
const RUNS: &[&[Behaviour]] = &[
    &[RefuseAtRcpt, UnknownRecipientAtRcpt, KeepOpenAfterAuthFailure, FromHeaderUnchecked],
    &[RefuseAtData, KeepOpenAfterAuthFailure, FromHeaderUnchecked],
    &[RefuseAtDataCommand, UnknownRecipientAtRcpt, KeepOpenAfterAuthFailure],
    &[RefuseAtRcpt, CloseAfterAuthFailure],
    &[RefuseAtData, UnknownRecipientAtRcpt, CloseAfterAuthFailure],
];

/// One transcript line: (connection, direction, text).
type Line = (String, String, String);

/// What one scenario's record says: outcome, reason, whether it reported an observation or a
/// préconisation not followed, and its transcript.
struct Seen {
    outcome: String,
    reason: String,
    advisory: bool,
    requirements: Vec<String>,
    wire: Vec<Line>,
}

/// Whether one scenario shows `b` at work (on the wire: the mock's replies are its own words).
fn seen(b: Behaviour, scenario: &Seen) -> bool {
    let wire = &scenario.wire;
    let received = |needle: &str| wire.iter().any(|(_, d, t)| d == "received" && t.contains(needle));
    match b {
        RefuseAtRcpt => received("Relay access denied") || received("Sender address rejected"),
        RefuseAtData => refused_after(wire, "."),
        RefuseAtDataCommand => refused_after(wire, "DATA"),
        UnknownRecipientAtRcpt => wire.iter().any(|(_, d, t)| d == "received" && t.starts_with("550 5.1.1")),
        CloseAfterAuthFailure => after_refused_auth(wire, "AUTH PLAIN").is_some_and(|sent_after| !sent_after),
        KeepOpenAfterAuthFailure => after_refused_auth(wire, "AUTH XOAUTH2").is_some_and(|sent_after| sent_after),
        // The observation on the From: header is not followed, and a message was accepted.
        FromHeaderUnchecked => scenario.advisory && received("Ok: queued as"),
        RefuseAtMail | UnknownRecipientDsn | CloseAfterTokenFailure | FromHeaderChecked => true,
    }
}

/// Whether the mock's refusal at DATA came right after the client sent `line`.
fn refused_after(wire: &[Line], line: &str) -> bool {
    wire.iter().enumerate().any(|(i, (conn, d, t))| {
        let last_sent = wire[..i].iter().rev().find(|(c, d, _)| c == conn && d == "sent");
        d == "received" && t.contains("Transaction refused:") && last_sent.is_some_and(|(_, _, s)| s == line)
    })
}

/// After the first `auth` command answered 535 (on any connection): whether the client sent
/// anything more on that connection (`None`: no such refusal in this wire).
fn after_refused_auth(wire: &[Line], auth: &str) -> Option<bool> {
    let start = wire.iter().position(|(_, d, t)| d == "sent" && t.starts_with(auth))?;
    let conn = &wire[start].0;
    let rest = wire[start..].iter().filter(|(c, _, _)| c == conn);
    let mut rest = rest.skip_while(|(_, d, t)| !(d == "received" && t.starts_with("535")));
    rest.next()?;
    Some(rest.any(|(_, d, _)| d == "sent"))
}

struct RunResult {
    code: Option<i32>,
    scenarios: BTreeMap<String, Seen>,
    stderr: String,
}

fn run_with(behaviours: &[Behaviour], faults: &[Fault]) -> RunResult {
    let dir = tempfile::tempdir().expect("tmp");
    let mut args = vec!["run", "--jobs", "4", "--report-dir", dir.path().to_str().unwrap()];
    for b in behaviours {
        args.extend(["--mock-behaviour", b.name()]);
    }
    for f in faults {
        args.extend(["--mock-fault", f.name()]);
    }
    let out = mssconf(&args);
    let stderr = text(&out.stderr);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap_or_default())
        .unwrap_or_else(|_| panic!("{behaviours:?}: no report.json\n{stderr}"));
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let scenarios = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| {
            let wire = s["transcript"].as_array().into_iter().flatten();
            let wire = wire.map(|l| (str_of(&l["conn"]), str_of(&l["dir"]), str_of(&l["text"]))).collect();
            let advisory = s["advisories"].as_array().is_some_and(|a| !a.is_empty());
            let requirements = s["requirements"].as_array().into_iter().flatten().map(str_of).collect();
            let seen = Seen { outcome: str_of(&s["outcome"]), reason: str_of(&s["reason"]), advisory, requirements, wire };
            (str_of(&s["id"]), seen)
        })
        .collect();
    RunResult { code: out.status.code(), scenarios, stderr }
}

/// Problems with one run, empty when every scenario passed or was skipped and every behaviour
/// of the run was met.
fn check(behaviours: &[Behaviour], run: &RunResult) -> Vec<String> {
    let mut problems = Vec::new();
    if run.code != Some(0) {
        problems.push(format!("exit code {:?}, expected 0", run.code));
    }
    for (id, s) in &run.scenarios {
        if s.outcome != "pass" && s.outcome != "skip" {
            problems.push(format!("{id}: {} (false « non conforme »): {}", s.outcome, s.reason));
        }
    }
    for &b in behaviours {
        if !run.scenarios.values().any(|s| seen(b, s)) {
            problems.push(format!("{b}: no scenario met this behaviour on the wire"));
        }
    }
    problems
}

#[test]
fn every_behaviour_outside_the_defaults_is_run() {
    for b in Behaviour::ALL.into_iter().filter(|b| !b.is_default()) {
        assert!(RUNS.iter().any(|run| run.contains(&b)), "{b} has no run");
    }
    for stage in [RefuseAtRcpt, RefuseAtData, RefuseAtDataCommand] {
        assert!(RUNS.iter().any(|run| run.contains(&stage) && run.contains(&KeepOpenAfterAuthFailure)), "{stage}");
    }
    for run in RUNS {
        let families: std::collections::BTreeSet<_> = run.iter().map(|b| b.family()).collect();
        assert_eq!(families.len(), run.len(), "{run:?}: one behaviour per family");
    }
}

#[test]
fn wire_signatures_tell_the_behaviours_apart() {
    let line = |d: &str, t: &str| ("smtp#1".to_string(), d.to_string(), t.to_string());
    let scenario = |wire: Vec<Line>| Seen { outcome: "pass".into(), reason: String::new(), advisory: false, requirements: vec![], wire };
    let closed = scenario(vec![line("sent", "AUTH PLAIN <x>"), line("received", "535 5.7.8 no")]);
    let open = scenario(vec![
        line("sent", "AUTH XOAUTH2 <x>"),
        line("received", "334 e30="),
        line("sent", ""),
        line("received", "535 5.7.8 no"),
        line("sent", "MAIL FROM:<a@b>"),
    ]);
    assert!(seen(CloseAfterAuthFailure, &closed) && !seen(KeepOpenAfterAuthFailure, &closed));
    assert!(seen(KeepOpenAfterAuthFailure, &open) && !seen(CloseAfterAuthFailure, &open));
    assert!(!seen(RefuseAtRcpt, &open) && !seen(UnknownRecipientAtRcpt, &closed));
    let accepted = |advisory| Seen { advisory, ..scenario(vec![line("received", "250 2.0.0 Ok: queued as 1")]) };
    assert!(seen(FromHeaderUnchecked, &accepted(true)) && !seen(FromHeaderUnchecked, &accepted(false)));
    let refused = "554 5.7.1 Transaction refused: authentication required";
    let at_end = scenario(vec![line("sent", "DATA"), line("received", "354 go"), line("sent", "."), line("received", refused)]);
    let at_command = scenario(vec![line("sent", "DATA"), line("received", refused)]);
    assert!(seen(RefuseAtData, &at_end) && !seen(RefuseAtDataCommand, &at_end));
    assert!(seen(RefuseAtDataCommand, &at_command) && !seen(RefuseAtData, &at_command));
}

#[test]
fn the_catalogue_passes_against_every_conformant_behaviour() {
    let mut report = Vec::new();
    for behaviours in RUNS {
        let run = run_with(behaviours, &[]);
        let problems = check(behaviours, &run);
        if !problems.is_empty() {
            let names: Vec<_> = behaviours.iter().map(|b| b.name()).collect();
            report.push(format!("{}:\n  {}\n--- stderr ---\n{}", names.join(" + "), problems.join("\n  "), run.stderr));
        }
    }
    assert!(report.is_empty(), "conformant behaviours judged non-conformant:\n{}", report.join("\n"));
}

/// Faults whose detection goes through what the behaviours change (the stage of a refusal, the
/// session after a refused AUTH), with the requirement each breaks.
const FAULTS_UNDER_POSTFIX: [(Fault, &str); 4] = [
    (Fault::NoSenderCheck, "OPE/SUB.02"),
    (Fault::AcceptExpiredToken, "OPE/AUTH.03"),
    (Fault::AcceptForeignToken, "OPE/AUTH.04"),
    (Fault::AcceptAnyClientCert, "OPE/APP.02"),
];

/// The fault matrix (`faults.rs`) runs with the default behaviours; a deviation must be caught
/// whatever the operator's conformant choices. One run with the faults together against a stock
/// Postfix's behaviours: each fault's requirement has a failing scenario, and every failing
/// scenario cites one of those requirements.
#[test]
fn requirement_faults_are_still_caught_under_stock_postfix_behaviours() {
    let faults: Vec<Fault> = FAULTS_UNDER_POSTFIX.iter().map(|(f, _)| *f).collect();
    let run = run_with(RUNS[0], &faults);
    let cites = |s: &Seen, r: &str| s.requirements.iter().any(|x| x == r);
    let mut problems = Vec::new();
    if run.code != Some(1) {
        problems.push(format!("exit code {:?}, expected 1", run.code));
    }
    for (fault, requirement) in FAULTS_UNDER_POSTFIX {
        if !run.scenarios.values().any(|s| s.outcome == "fail" && cites(s, requirement)) {
            problems.push(format!("{fault}: no scenario of {requirement} failed"));
        }
    }
    for (id, s) in run.scenarios.iter().filter(|(_, s)| s.outcome != "pass" && s.outcome != "skip") {
        if !FAULTS_UNDER_POSTFIX.iter().any(|(_, r)| cites(s, r)) {
            problems.push(format!("{id}: {} although it cites none of the broken requirements: {}", s.outcome, s.reason));
        }
    }
    assert!(problems.is_empty(), "{}\n--- stderr ---\n{}", problems.join("\n"), run.stderr);
}
