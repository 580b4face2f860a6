//! `smtp` steps: one SMTP connection, actions in order, each judged as soon as it is observed.

use std::time::Duration;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::observation::SmtpObservation;
use crate::exec::smtp::{Capabilities, Reply, SmtpSession, SmtpTimeouts};
use crate::exec::tls::{TlsFacts, TlsSettings};
use crate::scenario::model::*;
use crate::verdict;
use crate::verdict::transaction::TransactionRule;

use crate::exec::transcript::Transcript;
use crate::verdict::Check;

use super::auth::{Login, Protocol, login};
use super::driver::{self, Connected, Dialogue, Link, Outline};
use super::smtp_send::{guard, refused, send_message, smtp_error};
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &SmtpStep) -> StepOutput {
    driver::run::<Smtp>(env, st, step).await
}

/// SMTP as the step driver sees it.
struct Smtp;

impl Dialogue for Smtp {
    type Step = SmtpStep;
    type Session = Link<SmtpSession>;
    type Action = SmtpAction;
    type Observation = SmtpObservation;
    type Expect = Expectation;

    fn outline(step: &SmtpStep) -> Outline<'_, SmtpAction, Expectation> {
        Outline { greeting: step.greeting.clone().map(Expectation::Reply), actions: &step.actions, accepts_tls_refusal: step.accept_tls_refusal }
    }

    fn action_name(action: &SmtpAction) -> &'static str {
        match action {
            SmtpAction::Ehlo(_) => "ehlo",
            SmtpAction::Starttls(_) => "starttls",
            SmtpAction::Auth(_) => "auth",
            SmtpAction::MailFrom(_) => "mail_from",
            SmtpAction::RcptTo(_) => "rcpt_to",
            SmtpAction::Data(_) => "data",
            SmtpAction::Transaction(_) => "transaction",
            SmtpAction::Command(_) => "command",
            SmtpAction::ExpectClosed(_) => "expect_closed",
            SmtpAction::Quit(_) => "quit",
        }
    }

    fn transcript(link: &Link<SmtpSession>) -> &Transcript {
        link.session.transcript()
    }

    async fn connect(env: &RunEnv, st: &mut ScenarioState, step: &SmtpStep) -> Result<Connected<Link<SmtpSession>, SmtpObservation>, ExecError> {
        let ep = env.target.endpoints.get(&step.endpoint.value).ok_or_else(|| ExecError::harness("unknown endpoint"))?.clone();
        let tls = env.tls_settings(step.tls_versions, step.client_cert.as_ref())?;
        st.other_operator_rcpt = false;
        let timeouts = SmtpTimeouts::new(Duration::from_millis(env.target.timeouts.connect), Duration::from_millis(env.target.timeouts.reply));
        let t = st.connection("smtp");
        match super::open::smtp(env, &ep, &tls, timeouts, &t).await {
            Ok((session, greeting, slot)) => {
                let mut obs = reply_obs(&greeting);
                obs.tls = session.tls_facts().cloned();
                Ok(Connected::Open(Link { session, tls, _slot: slot }, obs))
            }
            Err(e) if tls_failure_observed(&step.greeting, e.tls_facts()) => {
                Ok(Connected::Observed(SmtpObservation { tls: e.tls_facts().cloned(), ..Default::default() }))
            }
            Err(e) => Err(smtp_error(e)),
        }
    }

    async fn not_applicable(env: &RunEnv, link: &mut Link<SmtpSession>, action: &SmtpAction) -> Result<Option<String>, ExecError> {
        if let SmtpAction::Auth(a) = action
            && let Some(reason) = crate::exec::forge::not_applicable(env, &a.mailbox.value, &a.credential).await?
        {
            return Ok(Some(reason));
        }
        let caps = link.session.capabilities();
        Ok(match action {
            SmtpAction::Auth(a) if a.only_if_offered && !caps.is_some_and(|c| c.supports_auth(a.mechanism.name())) => {
                let offered = caps.map(|c| c.auth_mechanisms().join(" ")).unwrap_or_default();
                Some(format!("SMTP does not offer {} (AUTH: {offered}): not applicable", a.mechanism.name()))
            }
            _ => None,
        })
    }

    async fn act(env: &RunEnv, st: &mut ScenarioState, link: &mut Link<SmtpSession>, action: &SmtpAction) -> Result<Acted, ExecError> {
        act(env, st, &mut link.session, &link.tls, action).await
    }

    fn judge(expect: Expectation, obs: &SmtpObservation) -> Result<Vec<Check>, ExecError> {
        Ok(match (expect, &obs.transaction) {
            (Expectation::Reply(e), _) => verdict::judge_smtp(&e, obs),
            (Expectation::Transaction(rule), Some(tx)) => verdict::transaction::judge(&rule, tx),
            (Expectation::Transaction(_), None) => return Err(ExecError::harness("a transaction expectation without its observation")),
        })
    }

    fn try_later(expect: &Expectation, obs: &SmtpObservation) -> Option<String> {
        match (expect, &obs.transaction) {
            (Expectation::Reply(e), _) => verdict::temporary::smtp_reply(e.code.as_ref().map(|c| c.value.as_str()), obs),
            (Expectation::Transaction(rule), Some(tx)) => verdict::temporary::transaction(rule, tx),
            (Expectation::Transaction(_), None) => None,
        }
    }
}

/// What an SMTP action is judged against: one reply, or a whole submission attempt.
#[derive(Debug, Clone)]
pub(super) enum Expectation {
    Reply(SmtpExpect),
    Transaction(TransactionRule),
}

