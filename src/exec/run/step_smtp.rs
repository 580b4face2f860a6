//! `smtp` steps: one SMTP connection, actions in order, each judged as soon as it is observed.

use std::time::Duration;

use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::observation::SmtpObservation;
use crate::exec::smtp::{Capabilities, Reply, SmtpError, SmtpSession, SmtpTimeouts};
use crate::exec::tls::{TlsError, TlsFacts, TlsSettings, peer_alert};
use crate::fixtures::guard::{Guard, GuardRefusal};
use crate::scenario::model::*;
use crate::verdict;

use super::auth::{Login, Protocol, login};
use super::expect_vars;
use super::compose::compose;
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &SmtpStep) -> StepOutput {
    let mut out = StepOutput::default();
    if let Err(e) = drive(env, st, step, &mut out).await {
        out.error = Some(e);
    }
    out
}

pub fn smtp_error(e: SmtpError) -> ExecError {
    let alert = server_alert(&e);
    smtp_category(e).with_tls_alert(alert)
}

/// The fatal TLS alert the server ended the exchange with, if any.
fn server_alert(e: &SmtpError) -> Option<String> {
    match e {
        SmtpError::Tls { error: TlsError::Alert(alert), .. } => Some(alert.clone()),
        SmtpError::Io { source, .. } => peer_alert(source),
        _ => None,
    }
}

fn smtp_category(e: SmtpError) -> ExecError {
    let category = match &e {
        SmtpError::Connect(n) => return ExecError::from(n),
        SmtpError::Timeout { .. } => Category::Timeout,
        SmtpError::Closed { .. } => Category::Closed,
        SmtpError::Tls { .. } => Category::Tls,
        SmtpError::Misuse(_) => Category::Harness,
        _ => Category::Protocol,
    };
    ExecError::new(category, e.to_string())
}

fn reply_obs(r: &Reply) -> SmtpObservation {
    SmtpObservation { code: r.code, enhanced: r.enhanced.clone(), text: r.text(), ..Default::default() }
}

fn caps_list(c: &Capabilities) -> Vec<String> {
    c.extensions
        .iter()
        .map(|e| if e.params.is_empty() { e.keyword.clone() } else { format!("{} {}", e.keyword, e.params.join(" ")) })
        .collect()
}

/// A failed handshake is an observation (judged) rather than an error when the step expects it
/// to fail, or expects a verified chain and verification is what failed.
fn tls_failure_observed(e: &Option<SmtpExpect>, facts: Option<&TlsFacts>) -> bool {
    let (Some(t), Some(facts)) = (e.as_ref().and_then(|e| e.tls.as_ref()), facts) else { return false };
    let chain_refused = facts.verification.as_deref().is_some_and(|v| v != "ok");
    t.established == Some(false) || t.chain_verified == Some(false) || (t.chain_verified == Some(true) && chain_refused)
}

