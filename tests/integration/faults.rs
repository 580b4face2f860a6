//! The harness's own mutation score: for every fault the mock operator can be switched into,
//! the whole catalogue runs against it and exactly the scenarios of the broken requirement must
//! fail (robustness faults: end as `error`, never pass, never hang), everything else still pass,
//! and `mssconf run` must exit 1 (3 when the fault shows only as errors).

use std::collections::BTreeMap;

use mssconf::scenario::catalogue::{self, Sources};
use mssconf::scenario::model::{ImapAction, SmtpAction, SmtpStage, StepAction, TransactionOutcome};
use mssconf_mock::faults::Fault;

use super::{mssconf, root, text};

/// What a fault must do to the catalogue.
enum Expect {
    /// Scenarios citing one of these requirements fail, except the listed scenarios whose checked
    /// behaviour the fault leaves intact (each with the reason); all others pass.
    Fails(&'static [&'static str], &'static [(&'static str, &'static str)]),
    /// Scenarios citing these fail; scenarios that verify a server chain cannot pass either;
    /// scenarios that never verify one (raw probes, plaintext-only sessions) pass.
    FailsOthersBlocked(&'static [&'static str]),
    /// Scenarios using the protocol feature end as `error`; none fails; the others pass.
    Errors(fn(&Facts) -> bool),
    /// A préconisation broken: scenarios citing these pass with the préconisation reported as
    /// not followed (`advisories`), every other scenario passes without one, and the run exits 0.
    Advises(&'static [&'static str]),
    /// A connection limit (not a deviation): the mock's profile lifts the pacing, so some
    /// connections may be refused ("try later"); a scenario passes or ends as `error` naming the
    /// service as temporarily unavailable, never `fail` (`tests/integration/pacing.rs` shows the
    /// default pacing keeps every scenario clear of the limits).
    Refuses,
}

/// What a scenario does, for the robustness rows.
struct Facts {
    smtp: bool,
    imap: bool,
    data: bool,
    starttls_probe: bool,
    /// Performs a full TLS handshake with chain verification.
    verifies_chain: bool,
    /// Has a `tls` step (probe or handshake, any port).
    tls_step: bool,
    /// Authenticates (SMTP AUTH, IMAP LOGIN/AUTHENTICATE).
    auth: bool,
    /// Fetches over IMAP.
    fetch: bool,
    /// Its nature is `exigence`: a broken check fails it (else it is reported as advice).
    binding: bool,
}

