//! The `transaction` action: one submission attempt (MAIL FROM, RCPT TO…, DATA) observed as a
//! whole, stopping at the first refusal. Only observes: `verdict::transaction` judges.

use serde_json::json;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::observation::{Refusal, TransactionObservation};
use crate::exec::smtp::{Reply, SmtpError, SmtpSession};
use crate::scenario::model::{SmtpStage, SmtpTransaction, TransactionOutcome};

use super::state::ScenarioState;
use super::smtp_send::{guard, refused, send_message, smtp_error};

/// Runs the attempt; returns what was seen and whether the server closed the connection.
/// A transaction left open (refused at RCPT, or accepted without a message) is ended by `RSET`,
/// so that the step's next action starts clean.
pub(super) async fn attempt(
    env: &RunEnv,
    st: &mut ScenarioState,
    s: &mut SmtpSession,
    t: &SmtpTransaction,
) -> Result<(TransactionObservation, bool), ExecError> {
    let mut seen = TransactionObservation::default();
    let done = commands(env, st, s, t, &mut seen).await?;
    let closed = seen.refusal.as_ref().is_some_and(|r| r.closed);
    let closed = closed || (!done && reset(s).await);
    if let Some(name) = &t.capture {
        st.vars.capture(&name.value, captured(&seen));
    }
    s.transcript().note(&format!("transaction: {}", seen.describe()));
    Ok((seen, closed))
}

/// MAIL, RCPT, DATA up to the first refusal; true when the attempt went through DATA.
async fn commands(
    env: &RunEnv,
    st: &mut ScenarioState,
    s: &mut SmtpSession,
    t: &SmtpTransaction,
    seen: &mut TransactionObservation,
) -> Result<bool, ExecError> {
    let from = st.render(&t.from)?;
    let from_params = st.render_all(&t.from_params)?;
    // The profile's outside-whitelist address may only be offered where nothing can follow it.
    let outside_allowed = t.message.is_none() && t.expect.outcome.value == TransactionOutcome::Refused;
    let guard = guard(env)?;
    // The envelope sender receives bounces and DSNs: a declared mailbox (or <>) only.
    guard.check_sender(&from, outside_allowed.then(|| t.refusal_code())).map_err(refused)?;
    if !stage(seen, SmtpStage::Mail, s.mail_from(&from, &from_params).await)? {
        return Ok(false);
    }
    let rcpt_params = st.render_all(&t.rcpt_params)?;
    for to in &t.to {
        let to = st.render(to)?;
        guard.check_recipient(&to, outside_allowed.then(|| t.refusal_code())).map_err(refused)?;
        if !stage(seen, SmtpStage::Rcpt, s.rcpt_to(&to, &rcpt_params).await)? {
            return Ok(false);
        }
    }
    let Some(spec) = &t.message else { return Ok(false) };
    // A close while the body is on its way (or before its reply) is a broken exchange, not a
    // verdict on the message: the step ends in error (could not observe).
    let ex = send_message(env, st, s, spec).await?;
    stage(seen, SmtpStage::Data, Ok(ex.final_reply.unwrap_or(ex.intermediate))).map(|_| true)
}

/// Records one stage's reply; false when it refused (or the server closed the connection).
fn stage(seen: &mut TransactionObservation, at: SmtpStage, reply: Result<Reply, SmtpError>) -> Result<bool, ExecError> {
    match reply {
        Ok(r) => {
            let line = format!("{} {}", r.code, r.first_line());
            seen.replies.push((at, line.clone()));
            if r.is_positive() || r.is_intermediate() {
                return Ok(true);
            }
            seen.refusal = Some(Refusal { stage: at, code: r.code, reply: line, closed: false });
            Ok(false)
        }
        // Closing instead of answering MAIL FROM or RCPT TO: nothing more can be sent.
        Err(SmtpError::Closed { .. }) => {
            seen.refusal = Some(Refusal { stage: at, code: 0, reply: "connection closed".into(), closed: true });
            Ok(false)
        }
        Err(e) => Err(smtp_error(e)),
    }
}

/// `RSET` after an unfinished attempt; true when the server had closed the connection.
async fn reset(s: &mut SmtpSession) -> bool {
    matches!(s.command("RSET").await, Err(SmtpError::Closed { .. }))
}