async fn drive(env: &RunEnv, st: &mut ScenarioState, step: &SmtpStep, out: &mut StepOutput) -> Result<(), ExecError> {
    let ep = env.target.endpoints.get(&step.endpoint.value).ok_or_else(|| ExecError::harness("unknown endpoint"))?.clone();
    let tls = env.tls_settings(step.tls_versions, step.client_cert.as_ref())?;
    let timeouts = SmtpTimeouts::new(Duration::from_millis(env.target.timeouts.connect), Duration::from_millis(env.target.timeouts.reply));
    let t = st.connection("smtp");
    let (mut s, greeting) = match SmtpSession::connect(&ep, &tls, timeouts, t).await {
        Ok(ok) => ok,
        Err(e) if tls_failure_observed(&step.greeting, e.tls_facts()) => {
            let obs = SmtpObservation { tls: e.tls_facts().cloned(), ..Default::default() };
            out.judge(verdict::judge_smtp(step.greeting.as_ref().expect("checked"), &obs));
            return Ok(());
        }
        Err(e) => return out.tls_refusal(step.accept_tls_refusal, smtp_error(e)),
    };
    if let Some(e) = &step.greeting {
        let mut obs = reply_obs(&greeting);
        obs.tls = s.tls_facts().cloned();
        if out.judge(verdict::judge_smtp(&expect_vars::smtp(st, e.clone())?, &obs)) {
            return Ok(());
        }
    }
    for action in &step.actions {
        if let SmtpAction::Auth(a) = action
            && a.only_if_offered
            && !s.capabilities().is_some_and(|c| c.supports_auth(a.mechanism.name()))
        {
            let offered = s.capabilities().map(|c| c.auth_mechanisms().join(" ")).unwrap_or_default();
            let reason = format!("SMTP does not offer {} (AUTH: {offered}): not applicable", a.mechanism.name());
            s.transcript().note(&reason);
            out.not_applicable = Some(reason);
            return Ok(());
        }
        let (obs, expect, stop) = match act(env, st, &mut s, &tls, action).await {
            Ok(r) => r,
            Err(e) => return out.tls_refusal(step.accept_tls_refusal, e),
        };
        if let Some(e) = expect
            && out.judge(verdict::judge_smtp(&expect_vars::smtp(st, e)?, &obs))
        {
            return Ok(());
        }
        if stop {
            break;
        }
    }
    Ok(())
}

type Acted = (SmtpObservation, Option<SmtpExpect>, bool);

/// The send guard (fictitious data only, declared recipients only) for this run's target.
fn guard(env: &RunEnv) -> Result<Guard, ExecError> {
    Guard::new(&env.fixtures, &env.target).map_err(|e| ExecError::harness(e.to_string()))
}

/// A guard refusal is the harness's own stop: the scenario ends as `error`, nothing was sent.
fn refused(r: GuardRefusal) -> ExecError {
    ExecError::harness(r.to_string())
}

fn expected_code(e: &Option<SmtpExpect>) -> Option<&str> {
    e.as_ref().and_then(|e| e.code.as_ref()).map(|c| c.value.as_str())
}

