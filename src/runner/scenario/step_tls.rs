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
    if let Some(rule) = &step.probe_key_exchange {
        match super::kx_run::run(env, st, &step.endpoint.value).await {
            Ok(obs) => {
                out.judge(verdict::key_exchange::judge(rule, &obs.key_exchange));
            }
            Err(e) => out.error = Some(e),
        }
        return out;
    }
    let (obs, expect) = if let Some(h) = &step.handshake {
        let revocation = h.expect.as_ref().is_some_and(|e| e.not_revoked.is_some());
        (handshake(env, st, &step.endpoint.value, h.versions, revocation).await, h.expect.clone())
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
            out.judge_at(verdict::judge_tls(&e, &obs), st.expect_at(crate::scenario::spans::Expectation::Step));
            out.not_applicable = verdict::revocation_unknown(&e, &obs);
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
    revocation: bool,
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
                Err(ExecError::unavailable(&format!("{line}, where a TLS record was expected")))
            }
            handshake => Ok((handshake, slot)),
        }
    };
    let (handshake, _slot) = open::retry_opening(env, &t, attempt).await?;
    let allow_list = env.target.tls.cipher_allow_list.clone();
    match handshake {
        Ok((conn, facts)) => {
            t.note(&facts.summary());
            let revocation = match (&conn, revocation) {
                (Conn::Tls(s), true) => {
                    let chain: Vec<_> = s.get_ref().1.peer_certificates().unwrap_or_default().iter().map(|c| c.clone().into_owned()).collect();
                    let r = crate::exec::revocation::check(env, &t, &chain).await;
                    r.sources.iter().for_each(|s| t.note(&format!("revocation: {s}")));
                    Some(r)
                }
                _ => None,
            };
            Ok(TlsObservation { facts: Some(facts), established: true, allow_list, revocation, ..Default::default() })
        }
        Err((err, facts)) => {
            t.note(&format!("TLS handshake failed: {err}"));
            t.note(&facts.summary());
            Ok(TlsObservation { facts: Some(facts), established: false, allow_list, ..Default::default() })
        }
    }
}