/// `${captured.<name>.outcome}`, `.stage`, `.stage_name`, `.reply`.
fn captured(seen: &TransactionObservation) -> serde_json::Value {
    match &seen.refusal {
        Some(r) => json!({
            "outcome": "refused",
            "stage": serde_json::to_value(r.stage).unwrap_or_default(),
            "stage_name": r.stage.name(),
            "reply": r.reply,
        }),
        None => json!({"outcome": "accepted", "stage": "", "stage_name": "", "reply": seen.replies.last().map(|(_, r)| r.as_str()).unwrap_or("")}),
    }
}

#[cfg(test)]
mod tests {
    use crate::runner::scenario::driver::tests::{env, state};
    use crate::runner::scenario::state::StepOutput;
    use crate::exec::smtp::testkit::{ScriptedServer, Step, expect, send};
    use crate::scenario::model::SmtpStep;

    fn opening() -> Vec<Step> {
        vec![send("220 mx ESMTP\r\n"), expect("EHLO mssconf.test"), send("250 mx\r\n"), expect("MAIL FROM:<per1@op.test>"), send("250 ok\r\n")]
    }

    const STEP: &str = "endpoint: smtp_starttls\nactions:\n\
        - ehlo: {}\n\
        - transaction: { from: per1@op.test, to: [per1@op.test], capture: tx, expect: { outcome: refused } }\n\
        - quit: {}\n";

    async fn play(script: Vec<Step>) -> (StepOutput, Vec<String>, serde_json::Value) {
        let server = ScriptedServer::start(script, None, false).await;
        let env = env(server.port);
        let mut st = state(&env);
        let step: SmtpStep = serde_saphyr::from_str(STEP).unwrap();
        let out = super::super::step_smtp::run(&env, &mut st, &step).await;
        let seen = server.finish().await;
        let captured = st.vars.get("captured.tx").cloned().unwrap_or_default();
        (out, seen.received, captured)
    }

    #[tokio::test]
    async fn a_refusal_at_rcpt_passes_names_its_stage_and_resets() {
        let mut script = opening();
        script.extend([
            expect("RCPT TO:<per1@op.test>"),
            send("554 5.7.1 <per1@op.test>: Relay access denied\r\n"),
            expect("RSET"),
            send("250 2.0.0 Ok\r\n"),
            expect("QUIT"),
            send("221 bye\r\n"),
            Step::Close,
        ]);
        let (out, _, captured) = play(script).await;
        assert!(out.error.is_none() && !out.failed(), "{:?} {:?}", out.error, out.checks);
        let check = out.checks.iter().find(|c| c.what == "submission outcome").expect("judged as a whole");
        assert_eq!(check.actual, "refused at RCPT TO: 554 5.7.1 <per1@op.test>: Relay access denied");
        assert_eq!((captured["outcome"].as_str(), captured["stage"].as_str()), (Some("refused"), Some("rcpt")), "{captured}");
    }

    #[tokio::test]
    async fn a_close_at_mail_is_a_refusal_and_ends_the_step() {
        let script = vec![send("220 mx ESMTP\r\n"), expect("EHLO mssconf.test"), send("250 mx\r\n"), expect("MAIL FROM:<per1@op.test>"), Step::Close];
        let (out, _, _) = play(script).await;
        assert!(out.error.is_none() && !out.failed(), "{:?} {:?}", out.error, out.checks);
        assert!(out.checks.iter().any(|c| c.actual == "refused at MAIL FROM: the server closed the connection"), "{:?}", out.checks);
        assert!(out.notes.iter().any(|n| n.contains("1 remaining action(s) not run (quit)")), "{:?}", out.notes);
    }

    #[tokio::test]
    async fn an_accepted_attempt_fails_a_refusal_expectation_and_is_reset() {
        let mut script = opening();
        script.extend([
            expect("RCPT TO:<per1@op.test>"),
            send("250 2.1.5 Ok\r\n"),
            expect("RSET"),
            send("250 2.0.0 Ok\r\n"),
            // A failed check ends the step: no QUIT follows.
            Step::Close,
        ]);
        let (out, received, captured) = play(script).await;
        assert!(out.failed(), "{:?}", out.checks);
        let check = out.checks.iter().find(|c| !c.passed).unwrap();
        assert_eq!(check.actual, "accepted (MAIL FROM 250, RCPT TO 250)");
        assert!(received.iter().any(|l| l == "RSET"), "no message without `message:`: the attempt is reset: {received:?}");
        assert_eq!(captured["outcome"].as_str(), Some("accepted"));
    }
}