/// `None` for the test-only faults (`flaky-once` fails whichever SMTP session comes first, so no
/// fixed set of scenarios can be expected; `tests/integration/ci.rs` covers it with retries).
fn matrix(f: Fault) -> Option<Expect> {
    use Expect::*;
    Some(match f {
        Fault::Tls10 => Fails(&["OPE/TLS.02"], &[]),
        Fault::WeakCipher => Fails(&["OPE/TLS.04"], &[]),
        Fault::AuthBeforeTls => Fails(&["OPE/TLS.06"], &[]),
        Fault::AcceptExpiredToken => Fails(
            &["OPE/AUTH.03"],
            &[
                ("OPE/AUTH.03.03", "a malformed token is still refused"),
                ("OPE/AUTH.03.05", "a revoked token is still refused"),
                ("OPE/AUTH.03.06", "a revoked token is still refused"),
            ],
        ),
        Fault::AcceptForeignToken => Fails(&["OPE/AUTH.04"], &[]),
        Fault::NoSenderCheck => Fails(&["OPE/SUB.02"], &[]),
        Fault::NoWhitelist => Fails(&["OPE/SUB.03"], &[]),
        Fault::StripXmssHeaders => Fails(&["OPE/MSG.01"], &[]),
        Fault::AlterAttachment => Fails(&["OPE/MSG.02"], &[]),
        Fault::NoDsn => Fails(&["OPE/DSN.01"], &[]),
        Fault::NoIdle => Advises(&["OPE/IMAP.02"]),
        Fault::ForeignCaCert => FailsOthersBlocked(&["OPE/TLS.05"]),
        Fault::ExpiredServerCert => FailsOthersBlocked(&["OPE/TLS.05"]),
        Fault::AcceptAnyClientCert => {
            Fails(&["OPE/APP.02"], &[("OPE/APP.02.01", "the fault still requires a certificate: none is still refused")])
        }
        Fault::DropMidData => Errors(|f| f.data),
        Fault::Slow => Errors(|f| f.smtp || f.imap || f.starttls_probe),
        Fault::Garbage => Errors(|f| f.smtp || f.imap || f.starttls_probe),
        Fault::Silent => Errors(|f| f.smtp || f.imap || f.tls_step),
        Fault::TlsHandshakeFail => Errors(|f| f.verifies_chain),
        Fault::OversizedLine => Errors(|f| f.smtp || f.imap || f.starttls_probe),
        Fault::EofMidLiteral => Errors(|f| f.fetch),
        Fault::TlsAlertMidSession => Errors(|f| f.auth),
        Fault::FlakyOnce => return None,
        Fault::StaticRsaSuite => Fails(&["OPE/TLS.04"], &[]),
        Fault::AcceptRevokedToken => Fails(
            &["OPE/AUTH.03"],
            &[
                ("OPE/AUTH.03.01", "an expired token is still refused"),
                ("OPE/AUTH.03.02", "an expired token is still refused"),
                ("OPE/AUTH.03.03", "a malformed token is still refused"),
                ("OPE/AUTH.03.04", "an expired token is still refused (and the session closed)"),
                ("OPE/AUTH.05.01", "OAUTHBEARER with an expired token is still refused"),
                ("OPE/AUTH.05.02", "OAUTHBEARER with an expired token is still refused"),
            ],
        ),
        Fault::ConnectionLimit | Fault::ConnectionRate => Refuses,
        // Key exchange (issue #21): simulated weak ServerKeyExchange.
        Fault::WeakCurve | Fault::SmallDh => Fails(&["OPE/TLS.08"], &[]),
        // Forged tokens (issue #21): each fault lets through some of the harness's forgeries.
        Fault::TokenAnySignature => Fails(&["OPE/AUTH.06"], &[("OPE/AUTH.06.03", "an unsigned (alg: none) token is still refused")]),
        Fault::TokenSignatureNotBound => Fails(
            &["OPE/AUTH.06"],
            &[
                ("OPE/AUTH.06.01", "a signature the issuer never produced is still refused"),
                ("OPE/AUTH.06.03", "an unsigned (alg: none) token is still refused"),
            ],
        ),
        Fault::TokenEmptySignature => Fails(
            &["OPE/AUTH.06"],
            &[
                ("OPE/AUTH.06.02", "the original signature is still verified against the altered claims"),
                ("OPE/AUTH.06.03", "`alg: none` is still refused before any signature is looked at"),
            ],
        ),
        Fault::TokenAlgNone => Fails(
            &["OPE/AUTH.06"],
            &[
                ("OPE/AUTH.06.01", "an HS256 token's signature is still verified"),
                ("OPE/AUTH.06.02", "an HS256 token's signature is still verified"),
            ],
        ),
        Fault::IgnoreCrl => Fails(
            &["OPE/APP.02"],
            &[
                ("OPE/APP.02.01", "no certificate is still refused"),
                ("OPE/APP.02.02", "an expired certificate is still refused"),
                ("OPE/APP.02.03", "a foreign-CA certificate is still refused"),
                ("OPE/APP.02.04", "another mailbox's certificate is still refused"),
            ],
        ),
        // Only OPE/SUB.03.01 offers another operator's address (the guard allows no other).
        Fault::RefuseOtherDomains => Fails(&["OPE/SUB.03"], &[]),
        Fault::AlterMdn => Fails(&["OPE/MDN.01"], &[]),
        Fault::RevokedServerCert => Fails(
            &["OPE/TLS.05"],
            &[
                ("OPE/TLS.05.01", "the chain still verifies: revocation is OPE/TLS.05.02's check"),
                ("OPE/TLS.07.01", "the chain still verifies: revocation is OPE/TLS.05.02's check"),
                ("OPE/TLS.07.02", "the chain still verifies: revocation is OPE/TLS.05.02's check"),
            ],
        ),
    })
}

/// The scenarios a fault's run is limited to (`None`: the whole catalogue). The robustness faults
/// added for issue #9 run a few scenarios they break and a few they leave intact, which keeps the
/// matrix fast; `tests/integration/robustness.rs` checks their categories and time bounds.
fn selection(f: Fault) -> Option<&'static [&'static str]> {
    const UNTOUCHED: &str = "OPE/DIR.02.01";
    Some(match f {
        Fault::Silent => &["OPE/TLS.01.01", "OPE/TLS.07.02", "OPE/TLS.02.02", UNTOUCHED],
        Fault::TlsHandshakeFail => &["OPE/AUTH.01.01", "OPE/AUTH.01.02", "OPE/TLS.06.01", UNTOUCHED],
        Fault::OversizedLine => &["OPE/TLS.01.01", "OPE/TLS.01.02", "OPE/TLS.04.01", UNTOUCHED],
        Fault::EofMidLiteral => &["OPE/IMAP.01.01", "OPE/AUTH.01.02", UNTOUCHED],
        Fault::TlsAlertMidSession => &["OPE/AUTH.01.01", "OPE/AUTH.01.02", "OPE/TLS.01.01", UNTOUCHED],
        // The scenarios opening the most connections, and one over HTTP only.
        Fault::ConnectionLimit | Fault::ConnectionRate => {
            &["OPE/TLS.04.01", "OPE/TLS.02.01", "OPE/TLS.02.02", "OPE/TLS.07.01", "OPE/AUTH.01.01", UNTOUCHED]
        }
        _ => return None,
    })
}

