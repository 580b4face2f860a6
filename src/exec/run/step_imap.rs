//! `imap` steps: one IMAP connection, actions in order, each judged as soon as it is observed.

use std::time::Duration;

use crate::evidence::secret::Secret;
use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::imap::{ImapError, ImapSession, ImapTimeouts, Status, StatusKind, WaitMethod};
use crate::exec::message::facts;
use crate::exec::observation::ImapObservation;
use crate::exec::tls::{TlsError, TlsFacts, TlsSettings, peer_alert};
use crate::scenario::model::*;
use crate::verdict;

use super::auth::{Login, Protocol, login};
use super::expect_vars;
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &ImapStep) -> StepOutput {
    let mut out = StepOutput::default();
    if let Err(e) = drive(env, st, step, &mut out).await {
        out.error = Some(e);
    }
    out
}

fn status_obs(s: &Status) -> ImapObservation {
    ImapObservation {
        status: kind_name(s.kind).into(),
        code: s.code.clone(),
        text: s.text.clone(),
        ..Default::default()
    }
}

fn kind_name(k: StatusKind) -> &'static str {
    match k {
        StatusKind::Ok => "OK",
        StatusKind::No => "NO",
        StatusKind::Bad => "BAD",
        StatusKind::Bye => "BYE",
        StatusKind::Preauth => "PREAUTH",
    }
}

pub fn imap_error(e: ImapError) -> ExecError {
    let alert = server_alert(&e);
    imap_category(e).with_tls_alert(alert)
}

/// The fatal TLS alert the server ended the exchange with, if any.
fn server_alert(e: &ImapError) -> Option<String> {
    match e {
        ImapError::Tls { error: TlsError::Alert(alert), .. } => Some(alert.clone()),
        ImapError::Io(source) => peer_alert(source),
        _ => None,
    }
}

fn imap_category(e: ImapError) -> ExecError {
    let category = match &e {
        ImapError::Connect(n) => return ExecError::from(n),
        ImapError::Tls { .. } => Category::Tls,
        ImapError::Timeout { .. } => Category::Timeout,
        ImapError::Closed { .. } => Category::Closed,
        ImapError::Harness(_) => Category::Harness,
        _ => Category::Protocol,
    };
    ExecError::new(category, e.to_string())
}

/// A failed handshake is an observation (judged) rather than an error when the step expects it
/// to fail, or expects a verified chain and verification is what failed.
fn tls_failure_observed(e: &Option<ImapExpect>, facts: Option<&TlsFacts>) -> bool {
    let (Some(t), Some(facts)) = (e.as_ref().and_then(|e| e.tls.as_ref()), facts) else { return false };
    let chain_refused = facts.verification.as_deref().is_some_and(|v| v != "ok");
    t.established == Some(false) || t.chain_verified == Some(false) || (t.chain_verified == Some(true) && chain_refused)
}

async fn drive(env: &RunEnv, st: &mut ScenarioState, step: &ImapStep, out: &mut StepOutput) -> Result<(), ExecError> {
    let ep = env.target.endpoints.get(&step.endpoint.value).ok_or_else(|| ExecError::harness("unknown endpoint"))?.clone();
    let tls = env.tls_settings(step.tls_versions, step.client_cert.as_ref())?;
    let timeouts = ImapTimeouts {
        connect: Duration::from_millis(env.target.timeouts.connect),
        response: Duration::from_millis(env.target.timeouts.reply),
    };
    let t = st.connection("imap");
    let (mut s, greeting) = match ImapSession::connect(&ep, &tls, timeouts, t).await {
        Ok(ok) => ok,
        Err(e) if tls_failure_observed(&step.greeting, e.tls_facts()) => {
            let obs = ImapObservation { tls: e.tls_facts().cloned(), ..Default::default() };
            out.judge(verdict::judge_imap(step.greeting.as_ref().expect("checked"), &obs));
            return Ok(());
        }
        Err(e) => return out.tls_refusal(step.accept_tls_refusal, imap_error(e)),
    };
    if let Some(e) = &step.greeting {
        let mut obs = status_obs(&greeting.status);
        obs.capabilities = greeting.capabilities.clone().unwrap_or_default();
        obs.tls = s.tls_facts().cloned();
        if out.judge(verdict::judge_imap(&expect_vars::imap(st, e.clone())?, &obs)) {
            return Ok(());
        }
    }
    for action in &step.actions {
        if let ImapAction::Authenticate(a) = action
            && a.only_if_offered
            && !s.has_capability(&format!("AUTH={}", a.mechanism.name())).await.map_err(imap_error)?
        {
            let reason = format!("IMAP does not offer AUTH={}: not applicable", a.mechanism.name());
            s.transcript().note(&reason);
            out.not_applicable = Some(reason);
            return Ok(());
        }
        let (obs, expect, stop) = match act(env, st, &mut s, &tls, action).await {
            Ok(r) => r,
            Err(e) => return out.tls_refusal(step.accept_tls_refusal, e),
        };
        if let Some(e) = expect
            && out.judge(verdict::judge_imap(&expect_vars::imap(st, e)?, &obs))
        {
            return Ok(());
        }
        if stop {
            break;
        }
    }
    Ok(())
}

