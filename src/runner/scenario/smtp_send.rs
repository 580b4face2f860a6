//! What an SMTP step and a submission transaction share: the send guard, sending one message,
//! and SMTP errors as categorised [`ExecError`]s.

use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError, io_category};
use crate::exec::smtp::{DataExchange, SmtpError, SmtpSession};
use crate::exec::tls::{TlsError, peer_alert};
use crate::fixtures::guard::{Guard, GuardRefusal};
use crate::scenario::model::MessageSpec;

use super::compose::compose;
use super::state::ScenarioState;

pub(super) fn smtp_error(e: SmtpError) -> ExecError {
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
        // A server that never answers the ClientHello is silent, not a TLS failure.
        SmtpError::Tls { error: TlsError::Timeout(_), .. } => Category::Timeout,
        SmtpError::Tls { .. } => Category::Tls,
        SmtpError::Io { source, .. } => io_category(source).unwrap_or(Category::Protocol),
        SmtpError::Misuse(_) => Category::Harness,
        SmtpError::Unavailable { .. } => Category::Unavailable,
        _ => Category::Protocol,
    };
    ExecError::new(category, e.to_string())
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
    guard(env)?.check_message(&built.skeleton()).map_err(refused)?;
    let message = built.message.clone();
    // The run's rate and cap, shared by parallel scenarios: a refused message is not sent.
    let admitted = env.submissions.admit().await?;
    s.transcript().note(&admitted.describe(env.submissions.per_minute()));
    st.remember_sent(built);
    s.data_from(&mut message.reader()).await.map_err(smtp_error)
}