/// The faults the matrix runs: every fault but the test-only ones.
fn matrix_faults() -> Vec<Fault> {
    Fault::ALL.into_iter().filter(|f| matrix(*f).is_some()).collect()
}

fn facts() -> BTreeMap<String, (Vec<String>, Facts)> {
    let cat = catalogue::load(&Sources::under(root())).expect("catalogue loads");
    cat.scenarios
        .iter()
        .filter(|l| !l.scenario.tags.iter().any(|t| t == "production"))
        .map(|l| {
            let s = &l.scenario;
            let mut f = Facts {
                smtp: false,
                imap: false,
                data: false,
                starttls_probe: false,
                verifies_chain: false,
                tls_step: false,
                auth: false,
                fetch: false,
                binding: s.nature.binding(),
            };
            for step in &s.steps {
                match step.action() {
                    Some(StepAction::Smtp(x)) => {
                        f.smtp = true;
                        f.data |= x.actions.iter().any(|a| match a {
                            SmtpAction::Data(_) => true,
                            // On the conformant mock, a message goes out unless the
                            // attempt is refused before DATA.
                            SmtpAction::Transaction(t) => {
                                t.message.is_some()
                                    && (t.expect.outcome.value != TransactionOutcome::Refused || t.refusal_stages() == [SmtpStage::Data])
                            }
                            _ => false,
                        });
                        f.auth |= x.actions.iter().any(|a| matches!(a, SmtpAction::Auth(_)));
                        f.verifies_chain |= x.endpoint.value.ends_with("implicit")
                            || x.actions.iter().any(|a| matches!(a, SmtpAction::Starttls(_)));
                    }
                    Some(StepAction::Imap(x)) => {
                        f.imap = true;
                        f.auth |= x.actions.iter().any(|a| matches!(a, ImapAction::Login(_) | ImapAction::Authenticate(_)));
                        f.fetch |= x.actions.iter().any(|a| matches!(a, ImapAction::Fetch(_)));
                        f.verifies_chain |= x.endpoint.value.ends_with("implicit")
                            || x.actions.iter().any(|a| matches!(a, ImapAction::Starttls(_)));
                    }
                    // Probes and handshakes on STARTTLS ports speak SMTP/IMAP first.
                    Some(StepAction::Tls(t)) => {
                        f.tls_step = true;
                        f.starttls_probe |= t.endpoint.value.ends_with("starttls");
                        f.verifies_chain |= t.handshake.is_some();
                    }
                    _ => {}
                }
            }
            (s.id.value.clone(), (s.requirements.iter().map(|r| r.value.clone()).collect(), f))
        })
        .collect()
}

fn run_with(fault: Fault) -> (Option<i32>, BTreeMap<String, (String, String)>, String) {
    run_with_extra(fault, &[])
}

/// A scenario's outcome, `+advice` when it passed with observations or préconisations not
/// followed.
fn outcome_of(s: &serde_json::Value) -> String {
    let advised = s["advisories"].as_array().is_some_and(|a| !a.is_empty());
    let outcome = s["outcome"].as_str().unwrap_or("?");
    format!("{outcome}{}", if advised && outcome == "pass" { "+advice" } else { "" })
}

fn run_with_extra(fault: Fault, extra: &[&str]) -> (Option<i32>, BTreeMap<String, (String, String)>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut args = vec!["run", "--jobs", "4", "--mock-fault", fault.name(), "--report-dir", dir.path().to_str().unwrap()];
    for id in selection(fault).unwrap_or_default() {
        args.extend(["--scenario", id]);
    }
    args.extend(extra);
    let out = mssconf(&args);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap_or_default())
        .unwrap_or_else(|_| panic!("{fault}: no report.json\n{}", text(&out.stderr)));
    let outcomes = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| {
            let reason = s["reason"].as_str().unwrap_or_default().to_string();
            (s["id"].as_str().unwrap().to_string(), (outcome_of(s), reason))
        })
        .collect();
    (out.status.code(), outcomes, text(&out.stderr))
}

