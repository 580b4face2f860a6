//! What an SMTP step and a submission transaction share: the send guard, sending one message,
//! and SMTP errors as categorised [`ExecError`]s.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::smtp::{DataExchange, SmtpError, SmtpSession};
use crate::fixtures::guard::{Guard, GuardRefusal};
use crate::scenario::model::MessageSpec;

use super::compose::compose;
use super::state::ScenarioState;

/// An SMTP error as the step's error; its cause stays the typed [`SmtpError`].
pub(super) fn smtp_error(e: SmtpError) -> ExecError {
    ExecError::from(e)
}

/// The send guard (fictitious data only, declared recipients only) for this run's target.
pub(super) fn guard(env: &RunEnv) -> Result<Guard, ExecError> {
    Guard::new(&env.fixtures, &env.target).map_err(|e| ExecError::harness(e.to_string()))
}

/// A guard refusal is the harness's own stop: the scenario ends as `error`, nothing was sent.
pub(super) fn refused(r: GuardRefusal) -> ExecError {
    ExecError::harness(r.to_string())
}

/// Builds, checks, admits (the run's rate and cap) and sends one message with DATA.
pub(super) async fn send_message(env: &RunEnv, st: &mut ScenarioState, s: &mut SmtpSession, spec: &MessageSpec) -> Result<DataExchange, ExecError> {
    let built = compose(env, st, spec)?;
    // Before DATA: a refused message never reaches the server.
    let guard = guard(env)?;
    guard.check_data(st.other_operator_rcpt, &[]).map_err(refused)?;
    guard.check_message(&built.skeleton()).map_err(refused)?;
    let message = built.message.clone();
    // The run's rate and cap, shared by parallel scenarios: a refused message is not sent.
    let admitted = env.submissions.admit().await?;
    s.transcript().note(&admitted.describe(env.submissions.per_minute()));
    st.remember_sent(built);
    s.data_from(&mut message.reader()).await.map_err(smtp_error)
}
