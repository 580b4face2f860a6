//! The step driver of the connection-oriented protocols (SMTP, IMAP): connect, judge the
//! greeting, then run the actions in order, each judged as soon as it is observed.
//!
//! A protocol says how to open its session and run one action through [`Dialogue`]; the driver
//! owns the order and the stopping rules, so both protocols stop, skip and record alike. When a
//! step ends before its last action (the server closed the connection, the session was ended by
//! QUIT/LOGOUT, a refused handshake was the observation), the actions left are named in the
//! transcript and in the step's notes: a step never drops actions silently.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::tls::TlsFacts;
use crate::exec::transcript::Transcript;
use crate::scenario::model::TlsExpect;
use crate::scenario::spans::Expectation;
use crate::verdict::Check;

use super::state::{ScenarioState, StepOutput};

/// What opening a session gave.
pub(super) enum Connected<S, O> {
    /// The session is open; the greeting as observed.
    Open(S, O),
    /// Opening failed in a way the step expects to observe (a refused TLS handshake): that
    /// failure is the greeting's observation and the step ends after it is judged.
    Observed(O),
}

/// What one action observed, what to check it against, and whether the session goes on.
pub(super) struct Acted<O, E> {
    pub obs: O,
    pub expect: Option<E>,
    pub then: Then,
}

/// Whether the session can take the next action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Then {
    Continue,
    /// The session is over (the server closed it, the harness ended it, the handshake failed):
    /// why, as the note on the actions left says it (`the server closed the connection`).
    Over(String),
}

impl<O, E> Acted<O, E> {
    pub fn next(obs: O, expect: Option<E>) -> Self {
        Acted { obs, expect, then: Then::Continue }
    }

    pub fn last(obs: O, expect: Option<E>, why: impl Into<String>) -> Self {
        Acted { obs, expect, then: Then::Over(why.into()) }
    }
}

/// A step's open session, its TLS settings (STARTTLS uses them too) and its pacing place,
/// freed when the step's connection closes.
pub(super) struct Link<S> {
    pub session: S,
    pub tls: crate::exec::tls::TlsSettings,
    pub _slot: crate::exec::pacing::Slot,
}

/// What the driver reads of a step.
pub(super) struct Outline<'a, A, E> {
    pub greeting: Option<E>,
    pub actions: &'a [A],
    /// See `accept_tls_refusal` in the scenario model.
    pub accepts_tls_refusal: bool,
}

/// One connection-oriented protocol as the step driver sees it. Implementations only observe:
/// judging is `judge`'s call into `verdict`, stopping is the driver's.
pub(super) trait Dialogue {
    type Step;
    type Session;
    type Action;
    type Observation;
    type Expect: Clone;

    /// The step's greeting expectation, actions and TLS-refusal choice.
    fn outline(step: &Self::Step) -> Outline<'_, Self::Action, Self::Expect>;
    /// The action's name as scenarios write it (`mail_from`), for notes.
    fn action_name(action: &Self::Action) -> &'static str;
    fn transcript(session: &Self::Session) -> &Transcript;

    /// Opens the step's connection and reads the greeting.
    async fn connect(env: &RunEnv, st: &mut ScenarioState, step: &Self::Step) -> Result<Connected<Self::Session, Self::Observation>, ExecError>;

    /// `Some(reason)` when the server does not offer what an optional action needs: the rest of
    /// the scenario does not apply to this target.
    async fn not_applicable(env: &RunEnv, session: &mut Self::Session, action: &Self::Action) -> Result<Option<String>, ExecError>;

    async fn act(
        env: &RunEnv,
        st: &mut ScenarioState,
        session: &mut Self::Session,
        action: &Self::Action,
    ) -> Result<Acted<Self::Observation, Self::Expect>, ExecError>;

    /// The checks of `obs` against `expect` (settled by the plan before the run).
    fn judge(expect: Self::Expect, obs: &Self::Observation) -> Result<Vec<Check>, ExecError>;

    /// `Some(reply)` when `obs` is a "try later" reply that `expect` does not accept
    /// (`verdict::temporary`): the step ends as `unavailable` instead of being judged.
    fn try_later(_expect: &Self::Expect, _obs: &Self::Observation) -> Option<String> {
        None
    }
}

