//! Raw ClientHello probes on a target endpoint: legacy versions and out-of-list suites.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::net::TlsMode;
use crate::exec::observation::{ProbeResult, TlsObservation};
use crate::exec::probe::{self, Offer, Preamble, ProbeOutcome};
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

fn probe_error(e: probe::ProbeError) -> ExecError {
    use probe::ProbeError as P;
    match e {
        P::Timeout { .. } => ExecError::timeout(e.to_string()),
        P::Closed { .. } => ExecError::new(crate::exec::error::Category::Closed, e.to_string()),
        P::Harness(_) => ExecError::harness(e.to_string()),
        P::Unavailable { during, reply } => crate::exec::busy::unavailable(&format!("{reply}, during the {during}")),
        // The STARTTLS preamble's SMTP failure keeps its own category (timeout, closed…).
        P::Smtp(inner) => {
            let cat = super::step_smtp::smtp_error(inner);
            ExecError::new(cat.category, format!("SMTP STARTTLS preamble: {}", cat.message)).with_tls_alert(cat.tls_alert)
        }
        _ => ExecError::protocol(e.to_string()),
    }
}

/// Connects (paced), runs the STARTTLS preamble when needed, and sends one ClientHello; the whole
/// opening again while the server says "try later".
async fn one_probe(env: &RunEnv, t: &Transcript, endpoint: &str, offer: &Offer) -> Result<ProbeResult, ExecError> {
    let ep = env.target.endpoints.get(endpoint).ok_or_else(|| ExecError::harness(format!("no endpoint `{endpoint}`")))?;
    let attempt = || async {
        t.note(&format!("connect {ep}"));
        let (tcp, _slot) = open::tcp(env, ep, t).await?;
        let tcp = if ep.tls == TlsMode::Starttls { preamble(env, t, tcp, endpoint).await? } else { tcp };
        probe::probe(tcp, offer, Duration::from_millis(env.target.timeouts.reply), t).await.map_err(probe_error)
    };
    let outcome = open::retry_opening(env, t, attempt).await?;
    t.received(&outcome.describe());
    Ok(ProbeResult {
        offer: offer.describe(),
        answer: outcome.describe(),
        accepted: matches!(outcome, ProbeOutcome::ServerHello { .. }),
    })
}

pub async fn legacy_version(env: &RunEnv, st: &mut ScenarioState, endpoint: &str, p: &TlsProbe) -> Result<TlsObservation, ExecError> {
    let version = match p.version.as_str() {
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
    let result = one_probe(env, &t, endpoint, &offer).await?;
    Ok(TlsObservation { probes: vec![result], ..Default::default() })
}

pub async fn suites(env: &RunEnv, st: &mut ScenarioState, endpoint: &str, p: &TlsSuiteProbe) -> Result<TlsObservation, ExecError> {
    let allow = &env.target.tls.cipher_allow_list;
    let mut probes = Vec::new();
    for name in p.candidates.iter().filter(|c| !allow.iter().any(|a| a.eq_ignore_ascii_case(c))) {
        let code = suite_codes(std::slice::from_ref(name))?[0];
        let t = st.connection("probe");
        probes.push(one_probe(env, &t, endpoint, &Offer::tls12(&[code], &env.target.server_name)).await?);
    }
    if probes.is_empty() {
        return Err(ExecError::harness("every candidate suite is in the allow-list: nothing to probe"));
    }
    Ok(TlsObservation { probes, allow_list: allow.clone(), ..Default::default() })
}

fn suite_codes(names: &[String]) -> Result<Vec<u16>, ExecError> {
    names
        .iter()
        .map(|n| probe::suite_code(n).ok_or_else(|| ExecError::harness(format!("unknown cipher suite name `{n}`"))))
        .collect()
}
