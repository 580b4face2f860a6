//! `imap` steps: one IMAP connection, actions in order, each judged as soon as it is observed.

use std::time::Duration;

use crate::secret::Secret;
use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::imap::{ImapError, ImapSession, ImapTimeouts, Status, StatusKind, WaitMethod};
use crate::exec::message::facts;
use crate::exec::observation::ImapObservation;
use crate::exec::timing;
use crate::exec::tls::{TlsFacts, TlsSettings};
use crate::scenario::model::*;
use crate::verdict;

use crate::exec::transcript::Transcript;
use crate::verdict::Check;

use super::auth::{Login, Protocol, login};
use super::driver::{self, Connected, Dialogue, Link, Outline};
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &ImapStep) -> StepOutput {
    driver::run::<Imap>(env, st, step).await
}

/// IMAP as the step driver sees it.
struct Imap;

impl Dialogue for Imap {
    type Step = ImapStep;
    type Session = Link<ImapSession>;
    type Action = ImapAction;
    type Observation = ImapObservation;
    type Expect = ImapExpect;

    fn outline(step: &ImapStep) -> Outline<'_, ImapAction, ImapExpect> {
        Outline { greeting: step.greeting.clone(), actions: &step.actions, accepts_tls_refusal: step.accept_tls_refusal }
    }

    fn action_name(action: &ImapAction) -> &'static str {
        match action {
            ImapAction::Capability(_) => "capability",
            ImapAction::Starttls(_) => "starttls",
            ImapAction::Login(_) => "login",
            ImapAction::Authenticate(_) => "authenticate",
            ImapAction::Select(_) => "select",
            ImapAction::Examine(_) => "examine",
            ImapAction::Create(_) => "create",
            ImapAction::List(_) => "list",
            ImapAction::WaitFor(_) => "wait_for",
            ImapAction::Fetch(_) => "fetch",
            ImapAction::Search(_) => "search",
            ImapAction::Store(_) => "store",
            ImapAction::Append(_) => "append",
            ImapAction::Move(_) => "move",
            ImapAction::Command(_) => "command",
            ImapAction::ExpectClosed(_) => "expect_closed",
            ImapAction::Logout(_) => "logout",
        }
    }

    fn transcript(link: &Link<ImapSession>) -> &Transcript {
        link.session.transcript()
    }

    async fn connect(env: &RunEnv, st: &mut ScenarioState, step: &ImapStep) -> Result<Connected<Link<ImapSession>, ImapObservation>, ExecError> {
        let ep = env.target.endpoints.get(&step.endpoint.value).ok_or_else(|| ExecError::harness("unknown endpoint"))?.clone();
        let tls = env.tls_settings(step.tls_versions, step.client_cert.as_ref())?;
        let timeouts = ImapTimeouts {
            connect: Duration::from_millis(env.target.timeouts.connect),
            response: Duration::from_millis(env.target.timeouts.reply),
        };
        let t = st.connection("imap");
        match super::open::imap(env, &ep, &tls, timeouts, &t).await {
            Ok((session, greeting, slot)) => {
                let mut obs = status_obs(&greeting.status);
                obs.capabilities = greeting.capabilities.clone().unwrap_or_default();
                obs.tls = session.tls_facts().cloned();
                Ok(Connected::Open(Link { session, tls, _slot: slot }, obs))
            }
            Err(e) if tls_failure_observed(&step.greeting, e.tls_facts()) => {
                Ok(Connected::Observed(ImapObservation { tls: e.tls_facts().cloned(), ..Default::default() }))
            }
            Err(e) => Err(imap_error(e)),
        }
    }

    async fn not_applicable(env: &RunEnv, link: &mut Link<ImapSession>, action: &ImapAction) -> Result<Option<String>, ExecError> {
        let ImapAction::Authenticate(a) = action else { return Ok(None) };
        if let Some(reason) = crate::exec::forge::not_applicable(env, &a.mailbox.value, &a.credential).await? {
            return Ok(Some(reason));
        }
        if !a.only_if_offered || link.session.has_capability(&format!("AUTH={}", a.mechanism.name())).await.map_err(imap_error)? {
            return Ok(None);
        }
        Ok(Some(format!("IMAP does not offer AUTH={}: not applicable", a.mechanism.name())))
    }

    async fn act(env: &RunEnv, st: &mut ScenarioState, link: &mut Link<ImapSession>, action: &ImapAction) -> Result<Acted, ExecError> {
        act(env, st, &mut link.session, &link.tls, action).await
    }

    fn judge(expect: ImapExpect, obs: &ImapObservation) -> Result<Vec<Check>, ExecError> {
        Ok(verdict::judge_imap(&expect, obs))
    }

    fn try_later(expect: &ImapExpect, obs: &ImapObservation) -> Option<String> {
        verdict::temporary::imap_reply(expect.status.as_deref(), obs)
    }
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

/// An IMAP error as the step's error; its cause stays the typed [`ImapError`].
pub fn imap_error(e: ImapError) -> ExecError {
    ExecError::from(e)
}

/// See [`driver::tls_failure_observed`].
fn tls_failure_observed(e: &Option<ImapExpect>, facts: Option<&TlsFacts>) -> bool {
    driver::tls_failure_observed(e.as_ref().and_then(|e| e.tls.as_ref()), facts)
}

type Acted = driver::Acted<ImapObservation, ImapExpect>;