/// Runs one step of protocol `D`; never fails: an error is kept in the output.
pub(super) async fn run<D: Dialogue>(env: &RunEnv, st: &mut ScenarioState, step: &D::Step) -> StepOutput {
    let mut out = StepOutput::default();
    if let Err(e) = drive::<D>(env, st, step, &mut out).await {
        out.error = Some(e);
    }
    out
}

async fn drive<D: Dialogue>(env: &RunEnv, st: &mut ScenarioState, step: &D::Step, out: &mut StepOutput) -> Result<(), ExecError> {
    let Outline { greeting: expected, actions, accepts_tls_refusal } = D::outline(step);
    let (mut session, greeting) = match D::connect(env, st, step).await {
        Ok(Connected::Open(s, greeting)) => (s, greeting),
        Ok(Connected::Observed(obs)) => {
            if let Some(e) = expected {
                out.judge_at(D::judge(e, &obs)?, st.expect_at(Expectation::Greeting));
            }
            if !out.failed() {
                skip_rest::<D>(&st.transcript, out, actions, "the TLS handshake failed as the step expects");
            }
            return Ok(());
        }
        Err(e) => return out.tls_refusal(accepts_tls_refusal, e),
    };
    if let Some(e) = expected
        && out.judge_at(D::judge(e, &greeting)?, st.expect_at(Expectation::Greeting))
    {
        return Ok(());
    }
    for (i, action) in actions.iter().enumerate() {
        if let Some(reason) = D::not_applicable(env, &mut session, action).await? {
            D::transcript(&session).note(&reason);
            out.not_applicable = Some(reason);
            return Ok(());
        }
        let acted = match D::act(env, st, &mut session, action).await {
            Ok(acted) => acted,
            Err(e) => return out.tls_refusal(accepts_tls_refusal, e),
        };
        if let Some(reply) = acted.expect.as_ref().and_then(|e| D::try_later(e, &acted.obs)) {
            let why = format!("{reply}, in answer to {}", D::action_name(action));
            D::transcript(&session).note(&format!("service temporarily unavailable ({why}): not judged"));
            return Err(ExecError::unavailable(&why));
        }
        if let Some(e) = acted.expect
            && out.judge_at(D::judge(e, &acted.obs)?, st.expect_at(Expectation::Action(i)))
        {
            return Ok(());
        }
        if let Then::Over(why) = acted.then {
            skip_rest::<D>(D::transcript(&session), out, &actions[i + 1..], &why);
            return Ok(());
        }
    }
    Ok(())
}

/// Records the actions a step will not run, and why, in the transcript and the step's notes.
fn skip_rest<D: Dialogue>(transcript: &Transcript, out: &mut StepOutput, rest: &[D::Action], why: &str) {
    if rest.is_empty() {
        return;
    }
    let names: Vec<&str> = rest.iter().map(D::action_name).collect();
    let note = format!("{why}: {} remaining action(s) not run ({})", names.len(), names.join(", "));
    transcript.note(&note);
    out.notes.push(note);
}