fn reply_expect(e: &Option<SmtpExpect>) -> Option<Expectation> {
    e.clone().map(Expectation::Reply)
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

/// See [`driver::tls_failure_observed`].
fn tls_failure_observed(e: &Option<SmtpExpect>, facts: Option<&TlsFacts>) -> bool {
    driver::tls_failure_observed(e.as_ref().and_then(|e| e.tls.as_ref()), facts)
}

type Acted = driver::Acted<SmtpObservation, Expectation>;

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
            Acted::next(obs, reply_expect(&a.expect))
        }
        SmtpAction::Starttls(a) => {
            match s.starttls(tls).await {
                Ok((reply, facts)) => {
                    let mut obs = reply_obs(&reply);
                    obs.tls = facts;
                    Acted::next(obs, reply_expect(&a.expect))
                }
                Err(e) if tls_failure_observed(&a.expect, e.tls_facts()) => {
                    let obs = SmtpObservation { code: 220, tls: e.tls_facts().cloned(), ..Default::default() };
                    Acted::last(obs, reply_expect(&a.expect), "the STARTTLS handshake failed as the step expects")
                }
                Err(e) => return Err(smtp_error(e)),
            }
        }
        SmtpAction::Auth(a) => match login(env, Protocol::Smtp, &a.mailbox.value, a.mechanism, &a.credential).await? {
            Login::CertificateOnly => {
                s.transcript().note("the target's applicative form is certificate-only: no AUTH sent");
                Acted::next(SmtpObservation::default(), None)
            }
            Login::Sasl { mechanism, credentials, note } => {
                if let Some(n) = note {
                    s.transcript().note(&n);
                }
                let ex = s.auth(mechanism, &credentials, a.initial_response).await.map_err(smtp_error)?;
                let mut obs = ex.final_reply().map(reply_obs).unwrap_or_default();
                obs.challenges = ex.challenges().map(|c| c.decoded_challenge.clone().unwrap_or_else(|| c.reply.text())).collect();
                obs.closed = ex.closed_by_peer;
                if ex.closed_by_peer {
                    Acted::last(obs, reply_expect(&a.expect), "the server closed the connection after AUTH")
                } else {
                    Acted::next(obs, reply_expect(&a.expect))
                }
            }
        },
        SmtpAction::MailFrom(a) => {
            let addr = st.render(&a.address)?;
            let params = st.render_all(&a.params)?;
            guard(env)?.check_sender(&addr, expected_code(&a.expect)).map_err(refused)?;
            Acted::next(reply_obs(&s.mail_from(&addr, &params).await.map_err(smtp_error)?), reply_expect(&a.expect))
        }
        SmtpAction::RcptTo(a) => {
            let addr = st.render(&a.address)?;
            let params = st.render_all(&a.params)?;
            let guard = guard(env)?;
            guard.check_recipient(&addr, expected_code(&a.expect)).map_err(refused)?;
            st.other_operator_rcpt |= guard.is_other_operator(&addr);
            Acted::next(reply_obs(&s.rcpt_to(&addr, &params).await.map_err(smtp_error)?), reply_expect(&a.expect))
        }
        SmtpAction::Data(a) => {
            let ex = send_message(env, st, s, &a.message).await?;
            let obs = reply_obs(ex.final_reply.as_ref().unwrap_or(&ex.intermediate));
            Acted::next(obs, reply_expect(&a.expect))
        }
        SmtpAction::Transaction(t) => {
            let (tx, closed) = super::transaction::attempt(env, st, s, t).await?;
            let obs = SmtpObservation { transaction: Some(tx), closed, ..Default::default() };
            let expect = Some(Expectation::Transaction(TransactionRule::of(t)));
            if closed { Acted::last(obs, expect, "the server closed the connection") } else { Acted::next(obs, expect) }
        }
        SmtpAction::Command(a) => {
            let line = st.render(&a.line)?;
            let guard = guard(env)?;
            guard.check_command(&line, expected_code(&a.expect)).map_err(refused)?;
            st.other_operator_rcpt |= guard.command_names_other_operator(&line);
            if line.trim().eq_ignore_ascii_case("RSET") {
                st.other_operator_rcpt = false;
            }
            // A raw DATA/BDAT may open a message too: it takes a slot of the run's rate and cap.
            if crate::exec::submission::opens_a_message(&line) {
                guard.check_data(st.other_operator_rcpt, &[]).map_err(refused)?;
                let admitted = env.submissions.admit().await?;
                s.transcript().note(&admitted.describe(env.submissions.per_minute()));
            }
            Acted::next(reply_obs(&s.command(&line).await.map_err(smtp_error)?), reply_expect(&a.expect))
        }
        SmtpAction::ExpectClosed(a) => {
            // Still open after the window is what was observed, not a failure to observe
            // (docs/verdicts.md, deadlines).
            let closed = s.is_closed_by_peer(Duration::from_millis(a.within_ms.unwrap_or(2000))).await;
            let obs = SmtpObservation { closed, ..Default::default() };
            let expect = Some(Expectation::Reply(SmtpExpect { closes: Some(true), ..Default::default() }));
            if closed { Acted::last(obs, expect, "the server closed the connection") } else { Acted::next(obs, expect) }
        }
        SmtpAction::Quit(a) => {
            let reply = s.quit().await.map_err(smtp_error)?;
            Acted::last(reply_obs(&reply), reply_expect(&a.expect), "the session ended with QUIT")
        }
    })
}
