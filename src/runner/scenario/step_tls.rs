//! `tls` steps: a full rustls handshake (facts recorded), or raw ClientHello probes.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::net::TlsMode;
use crate::exec::observation::TlsObservation;
use crate::exec::tls::Conn;
use crate::scenario::model::{TlsExpect, TlsStep};
use crate::verdict;

use super::{open, probe_run};
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &TlsStep) -> StepOutput {
    let mut out = StepOutput::default();
    let (obs, expect) = if let Some(h) = &step.handshake {
        (handshake(env, st, &step.endpoint.value, h.versions).await, h.expect.clone())
    } else if let Some(p) = &step.probe {
        (probe_run::legacy_version(env, st, &step.endpoint.value, p).await, p.expect.clone())
    } else if let Some(p) = &step.probe_suites_outside_allow_list {
        (probe_run::suites(env, st, &step.endpoint.value, p).await, p.expect.clone())
    } else {
        (Err(ExecError::harness("tls step without a check")), None)
    };
    match obs {
        Ok(obs) => {
            let e = expect.unwrap_or(TlsExpect { established: Some(true), ..Default::default() });
            out.judge(verdict::judge_tls(&e, &obs));
        }
        Err(e) => out.error = Some(e),
    }
    out
}

async fn handshake(
    env: &RunEnv,
    st: &mut ScenarioState,
    endpoint: &str,
    versions: Option<crate::scenario::model::TlsVersions>,
) -> Result<TlsObservation, ExecError> {
    let ep = env.target.endpoints.get(endpoint).ok_or_else(|| ExecError::harness(format!("no endpoint `{endpoint}`")))?;
    let settings = env.tls_settings(versions, None)?;
    let t = st.connection("tls");
    // The opening (connect, STARTTLS preamble, the server's first TLS bytes) is tried again while
    // the server says "try later"; the pacing place is held until the handshake's end.
    let attempt = || async {
        t.note(&format!("connect {ep} ({})", if ep.tls == TlsMode::Implicit { "implicit TLS" } else { "STARTTLS" }));
        let (tcp, slot) = open::tcp(env, ep, &t).await?;
        let tcp = match ep.tls {
            TlsMode::Implicit => tcp,
            TlsMode::Starttls => probe_run::preamble(env, &t, tcp, endpoint).await?,
        };
        match Conn::Plain(tcp).upgrade(&settings).await {
            Err((error, _)) if let Some(line) = error.plaintext_refusal() => {
                t.note(&format!("the server answered in plaintext: {line}"));
                Err(crate::exec::busy::unavailable(&format!("{line}, where a TLS record was expected")))
            }
            handshake => Ok((handshake, slot)),
        }
    };
    let (handshake, _slot) = open::retry_opening(env, &t, attempt).await?;
    let allow_list = env.target.tls.cipher_allow_list.clone();
    match handshake {
        Ok((_conn, facts)) => {
            t.note(&facts.summary());
            Ok(TlsObservation { facts: Some(facts), established: true, probes: vec![], allow_list })
        }
        Err((err, facts)) => {
            t.note(&format!("TLS handshake failed: {err}"));
            t.note(&facts.summary());
            Ok(TlsObservation { facts: Some(facts), established: false, probes: vec![], allow_list })
        }
    }
}