/// A failed handshake is an observation (judged) rather than an error when the step expects it
/// to fail, or expects a verified chain and verification is what failed.
pub(super) fn tls_failure_observed(expect: Option<&TlsExpect>, facts: Option<&TlsFacts>) -> bool {
    let (Some(t), Some(facts)) = (expect, facts) else { return false };
    let chain_refused = facts.verification.as_deref().is_some_and(|v| v != "ok");
    t.established == Some(false) || t.chain_verified == Some(false) || (t.chain_verified == Some(true) && chain_refused)
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::exec::smtp::testkit::{ScriptedServer, Step, expect, send};
    use crate::scenario::interpolate::Vars;
    use crate::yaml::read::parse_yaml;
    use crate::scenario::model::SmtpStep;
    use crate::target::model::Target;

    pub(in crate::runner::scenario) fn env(port: u16) -> Arc<RunEnv> {
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\n\
             server_name: localhost\ntrust_anchors: []\n\
             mailboxes: {{ per1: {{ address: per1@op.test, type: PER }} }}\n\
             endpoints: {{ smtp_starttls: {{ host: 127.0.0.1, port: {port}, tls: starttls }} }}\n"
        );
        let target: Target = parse_yaml(Path::new("t.yaml"), &yaml).unwrap();
        RunEnv::new(target, Value::Object(Default::default()), "fixtures".into(), "run".into()).unwrap()
    }

    pub(in crate::runner::scenario) fn state(env: &RunEnv) -> ScenarioState {
        ScenarioState::new(Vars::default(), Transcript::new(env.secrets.clone()))
    }

    /// EHLO, then AUTH refused with 535 and the connection closed.
    fn refuse_auth_then_close() -> Vec<Step> {
        vec![
            send("220 mx ESMTP\r\n"),
            expect("EHLO mssconf.test"),
            send("250-mx\r\n250 AUTH XOAUTH2\r\n"),
            Step::ExpectAny,
            send("535 5.7.8 authentication failed\r\n"),
            Step::Close,
        ]
    }

    const STEP: &str = "endpoint: smtp_starttls\nactions:\n\
        - ehlo: {}\n\
        - auth: { mailbox: per1, mechanism: XOAUTH2, credential: malformed, expect: { code: '535' } }\n\
        - mail_from: { address: per1@op.test, expect: { code: 5xx } }\n\
        - quit: {}\n";

    #[tokio::test]
    async fn actions_after_the_server_closed_are_recorded_as_not_run() {
        let server = ScriptedServer::start(refuse_auth_then_close(), None, false).await;
        let env = env(server.port);
        let mut st = state(&env);
        let step: SmtpStep = serde_saphyr::from_str(STEP).unwrap();
        let out = super::super::step_smtp::run(&env, &mut st, &step).await;
        server.finish().await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert!(!out.failed() && out.not_applicable.is_none(), "{:?}", out.checks);
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        let note = &out.notes[0];
        assert!(note.contains("closed the connection after AUTH") && note.contains("2 remaining action(s) not run (mail_from, quit)"), "{note}");
        assert!(st.transcript.lines().iter().any(|l| l.text == *note), "the note is in the transcript too");
    }

    /// A rate limit (`421`, closing) where `250` was expected: the step ends as `unavailable`
    /// with the server's words, no check failed (issue #20 item 4).
    #[tokio::test]
    async fn a_try_later_reply_ends_the_step_as_unavailable_never_as_a_failed_check() {
        let script = vec![
            send("220 mx ESMTP\r\n"),
            expect("EHLO mssconf.test"),
            send("250 mx\r\n"),
            Step::ExpectAny,
            send("421 4.7.0 Too many messages, try again later\r\n"),
            Step::Close,
        ];
        let server = ScriptedServer::start(script, None, false).await;
        let env = env(server.port);
        let mut st = state(&env);
        let step: SmtpStep = serde_saphyr::from_str(
            "endpoint: smtp_starttls\nactions:\n- ehlo: {}\n- mail_from: { address: per1@op.test, expect: { code: '250' } }\n- quit: {}\n",
        )
        .unwrap();
        let out = super::super::step_smtp::run(&env, &mut st, &step).await;
        server.finish().await;
        let e = out.error.as_ref().expect("an error, not a verdict");
        assert_eq!(e.category(), crate::exec::error::Category::Unavailable, "{e}");
        assert!(e.message().contains("421 4.7.0 Too many messages, try again later, in answer to mail_from"), "{e}");
        assert!(!out.failed(), "{:?}", out.checks);
    }

    #[test]
    fn which_tls_failures_are_observations() {
        let tls = |yaml: &str| serde_saphyr::from_str::<TlsExpect>(yaml).unwrap();
        let refused = TlsFacts { verification: Some("invalid peer certificate: UnknownIssuer".into()), ..Default::default() };
        let verified = TlsFacts { verification: Some("ok".into()), ..Default::default() };
        assert!(tls_failure_observed(Some(&tls("{chain_verified: true}")), Some(&refused)));
        assert!(!tls_failure_observed(Some(&tls("{chain_verified: true}")), Some(&verified)));
        assert!(tls_failure_observed(Some(&tls("{established: false}")), Some(&verified)));
        assert!(!tls_failure_observed(Some(&tls("{established: true}")), Some(&refused)));
        assert!(!tls_failure_observed(None, Some(&refused)));
    }
}