/// `tls` holds the step's settings (versions, client certificate): STARTTLS uses them too.
async fn act(env: &RunEnv, st: &mut ScenarioState, s: &mut ImapSession, tls: &TlsSettings, action: &ImapAction) -> Result<Acted, ExecError> {
    let t = s.transcript().clone();
    Ok(match action {
        ImapAction::Capability(a) => {
            let (caps, status) = s.capability().await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.capabilities = caps;
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::Starttls(a) => {
            match s.starttls(tls).await {
                Ok((status, facts)) => {
                    let mut obs = status_obs(&status);
                    obs.tls = facts;
                    Acted::next(obs, a.expect.clone())
                }
                Err(e) if tls_failure_observed(&a.expect, e.tls_facts()) => {
                    let obs = ImapObservation { status: "OK".into(), tls: e.tls_facts().cloned(), ..Default::default() };
                    Acted::last(obs, a.expect.clone(), "the STARTTLS handshake failed as the step expects")
                }
                Err(e) => return Err(imap_error(e)),
            }
        }
        ImapAction::Login(a) => {
            let user = st.render(&a.user)?;
            let password = Secret::new(a.password.clone().unwrap_or_else(|| crate::exec::sasl::MADE_UP_PASSWORD.into()));
            env.secrets.register(&password);
            let status = s.login(&user, &password).await.map_err(imap_error)?;
            Acted::next(status_obs(&status), a.expect.clone())
        }
        ImapAction::Authenticate(a) => match login(env, Protocol::Imap, &a.mailbox.value, a.mechanism, &a.credential).await? {
            Login::CertificateOnly => {
                t.note("the target's applicative form is certificate-only: no AUTHENTICATE sent");
                Acted::next(ImapObservation::default(), None)
            }
            Login::Sasl { mechanism, credentials, note } => {
                if let Some(n) = note {
                    t.note(&n);
                }
                let ex = s.authenticate(mechanism, &credentials, a.sasl_ir).await.map_err(imap_error)?;
                let mut obs = status_obs(&ex.status);
                obs.challenges = ex.challenges;
                obs.untagged = ex.untagged;
                Acted::next(obs, a.expect.clone())
            }
        },
        ImapAction::Select(a) | ImapAction::Examine(a) => {
            let folder = st.render(&a.folder)?;
            let sel = if matches!(action, ImapAction::Select(_)) { s.select(&folder).await } else { s.examine(&folder).await };
            let sel = sel.map_err(imap_error)?;
            let mut obs = status_obs(&sel.status);
            obs.untagged = sel.untagged;
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::Create(a) => {
            let status = s.create(&st.render(&a.folder)?).await.map_err(imap_error)?;
            Acted::next(status_obs(&status), a.expect.clone())
        }
        ImapAction::List(a) => {
            let pattern = a.pattern.as_deref().map(|p| st.render(p)).transpose()?.unwrap_or_else(|| "*".into());
            let (names, status) = s.list("", &pattern).await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.untagged = names;
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::WaitFor(a) => wait_for(env, st, s, a).await?,
        ImapAction::Fetch(a) => fetch(env, st, s, a).await?,
        ImapAction::Search(a) => {
            let (uids, status) = s.uid_search(&st.render(&a.criteria)?).await.map_err(imap_error)?;
            let mut obs = status_obs(&status);
            obs.found = uids;
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::Store(a) => {
            let status = s.uid_store(uid(st, &a.uid)?, &st.render(&a.flags)?).await.map_err(imap_error)?;
            Acted::next(status_obs(&status), a.expect.clone())
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
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::Move(a) => {
            let moved = s.uid_move(uid(st, &a.uid)?, &st.render(&a.folder)?).await.map_err(imap_error)?;
            t.note(&format!("move method: {:?}", moved.method));
            Acted::next(status_obs(&moved.status), a.expect.clone())
        }
        ImapAction::Command(a) => {
            let r = s.command(&st.render(&a.line)?).await.map_err(imap_error)?;
            let mut obs = status_obs(&r.status);
            obs.untagged = r.untagged;
            Acted::next(obs, a.expect.clone())
        }
        ImapAction::ExpectClosed(a) => {
            // Still open after the window is what was observed, not a failure to observe.
            let closed = s.is_closed_by_peer(Duration::from_millis(a.within_ms.unwrap_or(2000))).await;
            let obs = ImapObservation { closed, ..Default::default() };
            let expect = Some(ImapExpect { closes: Some(true), ..Default::default() });
            if closed { Acted::last(obs, expect, "the server closed the connection") } else { Acted::next(obs, expect) }
        }
        ImapAction::Logout(a) => {
            let r = s.logout().await.map_err(imap_error)?;
            Acted::last(status_obs(&r.status), a.expect.clone(), "the session ended with LOGOUT")
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
    let folder = st.render(&a.folder)?;
    // The whole wait (IDLE or polling) is the server delivering: server time, counted once.
    let w = timing::server(s.wait_for(&folder, &criteria, timeout)).await.map_err(imap_error)?;
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
    // Settled by the plan: a wait written without an expectation must find its message.
    Ok(Acted::next(obs, a.expect.clone()))
}

async fn fetch(env: &RunEnv, st: &mut ScenarioState, s: &mut ImapSession, a: &ImapFetch) -> Result<Acted, ExecError> {
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
        env.fetched.keep_fetched(bytes.len()).map_err(ExecError::harness)?;
        st.remember_received(&name, bytes);
    }
    // `original_message: m1` names a sent message: compare with its Message-ID.
    if let Some(r) = expect.as_mut().and_then(|e| e.report.as_mut())
        && let Some(name) = r.original_message.clone()
        && let Some(built) = st.sent.get(&name)
    {
        r.original_message = Some(built.message_id.clone());
    }
    Ok(Acted::next(obs, expect))
}