/// Problems with one fault's run, empty when the fault was detected exactly as expected.
fn check(
    fault: Fault,
    code: Option<i32>,
    outcomes: &BTreeMap<String, (String, String)>,
    facts: &BTreeMap<String, (Vec<String>, Facts)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(expect) = matrix(fault) else {
        return vec![format!("{fault} is test-only: it has no row in the matrix")];
    };
    // A limit fault may leave every scenario clear of it (then the run passes).
    let all_passed = outcomes.values().all(|(o, _)| o.starts_with("pass"));
    // « non conforme » exits 1; a fault seen only as errors (a dropped connection) exits 3.
    let any_fail = outcomes.values().any(|(o, _)| o == "fail");
    let exit = match expect {
        Expect::Advises(_) => 0,
        Expect::Refuses if all_passed => 0,
        _ if any_fail => 1,
        _ => 3,
    };
    if code != Some(exit) {
        problems.push(format!("exit code {code:?}, expected {exit}"));
    }
    let selected = |id: &str| selection(fault).is_none_or(|ids| ids.contains(&id));
    for (id, (reqs, f)) in facts.iter().filter(|(id, _)| selected(id)) {
        let (got, reason) = outcomes.get(id).map_or(("missing", ""), |(o, r)| (o.as_str(), r.as_str()));
        let cites = |list: &[&str]| reqs.iter().any(|r| list.contains(&r.as_str()));
        let want: &[&str] = match &expect {
            Expect::Fails(_, unaffected) if unaffected.iter().any(|(u, _)| u == id) => &["pass"],
            Expect::Fails(list, _) if cites(list) && !f.binding => &["pass+advice"],
            Expect::Fails(list, _) if cites(list) => &["fail"],
            Expect::Fails(..) => &["pass"],
            Expect::FailsOthersBlocked(list) if cites(list) => &["fail"],
            Expect::FailsOthersBlocked(_) if f.verifies_chain && !f.binding => &["pass+advice", "error"],
            Expect::FailsOthersBlocked(_) if f.verifies_chain => &["fail", "error"],
            Expect::FailsOthersBlocked(_) => &["pass"],
            Expect::Errors(touched) if touched(f) => &["error"],
            Expect::Errors(_) => &["pass"],
            Expect::Advises(list) if cites(list) => &["pass+advice"],
            Expect::Advises(_) => &["pass"],
            Expect::Refuses if got == "error" && !reason.contains("temporarily unavailable") => {
                problems.push(format!("{id}: error not named as a refusal: {reason}"));
                continue;
            }
            Expect::Refuses => &["pass", "error"],
        };
        if !want.contains(&got) {
            problems.push(format!("{id}: {got}, expected {}", want.join(" or ")));
        }
    }
    problems
}

#[test]
fn only_test_only_faults_are_left_out_of_the_matrix() {
    for f in Fault::ALL {
        assert_eq!(matrix(f).is_none(), f.is_test_only(), "{f}");
    }
}

#[test]
fn limited_runs_hold_broken_and_intact_scenarios() {
    let facts = facts();
    for f in Fault::ALL {
        let (Some(ids), Some(Expect::Errors(touched))) = (selection(f), matrix(f)) else { continue };
        assert!(f.is_robustness(), "{f}: only robustness faults run a selection");
        let fact = |id: &str| &facts.get(id).unwrap_or_else(|| panic!("{f}: no scenario {id}")).1;
        let touched: Vec<bool> = ids.iter().map(|id| touched(fact(id))).collect();
        assert!(touched.contains(&true) && touched.contains(&false), "{f}: the selection must hold both kinds: {ids:?}");
    }
}

#[test]
fn every_fault_is_detected_by_exactly_its_scenarios() {
    let facts = facts();
    let mut report = Vec::new();
    let mut detected = 0;
    let faults = matrix_faults();
    for &fault in &faults {
        let (code, outcomes, stderr) = run_with(fault);
        let problems = check(fault, code, &outcomes, &facts);
        if problems.is_empty() {
            detected += 1;
        } else {
            report.push(format!("{fault}:\n  {}\n--- stderr ---\n{stderr}", problems.join("\n  ")));
        }
    }
    eprintln!("mutation score: {detected}/{} faults detected exactly", faults.len());
    assert!(report.is_empty(), "faults not detected as expected:\n{}", report.join("\n"));
}