type Acted = (ImapObservation, Option<ImapExpect>, bool);

/// `tls` holds the step's settings (versions, client certificate): STARTTLS uses them too.
async fn act(env: &RunEnv, st: &mut ScenarioState, s: &mut ImapSession, tls: &TlsSettings, action: &ImapAction) -> Result<Acted, ExecError> {
    let t = s.transcript().clone();
    Ok(match action {
        ImapAction::Capability(a) => {
            let (caps, status) = s.capability().await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.capabilities = caps;
            (obs, a.expect.clone(), false)
        }
        ImapAction::Starttls(a) => {
            match s.starttls(tls).await {
                Ok((status, facts)) => {
                    let mut obs = status_obs(&status);
                    obs.tls = facts;
                    (obs, a.expect.clone(), false)
                }
                Err(e) if tls_failure_observed(&a.expect, e.tls_facts()) => {
                    let obs = ImapObservation { status: "OK".into(), tls: e.tls_facts().cloned(), ..Default::default() };
                    (obs, a.expect.clone(), true)
                }
                Err(e) => return Err(imap_error(e)),
            }
        }
        ImapAction::Login(a) => {
            let user = st.render(&a.user)?;
            let password = Secret::new(a.password.clone().unwrap_or_else(|| "mssconf-dummy-password".into()));
            env.secrets.register(&password);
            let status = s.login(&user, &password).await.map_err(imap_error)?;
            (status_obs(&status), a.expect.clone(), false)
        }
        ImapAction::Authenticate(a) => match login(env, Protocol::Imap, &a.mailbox.value, a.mechanism, &a.credential).await? {
            Login::CertificateOnly => {
                t.note("the target's applicative form is certificate-only: no AUTHENTICATE sent");
                (ImapObservation::default(), None, false)
            }
            Login::Sasl { mechanism, credentials, note } => {
                if let Some(n) = note {
                    t.note(&n);
                }
                let ex = s.authenticate(mechanism, &credentials, a.sasl_ir).await.map_err(imap_error)?;
                let mut obs = status_obs(&ex.status);
                obs.challenges = ex.challenges;
                obs.untagged = ex.untagged;
                (obs, a.expect.clone(), false)
            }
        },
        ImapAction::Select(a) | ImapAction::Examine(a) => {
            let folder = st.render(&a.folder)?;
            let sel = if matches!(action, ImapAction::Select(_)) { s.select(&folder).await } else { s.examine(&folder).await };
            let sel = sel.map_err(imap_error)?;
            let mut obs = status_obs(&sel.status);
            obs.untagged = sel.untagged;
            (obs, a.expect.clone(), false)
        }
        ImapAction::Create(a) => {
            let status = s.create(&st.render(&a.folder)?).await.map_err(imap_error)?;
            (status_obs(&status), a.expect.clone(), false)
        }
        ImapAction::List(a) => {
            let pattern = a.pattern.as_deref().map(|p| st.render(p)).transpose()?.unwrap_or_else(|| "*".into());
            let (names, status) = s.list("", &pattern).await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.untagged = names;
            (obs, a.expect.clone(), false)
        }
        ImapAction::WaitFor(a) => wait_for(env, st, s, a).await?,
        ImapAction::Fetch(a) => fetch(st, s, a).await?,
        ImapAction::Search(a) => {
            let (uids, status) = s.uid_search(&st.render(&a.criteria)?).await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.found = uids;
            (obs, a.expect.clone(), false)
        }
        ImapAction::Store(a) => {
            let status = s.uid_store(uid(st, &a.uid)?, &st.render(&a.flags)?).await.map_err(imap_error)?;
            (status_obs(&status), a.expect.clone(), false)
        }
        ImapAction::Append(a) => {
            let bytes = st
                .sent
                .get(&a.message)
                .map(|b| b.to_vec())
                .ok_or_else(|| ExecError::harness(format!("no message `{}` was sent in this scenario", a.message)))?;
            let flags_text = a.flags.as_deref().map(|f| st.render(f)).transpose()?.unwrap_or_default();
            let flags: Vec<&str> = flags_text.split_whitespace().collect();
            let (status, new_uid) = s.append(&st.render(&a.folder)?, &flags, &bytes).await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.found = new_uid.into_iter().collect();
            (obs, a.expect.clone(), false)
        }
        ImapAction::Move(a) => {
            let moved = s.uid_move(uid(st, &a.uid)?, &st.render(&a.folder)?).await.map_err(imap_error)?;
            t.note(&format!("move method: {:?}", moved.method));
            (status_obs(&moved.status), a.expect.clone(), false)
        }
        ImapAction::Command(a) => {
            let r = s.command(&st.render(&a.line)?).await.map_err(imap_error)?;
            let mut obs = status_obs(&r.status);
            obs.untagged = r.untagged;
            (obs, a.expect.clone(), false)
        }
        ImapAction::ExpectClosed(a) => {
            let closed = s.is_closed_by_peer(Duration::from_millis(a.within_ms.unwrap_or(2000))).await;
            let obs = ImapObservation { closed, ..Default::default() };
            (obs, Some(ImapExpect { closes: Some(true), ..Default::default() }), closed)
        }
        ImapAction::Logout(a) => {
            let r = s.logout().await.map_err(imap_error)?;
            (status_obs(&r.status), a.expect.clone(), true)
        }
    })
}

