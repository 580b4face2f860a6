//! `smtp` steps: one SMTP connection, actions in order, each judged as soon as it is observed.

use std::time::Duration;

use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::observation::SmtpObservation;
use crate::exec::smtp::{Capabilities, Reply, SmtpError, SmtpSession, SmtpTimeouts};
use crate::scenario::model::*;
use crate::verdict;

use super::auth::{Login, Protocol, login};
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

fn tls_refusal_expected(e: &Option<SmtpExpect>) -> bool {
    e.as_ref().and_then(|e| e.tls.as_ref()).is_some_and(|t| t.established == Some(false) || t.chain_verified == Some(false))
}

async fn drive(env: &RunEnv, st: &mut ScenarioState, step: &SmtpStep, out: &mut StepOutput) -> Result<(), ExecError> {
    let ep = env.target.endpoints.get(&step.endpoint.value).ok_or_else(|| ExecError::harness("unknown endpoint"))?.clone();
    let tls = env.tls_settings(step.tls_versions, step.client_cert.as_ref())?;
    let timeouts = SmtpTimeouts::new(Duration::from_millis(env.target.timeouts.connect), Duration::from_millis(env.target.timeouts.reply));
    let t = st.connection("smtp");
    let (mut s, greeting) = match SmtpSession::connect(&ep, &tls, timeouts, t).await {
        Ok(ok) => ok,
        Err(e) if e.tls_facts().is_some() && tls_refusal_expected(&step.greeting) => {
            let obs = SmtpObservation { tls: e.tls_facts().cloned(), ..Default::default() };
            out.judge(verdict::judge_smtp(step.greeting.as_ref().expect("checked"), &obs));
            return Ok(());
        }
        Err(e) => return Err(smtp_error(e)),
    };
    if let Some(e) = &step.greeting {
        let mut obs = reply_obs(&greeting);
        obs.tls = s.tls_facts().cloned();
        if out.judge(verdict::judge_smtp(e, &obs)) {
            return Ok(());
        }
    }
    for action in &step.actions {
        let (obs, expect, stop) = act(env, st, &mut s, action).await?;
        if let Some(e) = expect
            && out.judge(verdict::judge_smtp(&e, &obs))
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

async fn act(env: &RunEnv, st: &mut ScenarioState, s: &mut SmtpSession, action: &SmtpAction) -> Result<Acted, ExecError> {
    Ok(match action {
        SmtpAction::Ehlo(a) => {
            let (reply, caps) = s.ehlo(a.name.as_deref().unwrap_or("mssconf.test")).await.map_err(smtp_error)?;
            let mut obs = reply_obs(&reply);
            obs.capabilities = caps_list(&caps);
            (obs, a.expect.clone(), false)
        }
        SmtpAction::Starttls(a) => {
            let tls = env.tls_settings(None, None)?;
            match s.starttls(&tls).await {
                Ok((reply, facts)) => {
                    let mut obs = reply_obs(&reply);
                    obs.tls = facts;
                    (obs, a.expect.clone(), false)
                }
                Err(e) if e.tls_facts().is_some() && tls_refusal_expected(&a.expect) => {
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
            (reply_obs(&s.rcpt_to(&addr, &params).await.map_err(smtp_error)?), a.expect.clone(), false)
        }
        SmtpAction::Data(a) => {
            let built = compose(env, st, &a.message)?;
            let bytes = built.bytes.clone();
            st.remember_sent(built);
            let ex = s.data(&bytes).await.map_err(smtp_error)?;
            let obs = reply_obs(ex.final_reply.as_ref().unwrap_or(&ex.intermediate));
            (obs, a.expect.clone(), false)
        }
        SmtpAction::Command(a) => {
            let line = st.render(&a.line)?;
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
