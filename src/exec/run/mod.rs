//! Running one scenario: steps in order, each bounded by its timeout, the whole bounded by the
//! scenario timeout. Returns the scenario's record; never panics the run.

mod auth;
mod compose;
mod probe_run;
mod state;
mod step_http;
mod step_imap;
mod step_smtp;
mod step_tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use crate::evidence::MessageBytes;
use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::transcript::Transcript;
use crate::record::{Outcome, ProofRecord, ScenarioRecord, StepRecord};
use crate::scenario::interpolate::Vars;
use crate::scenario::load::Loaded;
use crate::scenario::model::{ProofDecl, Step, StepAction};

pub use state::{ScenarioState, StepOutput};

/// A scenario's record and the bytes of its messages (`messages[i]` is `record.messages[i]`),
/// which the evidence layer writes as `.eml` files.
#[derive(Debug)]
pub struct ScenarioRun {
    pub record: ScenarioRecord,
    pub messages: Vec<MessageBytes>,
}

impl From<ScenarioRecord> for ScenarioRun {
    fn from(record: ScenarioRecord) -> Self {
        ScenarioRun { record, messages: Vec::new() }
    }
}

/// Runs a scenario that the plan decided to run.
pub async fn run_scenario(env: Arc<RunEnv>, loaded: &Loaded) -> ScenarioRecord {
    run_scenario_full(env, loaded).await.record
}

/// Like [`run_scenario`], keeping the message bytes.
pub async fn run_scenario_full(env: Arc<RunEnv>, loaded: &Loaded) -> ScenarioRun {
    let started = Utc::now();
    let clock = Instant::now();
    let mut record = blank_record(loaded);
    record.started = Some(started);
    let mut vars = Vars::default();
    vars.set("target", env.target_vars.clone());
    vars.set("fixtures", env.fixtures.clone());
    vars.set("captured", Value::Object(Default::default()));
    let mut st = ScenarioState::new(vars, Transcript::new(env.secrets.clone()));
    let budget = Duration::from_millis(env.target.timeouts.scenario);
    let mut message_steps = Vec::new();
    for (i, step) in loaded.scenario.steps.iter().enumerate() {
        let left = budget.saturating_sub(clock.elapsed());
        let step_budget = Duration::from_millis(step.timeout_ms.unwrap_or(env.target.timeouts.step)).min(left);
        let from = st.transcript.len();
        let step_clock = Instant::now();
        let out = match tokio::time::timeout(step_budget, run_step(&env, &mut st, step)).await {
            Ok(out) => out,
            Err(_) => StepOutput {
                checks: vec![],
                error: Some(ExecError::timeout(format!("step did not finish within {} ms", step_budget.as_millis()))),
            },
        };
        message_steps.resize(st.messages.len(), Some(i));
        let step_record = step_record(step, &out, from, st.transcript.len(), step_clock.elapsed());
        let outcome = step_record.outcome;
        record.steps.push(step_record);
        collect_proofs(&mut record, &step.proofs, Some(i));
        if outcome != Outcome::Pass {
            record.outcome = outcome;
            record.reason = first_problem(&out);
            break;
        }
    }
    if record.steps.iter().all(|s| s.outcome == Outcome::Pass) && record.steps.len() == loaded.scenario.steps.len() {
        record.outcome = Outcome::Pass;
    }
    collect_proofs(&mut record, &loaded.scenario.proofs, None);
    record.transcript = st.transcript.lines();
    record.messages = st.messages.iter().map(|(m, _)| m.clone()).collect();
    record.duration_ms = clock.elapsed().as_millis() as u64;
    crate::evidence::redact::scrub_scenario(&mut record, &env.secrets);
    let messages =
        st.messages.into_iter().zip(message_steps).map(|((_, bytes), step)| MessageBytes { step, bytes }).collect();
    ScenarioRun { record, messages }
}

async fn run_step(env: &RunEnv, st: &mut ScenarioState, step: &Step) -> StepOutput {
    match step.action() {
        Some(StepAction::Http(h)) => step_http::run(env, st, h).await,
        Some(StepAction::Tls(t)) => step_tls::run(env, st, t).await,
        Some(StepAction::Smtp(s)) => step_smtp::run(env, st, s).await,
        Some(StepAction::Imap(s)) => step_imap::run(env, st, s).await,
        Some(StepAction::Wait(w)) => {
            tokio::time::sleep(Duration::from_millis(w.ms)).await;
            StepOutput::default()
        }
        None => StepOutput { checks: vec![], error: Some(ExecError::harness("step without exactly one protocol key")) },
    }
}

fn step_record(step: &Step, out: &StepOutput, from: usize, to: usize, took: Duration) -> StepRecord {
    let outcome = if out.error.is_some() {
        Outcome::Error
    } else if out.failed() {
        Outcome::Fail
    } else {
        Outcome::Pass
    };
    StepRecord {
        title: step.title.value.clone(),
        kind: step.action().map(|a| a.kind()).unwrap_or("?").to_string(),
        outcome,
        checks: out.checks.clone(),
        error: out.error.as_ref().map(|e| e.message.clone()),
        error_category: out.error.as_ref().map(|e| e.category.name().to_string()),
        transcript_from: from,
        transcript_to: to,
        duration_ms: took.as_millis() as u64,
        server_wait_ms: 0,
    }
}

fn first_problem(out: &StepOutput) -> Option<String> {
    if let Some(e) = &out.error {
        return Some(e.to_string());
    }
    out.checks.iter().find(|c| !c.passed).map(|c| c.summary())
}

fn collect_proofs(record: &mut ScenarioRecord, decls: &[ProofDecl], step: Option<usize>) {
    for p in decls {
        record.proofs.push(ProofRecord {
            id: format!("{}.{}", record.id, p.n.value),
            kind: format!("{:?}", p.kind).to_lowercase(),
            title: p.title.clone(),
            file: None,
            step,
        });
    }
}

/// The record of a scenario before (or without) running it.
pub fn blank_record(loaded: &Loaded) -> ScenarioRecord {
    let s = &loaded.scenario;
    ScenarioRecord {
        id: s.id.value.clone(),
        name: crate::plan::case_name(s),
        title: s.title.clone(),
        title_en: s.title_en.clone(),
        description: s.description.clone(),
        requirements: s.requirements.iter().map(|r| r.value.clone()).collect(),
        profile: s.profile.name().to_string(),
        tags: s.tags.clone(),
        confidence: s.confidence.clone(),
        file: loaded.file.display().to_string(),
        file_sha256: crate::exec::message::sha256_hex(loaded.source.as_bytes()),
        outcome: Outcome::Error,
        reason: None,
        started: None,
        duration_ms: 0,
        steps: vec![],
        transcript: vec![],
        proofs: vec![],
        messages: vec![],
    }
}

/// A record for a scenario the plan skipped.
pub fn skipped_record(loaded: &Loaded, reason: &str) -> ScenarioRecord {
    let mut r = blank_record(loaded);
    r.outcome = Outcome::Skip;
    r.reason = Some(reason.to_string());
    collect_proofs(&mut r, &loaded.scenario.proofs, None);
    r
}

/// Error category names, for reports.
pub fn category_name(c: Category) -> &'static str {
    c.name()
}
