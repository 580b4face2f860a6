//! Raw ClientHello probes on a target endpoint: legacy versions and out-of-list suites.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::net::TlsMode;
use crate::exec::observation::{ProbeResult, TlsObservation};
use crate::exec::probe::families::Enumeration;
use crate::exec::probe::{self, FamilyOffer, Offer, Preamble, ProbeOutcome};
use crate::exec::smtp::SmtpTimeouts;
use crate::exec::transcript::Transcript;
use crate::scenario::model::{TlsProbe, TlsSuiteProbe};

use super::open;
use super::state::ScenarioState;

/// The plaintext STARTTLS exchange of an SMTP or IMAP endpoint, so the next byte is TLS.
pub async fn preamble(env: &RunEnv, t: &Transcript, tcp: TcpStream, endpoint: &str) -> Result<TcpStream, ExecError> {
    let reply = Duration::from_millis(env.target.timeouts.reply);
    let result = if endpoint.starts_with("smtp") {
        let timeouts = SmtpTimeouts::new(Duration::from_millis(env.target.timeouts.connect), reply);
        probe::starttls_preamble_smtp(tcp, "mssconf.test", timeouts, t).await
    } else {
        probe::starttls_preamble_imap(tcp, reply, t).await
    };
    match result.map_err(probe_error)? {
        Preamble::Ready(tcp) => Ok(tcp),
        Preamble::Refused { step, reply } => Err(ExecError::protocol(format!("STARTTLS refused at {step}: {reply}"))),
    }
}

/// A probe error as the step's error; its cause stays the typed [`probe::ProbeError`].
pub(super) fn probe_error(e: probe::ProbeError) -> ExecError {
    ExecError::from(e)
}

/// Connects (paced), runs the STARTTLS preamble when needed, and sends one ClientHello; the whole
/// opening again while the server says "try later".
async fn one_offer(env: &RunEnv, t: &Transcript, endpoint: &str, offer: &Offer) -> Result<ProbeOutcome, ExecError> {
    let ep = env.target.endpoints.get(endpoint).ok_or_else(|| ExecError::harness(format!("no endpoint `{endpoint}`")))?;
    let attempt = || async {
        t.note(&format!("connect {ep}"));
        let (tcp, _slot) = open::tcp(env, ep, t).await?;
        let tcp = if ep.tls == TlsMode::Starttls { preamble(env, t, tcp, endpoint).await? } else { tcp };
        // `probe` writes the ClientHello and the answer to the transcript.
        probe::probe(tcp, offer, Duration::from_millis(env.target.timeouts.reply), t).await.map_err(probe_error)
    };
    open::retry_opening(env, t, attempt).await
}

pub async fn legacy_version(env: &RunEnv, st: &mut ScenarioState, endpoint: &str, p: &TlsProbe) -> Result<TlsObservation, ExecError> {
    let version = match p.version.as_str() {
        "3.0" => 0x0300,
        "1.0" => 0x0301,
        "1.1" => 0x0302,
        "1.2" => 0x0303,
        other => return Err(ExecError::harness(format!("unknown probe version {other}"))),
    };
    let mut offer = Offer::legacy(version, &env.target.server_name);
    if !p.suites.is_empty() {
        offer.cipher_suites = suite_codes(&p.suites)?;
    }
    let t = st.connection("probe");
    let outcome = one_offer(env, &t, endpoint, &offer).await?;
    let result = ProbeResult {
        offer: offer.describe(),
        answer: outcome.describe(),
        accepted: matches!(outcome, ProbeOutcome::ServerHello { .. }),
        accepted_suites: vec![],
    };
    Ok(TlsObservation { probes: vec![result], ..Default::default() })
}

/// One family probe per suite family outside the allow-list (see [`probe::families`]).
pub async fn suites(env: &RunEnv, st: &mut ScenarioState, endpoint: &str, p: &TlsSuiteProbe) -> Result<TlsObservation, ExecError> {
    let allow = &env.target.tls.cipher_allow_list;
    let offers = probe::plan_families(p.family_ids(), &p.candidates, allow).map_err(ExecError::harness)?;
    if offers.is_empty() {
        return Err(ExecError::harness("every suite asked for is in the allow-list: nothing to probe"));
    }
    let mut probes = Vec::with_capacity(offers.len());
    for family in &offers {
        probes.push(probe_family(env, st, endpoint, family).await?);
    }
    Ok(TlsObservation { probes, allow_list: allow.clone(), ..Default::default() })
}

/// Offers the whole family; while the server picks a suite, records it and offers the rest
/// again (see [`probe::families::Enumeration`]): one connection more than the server accepts
/// suites, at most.
async fn probe_family(env: &RunEnv, st: &mut ScenarioState, endpoint: &str, family: &FamilyOffer) -> Result<ProbeResult, ExecError> {
    let mut walk = Enumeration::new(family);
    let mut last = None;
    while let Some(suites) = walk.next_offer() {
        let t = st.connection("probe");
        t.note(&format!("suite family {} ({}): {} suite(s) offered", family.id, family.title, suites.len()));
        let outcome = one_offer(env, &t, endpoint, &Offer::tls12(suites, &env.target.server_name)).await?;
        walk.record(&outcome);
        if let (ProbeOutcome::ServerHello { cipher_suite, .. }, Some(_)) = (&outcome, walk.next_offer()) {
            t.note(&format!("accepted {}: offering the rest of the family again", probe::describe_suite(*cipher_suite)));
        }
        last = Some(t);
    }
    let accepted: Vec<String> = walk.accepted().iter().map(|s| probe::describe_suite(*s)).collect();
    let end = walk.end().unwrap_or("nothing offered");
    let answer = if accepted.is_empty() { format!("refused: {end}") } else { format!("accepted {}; then {end}", accepted.join(", ")) };
    if let (Some(t), false) = (last, accepted.is_empty()) {
        t.note(&format!("suite family {}: the server accepted {}", family.id, accepted.join(", ")));
    }
    Ok(ProbeResult { offer: format!("TLS 1.2 suite family {}", family.describe()), answer, accepted: !accepted.is_empty(), accepted_suites: accepted })
}

fn suite_codes(names: &[String]) -> Result<Vec<u16>, ExecError> {
    names
        .iter()
        .map(|n| probe::suite_code(n).ok_or_else(|| ExecError::harness(format!("unknown cipher suite name `{n}`"))))
        .collect()
}
