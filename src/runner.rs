//! A whole run: acquire the target (a profile, or the embedded mock operator), run the planned
//! scenarios with bounded parallelism, and collect their records. Shared by `mssconf run` and
//! `cargo test --test conformance`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use mssconf_mock::faults::FaultSet;
use mssconf_mock::{MockConfig, MockHandle, MockOperator};
use tokio::sync::{Semaphore, mpsc};

use crate::exec::env::RunEnv;
use crate::exec::run::{ScenarioResult, blank_record, run_scenario_full, skipped_record};
use crate::plan::Decision;
use crate::record::{Outcome, RunRecord, TargetSummary};
use crate::scenario::catalogue::Catalogue;
use crate::scenario::error::LoadError;
use crate::target::load::load_target;
use crate::target::model::Target;

/// Where the run goes.
#[derive(Debug, Clone)]
pub enum TargetChoice {
    Profile(PathBuf),
    /// The embedded mock operator, with these faults switched on.
    EmbeddedMock(FaultSet),
}

/// The target of a run, and the mock serving it when embedded (stopped on drop).
pub struct AcquiredTarget {
    pub target: Target,
    pub profile_path: PathBuf,
    pub mock: Option<MockHandle>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target profile {}:\n{}", .0.display(), .1.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Profile(PathBuf, Vec<LoadError>),
    #[error("embedded mock operator: {0}")]
    Mock(String),
}

/// The folder where the embedded mock keeps its test PKI between runs (reused while valid).
pub fn mock_state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("mssconf-mock-{}", whoami()))
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}

pub async fn acquire(choice: &TargetChoice) -> Result<AcquiredTarget, TargetError> {
    match choice {
        TargetChoice::Profile(path) => {
            let target = load_target(path).map_err(|e| TargetError::Profile(path.clone(), e))?;
            Ok(AcquiredTarget { target, profile_path: path.clone(), mock: None })
        }
        TargetChoice::EmbeddedMock(faults) => {
            let dir = mock_state_dir();
            let mut config = MockConfig::new(dir.join("pki"));
            config.faults = faults.clone();
            let mock = MockOperator::start(config).await.map_err(|e| TargetError::Mock(e.to_string()))?;
            // Each instance writes its own profile: parallel runs must not share one file.
            let profile_path = dir.join(format!("target-{}-{}.yaml", std::process::id(), mock.endpoints().http.port()));
            mock.write_target(&profile_path).map_err(|e| TargetError::Mock(format!("{}: {e}", profile_path.display())))?;
            // The generated profile goes through the same loader as a user's.
            let target = load_target(&profile_path).map_err(|e| TargetError::Profile(profile_path.clone(), e))?;
            Ok(AcquiredTarget { target, profile_path, mock: Some(mock) })
        }
    }
}

/// What the run reports while it goes (console progress).
#[derive(Debug, Clone)]
pub enum RunEvent {
    Started { name: String },
    Finished { name: String, outcome: Outcome, reason: Option<String>, duration_ms: u64 },
}

pub fn new_run_id() -> String {
    let now = Utc::now();
    let nonce = crate::exec::message::sha256_hex(format!("{now:?}{}", std::process::id()).as_bytes());
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &nonce[..4])
}

pub fn summary(target: &Target, embedded: bool) -> TargetSummary {
    TargetSummary {
        name: target.name.clone(),
        operator: target.operator.clone(),
        service: target.service.clone(),
        version: target.version.clone(),
        environment: format!("{:?}", target.environment).to_lowercase(),
        domain: target.domain.clone(),
        server_name: target.server_name.clone(),
        endpoints: target.endpoints.iter().map(|(n, e)| format!("{n}={e} ({:?})", e.tls).to_lowercase()).collect(),
        claims: target.claims.iter().map(|p| p.name().to_string()).collect(),
        embedded_mock: embedded,
    }
}

pub fn new_record(run_id: &str, target: &Target, embedded: bool, selection: Vec<String>) -> RunRecord {
    RunRecord {
        schema_version: crate::record::SCHEMA_VERSION,
        run_id: run_id.to_string(),
        tool: "mssconf".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started: Utc::now(),
        finished: None,
        target: summary(target, embedded),
        selection,
        scenarios: vec![],
        audit: None,
    }
}

/// One planned scenario: its index in the catalogue and the plan's decision.
pub type Case = (usize, Decision);

/// Runs `cases` with at most `jobs` at a time; records come back in plan order. A scenario that
/// panics is recorded as `error`; `stop` (Ctrl-C, SIGTERM) leaves the unstarted ones
/// `interrupted`. Each record comes with its message bytes (for the `.eml` evidence).
pub async fn execute(
    env: Arc<RunEnv>,
    catalogue: Arc<Catalogue>,
    cases: Vec<Case>,
    jobs: usize,
    events: mpsc::UnboundedSender<RunEvent>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<ScenarioResult> {
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut handles = Vec::new();
    for (idx, decision) in cases {
        let (env, cat, permits, events, stop) = (env.clone(), catalogue.clone(), permits.clone(), events.clone(), stop.clone());
        handles.push((idx, tokio::spawn(async move {
            let loaded = &cat.scenarios[idx];
            if let Decision::Skip { reason } = &decision {
                return ScenarioResult::from(skipped_record(loaded, reason));
            }
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            if *stop.borrow() {
                let mut r = blank_record(loaded);
                r.outcome = Outcome::Interrupted;
                r.reason = Some("the run was interrupted before this scenario started".into());
                return ScenarioResult::from(r);
            }
            let name = crate::plan::case_name(&loaded.scenario);
            let _ = events.send(RunEvent::Started { name: name.clone() });
            let run = run_guarded(env, cat.clone(), idx).await;
            let record = &run.record;
            let _ = events.send(RunEvent::Finished {
                name,
                outcome: record.outcome,
                reason: record.reason.clone(),
                duration_ms: record.duration_ms,
            });
            run
        })));
    }
    let mut out = Vec::new();
    for (idx, h) in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => {
                // The task itself failed (cancelled): keep the scenario visible as an error.
                let mut r = blank_record(&catalogue.scenarios[idx]);
                r.reason = Some(format!("harness task failed: {e}"));
                out.push(ScenarioResult::from(r));
            }
        }
    }
    out
}

/// Runs one scenario in its own task so a panic becomes an `error` record, not a crash.
async fn run_guarded(env: Arc<RunEnv>, cat: Arc<Catalogue>, idx: usize) -> ScenarioResult {
    let cat2 = cat.clone();
    let inner = tokio::spawn(async move { run_scenario_full(env, &cat2.scenarios[idx]).await });
    match inner.await {
        Ok(r) => r,
        Err(e) => {
            let mut r = blank_record(&cat.scenarios[idx]);
            r.outcome = Outcome::Error;
            r.reason = Some(format!("harness error: the scenario's task panicked ({e})"));
            ScenarioResult::from(r)
        }
    }
}

/// The default report folder: `reports/<run id>/` under `root`.
pub fn default_report_dir(root: &Path, run_id: &str) -> PathBuf {
    root.join("reports").join(run_id)
}