fn uid(st: &ScenarioState, text: &str) -> Result<u32, ExecError> {
    let v = st.render(text)?;
    v.trim().parse().map_err(|_| ExecError::harness(format!("`{v}` is not a UID")))
}

async fn wait_for(env: &RunEnv, st: &mut ScenarioState, s: &mut ImapSession, a: &ImapWaitFor) -> Result<Acted, ExecError> {
    let criteria = match (&a.message, &a.criteria) {
        (Some(name), _) => {
            let built = st.sent.get(name).ok_or_else(|| ExecError::harness(format!("no message `{name}` was sent")))?;
            format!("HEADER Message-ID \"{}\"", built.message_id)
        }
        (None, Some(c)) => st.render(c)?,
        (None, None) => return Err(ExecError::harness("wait_for needs `message` or `criteria`")),
    };
    let timeout = Duration::from_millis(a.timeout_ms.unwrap_or(env.target.timeouts.delivery));
    let w = s.wait_for(&st.render(&a.folder)?, &criteria, timeout).await.map_err(imap_error)?;
    let method = match w.method {
        WaitMethod::Idle => "idle".to_string(),
        WaitMethod::Polling { interval } => format!("polling ({} ms)", interval.as_millis()),
    };
    s.transcript().note(&format!("wait_for: {} after {} ms by {method}", if w.uid.is_some() { "found" } else { "not found" }, w.elapsed.as_millis()));
    let mut obs = status_obs(&w.status);
    obs.found = w.uid.into_iter().collect();
    obs.wait_method = Some(method);
    if let (Some(name), Some(uid)) = (&a.capture, w.uid) {
        st.vars.capture(&name.value, serde_json::json!(uid));
    }
    // Without an explicit expectation, a wait must find its message.
    let expect = a.expect.clone().or_else(|| Some(ImapExpect { found: Some(true), ..Default::default() }));
    Ok((obs, expect, false))
}

async fn fetch(st: &mut ScenarioState, s: &mut ImapSession, a: &ImapFetch) -> Result<Acted, ExecError> {
    let uid = uid(st, &a.uid)?;
    let (bytes, status) = s.uid_fetch_message(uid).await.map_err(imap_error)?;
    let mut obs = status_obs(&status);
    let mut expect = a.expect.clone();
    if let Some(bytes) = bytes {
        let compare = expect.as_ref().and_then(|e| e.matches_sent.as_ref());
        let sent = match compare {
            Some(m) => Some((
                st.sent.get(&m.message).ok_or_else(|| ExecError::harness(format!("no message `{}` was sent", m.message)))?,
                m.headers.as_slice(),
            )),
            None => None,
        };
        obs.message = Some(facts(&bytes, sent));
        let name = a.capture.as_ref().map(|c| c.value.clone()).unwrap_or_else(|| format!("fetched-uid-{uid}"));
        st.remember_received(&name, bytes);
    }
    // `original_message: m1` names a sent message: compare with its Message-ID.
    if let Some(r) = expect.as_mut().and_then(|e| e.report.as_mut())
        && let Some(name) = r.original_message.clone()
        && let Some(built) = st.sent.get(&name)
    {
        r.original_message = Some(built.message_id.clone());
    }
    Ok((obs, expect, false))
}
