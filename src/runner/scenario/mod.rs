//! Running one scenario: each action acted through `exec`, its observation paired with its
//! expectation and judged through `verdict` (a step stops at its first failed action); steps in order, each bounded by its timeout, the whole bounded by the
//! scenario timeout. Returns the scenario's record; never panics the run.

pub mod auth;
mod compose;
mod driver;
mod kx_run;
pub use kx_run::describe as describe_kx_purpose;
pub(crate) mod open;
mod probe_run;
mod scenario_run;
mod smtp_send;
mod state;
mod step_http;
mod step_imap;
mod step_smtp;
mod step_tls;
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use crate::evidence::MessageBytes;
use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::timing::{self, Split};
use crate::record::{Outcome, ProofRecord, ScenarioRecord, StepRecord};
use crate::scenario::load::Loaded;
use crate::scenario::model::{ProofDecl, Step, StepAction};

pub use scenario_run::ScenarioRun;

pub use state::{ScenarioState, StepOutput};

/// A scenario's record and the bytes of its messages (`messages[i]` is `record.messages[i]`),
/// which the evidence layer writes as `.eml` files.
#[derive(Debug)]
pub struct ScenarioResult {
    pub record: ScenarioRecord,
    pub messages: Vec<MessageBytes>,
}

impl From<ScenarioRecord> for ScenarioResult {
    fn from(record: ScenarioRecord) -> Self {
        ScenarioResult { record, messages: Vec::new() }
    }
}

/// Runs a scenario that the plan decided to run: every step in order, stopping at the first
/// step that does not pass.
pub async fn run_scenario(env: Arc<RunEnv>, loaded: &Loaded) -> ScenarioRecord {
    run_scenario_full(env, loaded).await.record
}

/// Like [`run_scenario`], keeping the message bytes and the step each message was seen in.
pub async fn run_scenario_full(env: Arc<RunEnv>, loaded: &Loaded) -> ScenarioResult {
    let mut run = ScenarioRun::new(env, loaded);
    for i in 0..run.step_count() {
        let outcome = run.run_step(i).await.outcome;
        if outcome != Outcome::Pass {
            break;
        }
    }
    run.into_result()
}

async fn run_step(env: &RunEnv, st: &mut ScenarioState, step: &Step) -> StepOutput {
    match step.action() {
        Some(StepAction::Http(h)) => step_http::run(env, st, h).await,
        Some(StepAction::Tls(t)) => step_tls::run(env, st, t).await,
        Some(StepAction::Smtp(s)) => step_smtp::run(env, st, s).await,
        Some(StepAction::Imap(s)) => step_imap::run(env, st, s).await,
        Some(StepAction::Wait(w)) => {
            // The scenario gives the server time (to deliver, to expire…): a wait on the server.
            timing::server(tokio::time::sleep(Duration::from_millis(w.ms))).await;
            StepOutput::default()
        }
        None => StepOutput { error: Some(ExecError::harness("step without exactly one protocol key")), ..Default::default() },
    }
}

fn step_record(step: &Step, out: &StepOutput, from: usize, to: usize, took: Split) -> StepRecord {
    let outcome = crate::verdict::outcome::step_outcome(out.error.is_some(), &out.checks, out.not_applicable.is_some());
    StepRecord {
        title: step.title.value.clone(),
        kind: step.action().map(|a| a.kind()).unwrap_or("?").to_string(),
        outcome,
        checks: out.checks.clone(),
        error: out.error.as_ref().map(|e| e.message()),
        error_category: out.error.as_ref().map(|e| e.category().name().to_string()),
        transcript_from: from,
        transcript_to: to,
        duration_ms: took.total_ms,
        server_wait_ms: took.server_wait_ms,
        harness_ms: took.harness_ms,
        notes: out.notes.clone(),
    }
}

fn first_problem(out: &StepOutput) -> Option<String> {
    if let Some(e) = &out.error {
        return Some(e.to_string());
    }
    out.checks.iter().find(|c| c.fails()).map(|c| c.summary()).or_else(|| out.not_applicable.clone())
}

fn collect_proofs(record: &mut ScenarioRecord, decls: &[ProofDecl], step: Option<usize>) {
    for p in decls {
        record.proofs.push(ProofRecord {
            id: format!("{}.{}", record.id, p.n.value),
            kind: format!("{:?}", p.kind).to_lowercase(),
            title: p.title.clone(),
            file: None,
            step,
            not_needed: None,
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
        nature: s.nature.name().to_string(),
        advisories: vec![],
        file: loaded.file.display().to_string(),
        file_sha256: crate::util::digest::sha256_hex(loaded.source.as_bytes()),
        outcome: Outcome::Error,
        reason: None,
        started: None,
        duration_ms: 0,
        server_wait_ms: 0,
        harness_ms: 0,
        steps: vec![],
        transcript: vec![],
        proofs: vec![],
        messages: vec![],
        attempts: vec![],
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
