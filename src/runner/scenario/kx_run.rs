//! `probe_key_exchange` (SC.MSS/CONF.03): DHE-only, weak curves only, then each strong group
//! alone, on one endpoint. Each offer is one connection (paced, STARTTLS preamble as needed).

use std::time::Duration;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::net::TlsMode;
use crate::exec::observation::{KxProbe, KxPurpose, TlsObservation};
use crate::exec::probe::key_exchange::{self, DHE_SUITES, ECDHE_SUITES, Kx, STRONG_GROUPS, WEAK_CURVES};
use crate::exec::probe::{self, Offer, ProbeOutcome};
use crate::exec::transcript::Transcript;

use super::state::ScenarioState;
use super::{open, probe_run};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, endpoint: &str) -> Result<TlsObservation, ExecError> {
    let name = &env.target.server_name;
    let mut offers = vec![
        (KxPurpose::Dhe, Offer::tls12(DHE_SUITES, name)),
        (KxPurpose::WeakCurves, Offer { groups: Some(WEAK_CURVES.to_vec()), ..Offer::tls12(ECDHE_SUITES, name) }),
    ];
    for g in STRONG_GROUPS {
        offers.push((KxPurpose::Group(*g), Offer { groups: Some(vec![*g]), ..Offer::tls12(ECDHE_SUITES, name) }));
    }
    let mut key_exchange = Vec::with_capacity(offers.len());
    for (purpose, offer) in offers {
        let t = st.connection("probe");
        t.note(&format!("key-exchange probe: {}", describe(purpose)));
        let (outcome, kx) = one_offer(env, &t, endpoint, &offer).await?;
        let suite = match outcome {
            ProbeOutcome::ServerHello { cipher_suite, .. } => Some(probe::describe_suite(cipher_suite)),
            _ => None,
        };
        key_exchange.push(KxProbe { purpose, offer: offer.describe(), answer: outcome.describe(), accepted: suite.is_some(), suite, kx });
    }
    Ok(TlsObservation { key_exchange, ..Default::default() })
}

pub fn describe(purpose: KxPurpose) -> String {
    match purpose {
        KxPurpose::Dhe => "DHE suites only (the DH group size)".into(),
        KxPurpose::WeakCurves => "ECDHE suites with curves under 256 bits only".into(),
        KxPurpose::Group(g) => format!("ECDHE suites with group {} only", key_exchange::describe_group(g)),
    }
}

async fn one_offer(env: &RunEnv, t: &Transcript, endpoint: &str, offer: &Offer) -> Result<(ProbeOutcome, Kx), ExecError> {
    let ep = env.target.endpoints.get(endpoint).ok_or_else(|| ExecError::harness(format!("no endpoint `{endpoint}`")))?;
    let attempt = || async {
        t.note(&format!("connect {ep}"));
        let (tcp, _slot) = open::tcp(env, ep, t).await?;
        let tcp = if ep.tls == TlsMode::Starttls { probe_run::preamble(env, t, tcp, endpoint).await? } else { tcp };
        key_exchange::probe(tcp, offer, Duration::from_millis(env.target.timeouts.reply), t).await.map_err(probe_run::probe_error)
    };
    open::retry_opening(env, t, attempt).await
}