/// `tls` holds the step's settings (versions, client certificate): STARTTLS uses them too.
async fn act(env: &RunEnv, st: &mut ScenarioState, s: &mut SmtpSession, tls: &TlsSettings, action: &SmtpAction) -> Result<Acted, ExecError> {
    Ok(match action {
        SmtpAction::Ehlo(a) => {
            let (reply, caps) = s.ehlo(a.name.as_deref().unwrap_or("mssconf.test")).await.map_err(smtp_error)?;
            let mut obs = reply_obs(&reply);
            obs.capabilities = caps_list(&caps);
            (obs, a.expect.clone(), false)
        }
        SmtpAction::Starttls(a) => {
            match s.starttls(tls).await {
                Ok((reply, facts)) => {
                    let mut obs = reply_obs(&reply);
                    obs.tls = facts;
                    (obs, a.expect.clone(), false)
                }
                Err(e) if tls_failure_observed(&a.expect, e.tls_facts()) => {
                    let obs = SmtpObservation { code: 220, tls: e.tls_facts().cloned(), ..Default::default() };
                    (obs, a.expect.clone(), true)
                }
                Err(e) => return Err(smtp_error(e)),
            }
        }
        SmtpAction::Auth(a) => match login(env, Protocol::Smtp, &a.mailbox.value, a.mechanism, &a.credential).await? {
            Login::CertificateOnly => {
                s.transcript().note("the target's applicative form is certificate-only: no AUTH sent");
                (SmtpObservation::default(), None, false)
            }
            Login::Sasl { mechanism, credentials, note } => {
                if let Some(n) = note {
                    s.transcript().note(&n);
                }
                let ex = s.auth(mechanism, &credentials, a.initial_response).await.map_err(smtp_error)?;
                let mut obs = ex.final_reply().map(reply_obs).unwrap_or_default();
                obs.challenges = ex.challenges().map(|c| c.decoded_challenge.clone().unwrap_or_else(|| c.reply.text())).collect();
                obs.closed = ex.closed_by_peer;
                (obs, a.expect.clone(), ex.closed_by_peer)
            }
        },
        SmtpAction::MailFrom(a) => {
            let addr = st.render(&a.address)?;
            let params = a.params.iter().map(|p| st.render(p)).collect::<Result<Vec<_>, _>>()?;
            (reply_obs(&s.mail_from(&addr, &params).await.map_err(smtp_error)?), a.expect.clone(), false)
        }
        SmtpAction::RcptTo(a) => {
            let addr = st.render(&a.address)?;
            let params = a.params.iter().map(|p| st.render(p)).collect::<Result<Vec<_>, _>>()?;
            guard(env)?.check_recipient(&addr, expected_code(&a.expect)).map_err(refused)?;
            (reply_obs(&s.rcpt_to(&addr, &params).await.map_err(smtp_error)?), a.expect.clone(), false)
        }
        SmtpAction::Data(a) => {
            let built = compose(env, st, &a.message)?;
            // Before DATA: a refused message never reaches the server.
            guard(env)?.check_message(&built.skeleton()).map_err(refused)?;
            let message = built.message.clone();
            // The run's rate and cap, shared by parallel scenarios: a refused message is not sent.
            let admitted = env.submissions.admit().await?;
            s.transcript().note(&admitted.describe(env.submissions.per_minute()));
            st.remember_sent(built);
            let ex = s.data_from(&mut message.reader()).await.map_err(smtp_error)?;
            let obs = reply_obs(ex.final_reply.as_ref().unwrap_or(&ex.intermediate));
            (obs, a.expect.clone(), false)
        }
        SmtpAction::Command(a) => {
            let line = st.render(&a.line)?;
            guard(env)?.check_command(&line, expected_code(&a.expect)).map_err(refused)?;
            // A raw DATA/BDAT may open a message too: it takes a slot of the run's rate and cap.
            if crate::exec::submission::opens_a_message(&line) {
                let admitted = env.submissions.admit().await?;
                s.transcript().note(&admitted.describe(env.submissions.per_minute()));
            }
            (reply_obs(&s.command(&line).await.map_err(smtp_error)?), a.expect.clone(), false)
        }
        SmtpAction::ExpectClosed(a) => {
            let closed = s.is_closed_by_peer(Duration::from_millis(a.within_ms.unwrap_or(2000))).await;
            let obs = SmtpObservation { closed, ..Default::default() };
            (obs, Some(SmtpExpect { closes: Some(true), ..Default::default() }), closed)
        }
        SmtpAction::Quit(a) => {
            let reply = s.quit().await.map_err(smtp_error)?;
            (reply_obs(&reply), a.expect.clone(), true)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_tls_failures_are_observations() {
        let expect = |yaml: &str| Some(serde_saphyr::from_str::<SmtpExpect>(yaml).unwrap());
        let refused = TlsFacts { verification: Some("invalid peer certificate: UnknownIssuer".into()), ..Default::default() };
        let verified = TlsFacts { verification: Some("ok".into()), ..Default::default() };
        // A verified chain was expected and verification failed: judged (the check fails).
        assert!(tls_failure_observed(&expect("{tls: {chain_verified: true}}"), Some(&refused)));
        // The chain verified but the handshake failed later: not a chain observation.
        assert!(!tls_failure_observed(&expect("{tls: {chain_verified: true}}"), Some(&verified)));
        assert!(tls_failure_observed(&expect("{tls: {established: false}}"), Some(&verified)));
        assert!(!tls_failure_observed(&expect("{tls: {established: true}}"), Some(&refused)));
        assert!(!tls_failure_observed(&expect("{code: '220'}"), Some(&refused)));
        assert!(!tls_failure_observed(&None, Some(&refused)));
    }
}
