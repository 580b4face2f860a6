//! A whole run: acquire the target (a profile, or the embedded mock operator), run the planned
//! scenarios with bounded parallelism, and collect their records. Shared by `mssconf run` and
//! `cargo test --test conformance`.

pub mod scenario;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use mssconf_mock::behaviours::BehaviourSet;
use mssconf_mock::faults::FaultSet;
use mssconf_mock::{MockConfig, MockHandle, MockOperator};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::exec::env::RunEnv;
use scenario::{ScenarioResult, blank_record, run_scenario_full, skipped_record};
use crate::plan::Decision;
use crate::record::{AttemptRecord, Outcome, RunRecord, RunTiming, ScenarioRecord, TargetSummary};
use crate::scenario::catalogue::Catalogue;
use crate::yaml::error::LoadError;
use crate::target::load::load_target;
use crate::target::model::Target;

/// Where the run goes.
#[derive(Debug, Clone)]
pub enum TargetChoice {
    Profile(PathBuf),
    /// The embedded mock operator, with these faults and behaviours switched on.
    EmbeddedMock(MockSwitches),
}

/// How the embedded mock is switched: deviations (faults) and conformant behaviours.
#[derive(Debug, Clone, Default)]
pub struct MockSwitches {
    pub faults: FaultSet,
    pub behaviours: BehaviourSet,
}

impl From<FaultSet> for MockSwitches {
    fn from(faults: FaultSet) -> Self {
        MockSwitches { faults, behaviours: BehaviourSet::default() }
    }
}

impl MockSwitches {
    /// `MSSCONF_MOCK_FAULTS` and `MSSCONF_MOCK_BEHAVIOURS` (comma-separated names), then the
    /// command line's names on top (a behaviour given there replaces the variable's choice of
    /// its family).
    pub fn from_env_and(faults: &[String], behaviours: &[String]) -> Result<Self, String> {
        let var = |name| std::env::var(name).unwrap_or_default();
        let mut set = FaultSet::parse_list(&var("MSSCONF_MOCK_FAULTS")).map_err(|e| format!("MSSCONF_MOCK_FAULTS: {e}"))?;
        for f in faults {
            set.insert(f.parse().map_err(|e| format!("--mock-fault: {e}"))?);
        }
        let from_var = BehaviourSet::parse_list(&var("MSSCONF_MOCK_BEHAVIOURS")).map_err(|e| format!("MSSCONF_MOCK_BEHAVIOURS: {e}"))?;
        let given = BehaviourSet::parse_list(&behaviours.join(",")).map_err(|e| format!("--mock-behaviour: {e}"))?;
        Ok(MockSwitches { faults: set, behaviours: from_var.into_iter().chain(given).collect() })
    }
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
    #[error("target profile {}: secret files are not private:\n{}", .0.display(), .1.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    SecretFiles(PathBuf, Vec<String>),
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
            let lax = crate::target::private_file::lax_files(&target);
            if !lax.is_empty() {
                return Err(TargetError::SecretFiles(path.clone(), lax));
            }
            Ok(AcquiredTarget { target, profile_path: path.clone(), mock: None })
        }
        TargetChoice::EmbeddedMock(switches) => {
            let dir = mock_state_dir();
            private_state_dir(&dir).map_err(TargetError::Mock)?;
            let mut config = MockConfig::new(dir.join("pki"));
            config.faults = switches.faults.clone();
            config.behaviours = switches.behaviours;
            let mock = MockOperator::start(config).await.map_err(|e| TargetError::Mock(e.to_string()))?;
            // Each instance writes its own profile: parallel runs must not share one file.
            let profile_path = dir.join(format!("target-{}-{}.yaml", std::process::id(), mock.endpoints().http.port()));
            write_new_private(&profile_path, mock.target_profile_yaml().as_bytes())
                .map_err(|e| TargetError::Mock(format!("{}: {e}", profile_path.display())))?;
            // The generated profile goes through the same loader as a user's.
            let target = load_target(&profile_path).map_err(|e| TargetError::Profile(profile_path.clone(), e))?;
            Ok(AcquiredTarget { target, profile_path, mock: Some(mock) })
        }
    }
}

/// The mock's state folder must be ours alone: another local user who planted it (or a symlink
/// in its place) could swap the PKI or the generated profile (and send exported tokens
/// elsewhere). Created 0700; one of ours left open is closed; anyone else's is refused.
pub fn private_state_dir(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        }
        let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.file_type().is_dir() || meta.uid() != me {
            return Err(format!(
                "{} is not a folder of yours (a symlink, a file, or another user's): remove it, or set TMPDIR to a private folder",
                dir.display()
            ));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(())
}

/// Writes a file that must not exist yet (never through a planted symlink), readable by its
/// owner only.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// What the run reports while it goes (console progress).
#[derive(Debug, Clone)]
pub enum RunEvent {
    Started { name: String },
    Finished { name: String, outcome: Outcome, reason: Option<String>, duration_ms: u64, advisories: usize },
    /// An attempt failed or errored and the scenario runs again (`--retries`).
    Retrying { name: String, attempt: u32, outcome: Outcome, reason: Option<String> },
}

pub fn new_run_id() -> String {
    let now = Utc::now();
    let nonce = crate::util::digest::sha256_hex(format!("{now:?}{}", std::process::id()).as_bytes());
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
        timing: None,
    }
}

/// One planned scenario: its index in the catalogue and the plan's decision.
pub type Case = (usize, Decision);

/// How [`execute_with`] runs the cases: the nightly-CI options of `mssconf run`.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Scenarios run at the same time (at least 1).
    pub jobs: usize,
    /// Extra attempts for a scenario that fails or ends in error; one that then passes is
    /// recorded as `flaky` with its earlier attempts.
    pub retries: u32,
    /// After the first scenario that ends (retries included) in fail or error, start no other.
    pub fail_fast: bool,
    /// Start no scenario (and no retry) after this instant (`--max-duration`).
    pub deadline: Option<Instant>,
    /// How the deadline was given, for the reason of the scenarios left out (`10m`).
    pub max_duration_label: Option<String>,
    /// Called in the scenario's task as each scenario that ran ends (after its retries), with
    /// its place in the results: evidence is written from there while the run goes on.
    pub on_finished: Option<FinishHook>,
}

/// See [`ExecOptions::on_finished`].
#[derive(Clone)]
pub struct FinishHook(pub Arc<dyn Fn(usize, &mut ScenarioResult) + Send + Sync>);

impl std::fmt::Debug for FinishHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FinishHook")
    }
}

impl ExecOptions {
    pub fn with_jobs(jobs: usize) -> Self {
        ExecOptions { jobs, ..Default::default() }
    }
}

/// Runs `cases` with at most `jobs` at a time; records come back in plan order. A scenario that
/// panics is recorded as `error`; `stop` (Ctrl-C, SIGTERM) leaves the unstarted ones
/// `interrupted`. Each record comes with its message bytes (for the `.eml` evidence).
pub async fn execute(
    env: Arc<RunEnv>,
    catalogue: Arc<Catalogue>,
    cases: Vec<Case>,
    jobs: usize,
    events: mpsc::UnboundedSender<RunEvent>,
    stop: watch::Receiver<bool>,
) -> Vec<ScenarioResult> {
    execute_with(env, catalogue, cases, ExecOptions::with_jobs(jobs), events, stop).await
}

/// [`execute`] with retries, fail-fast and a deadline. Scenarios not started because of Ctrl-C,
/// `fail_fast` or the deadline are recorded `interrupted`, with the cause as their reason.
pub async fn execute_with(
    env: Arc<RunEnv>,
    catalogue: Arc<Catalogue>,
    cases: Vec<Case>,
    options: ExecOptions,
    events: mpsc::UnboundedSender<RunEvent>,
    stop: watch::Receiver<bool>,
) -> Vec<ScenarioResult> {
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let halt = Halt::new(stop, options.clone());
    // Scenarios start in plan order: the dispatcher waits for a free slot before starting the
    // next one, so fail-fast and the deadline cut the plan at a predictable place.
    let mut slots = Vec::new();
    for (idx, decision) in cases {
        let loaded = &catalogue.scenarios[idx];
        if let Decision::Skip { reason } = &decision {
            slots.push(Slot::Done(Box::new(skipped_record(loaded, reason).into())));
            continue;
        }
        let permit = permits.clone().acquire_owned().await.expect("semaphore open");
        if let Some(why) = halt.reason() {
            let mut r = blank_record(loaded);
            r.outcome = Outcome::Interrupted;
            r.reason = Some(why);
            slots.push(Slot::Done(Box::new(r.into())));
            continue;
        }
        let (env, cat, events, halt) = (env.clone(), catalogue.clone(), events.clone(), halt.clone());
        let (retries, hook, slot) = (options.retries, options.on_finished.clone(), slots.len());
        slots.push(Slot::Running(idx, tokio::spawn(async move {
            let _permit = permit;
            let name = crate::plan::case_name(&cat.scenarios[idx].scenario);
            let _ = events.send(RunEvent::Started { name: name.clone() });
            let mut run = run_attempts(&env, &cat, idx, retries, &halt, &events).await;
            if let Some(FinishHook(hook)) = &hook {
                hook(slot, &mut run);
            }
            let record = &run.record;
            halt.after(record);
            let _ = events.send(RunEvent::Finished {
                name,
                outcome: record.outcome,
                reason: record.reason.clone(),
                duration_ms: record.duration_ms,
                advisories: record.advisories.len(),
            });
            run
        })));
    }
    let mut out = Vec::new();
    for slot in slots {
        match slot {
            Slot::Done(r) => out.push(*r),
            Slot::Running(idx, h) => match h.await {
                Ok(r) => out.push(r),
                Err(e) => {
                    // The task itself failed (cancelled): keep the scenario visible as an error.
                    let mut r = blank_record(&catalogue.scenarios[idx]);
                    r.reason = Some(format!("harness task failed: {e}"));
                    out.push(r.into());
                }
            },
        }
    }
    out
}

/// A case of the plan: recorded without running (skipped, interrupted) or running.
enum Slot {
    Done(Box<ScenarioResult>),
    Running(usize, tokio::task::JoinHandle<ScenarioResult>),
}

/// Why no new scenario may start: Ctrl-C, fail-fast after a failure, or the deadline.
#[derive(Clone)]
struct Halt {
    stop: watch::Receiver<bool>,
    failed: Arc<std::sync::Mutex<Option<String>>>,
    options: Arc<ExecOptions>,
}

impl Halt {
    fn new(stop: watch::Receiver<bool>, options: ExecOptions) -> Self {
        Halt { stop, failed: Default::default(), options: Arc::new(options) }
    }

    /// `Some(reason)` once new scenarios must not start.
    fn reason(&self) -> Option<String> {
        if *self.stop.borrow() {
            return Some("the run was interrupted before this scenario started".into());
        }
        if let Some(first) = self.failed.lock().ok().and_then(|f| f.clone()) {
            return Some(format!("not started: --fail-fast stopped the run after {first}"));
        }
        match self.options.deadline {
            Some(d) if Instant::now() >= d => Some(format!(
                "not started: --max-duration {} was reached",
                self.options.max_duration_label.as_deref().unwrap_or("limit")
            )),
            _ => None,
        }
    }

    /// Records the first final fail or error when fail-fast is on.
    fn after(&self, record: &ScenarioRecord) {
        if self.options.fail_fast
            && matches!(record.outcome, Outcome::Fail | Outcome::Error)
            && let Ok(mut first) = self.failed.lock()
            && first.is_none()
        {
            *first = Some(format!("`{}` ended in {}", record.id, record.outcome.name()));
        }
    }
}

/// Runs a scenario, then again while it fails or errors and retries are left (and the run is
/// not halting). A pass after a failed attempt is `flaky`; every earlier attempt is kept.
async fn run_attempts(
    env: &Arc<RunEnv>,
    cat: &Arc<Catalogue>,
    idx: usize,
    retries: u32,
    halt: &Halt,
    events: &mpsc::UnboundedSender<RunEvent>,
) -> ScenarioResult {
    let mut earlier = Vec::new();
    loop {
        let mut run = run_guarded(env.clone(), cat.clone(), idx).await;
        let record = &mut run.record;
        let retry = matches!(record.outcome, Outcome::Fail | Outcome::Error) && earlier.len() < retries as usize;
        if retry && halt.reason().is_none() {
            let attempt = AttemptRecord::of(record, earlier.len() as u32 + 1);
            let _ = events.send(RunEvent::Retrying {
                name: record.name.clone(),
                attempt: attempt.attempt,
                outcome: record.outcome,
                reason: record.reason.clone(),
            });
            earlier.push(attempt);
            continue;
        }
        if !earlier.is_empty() && record.outcome == Outcome::Pass {
            record.outcome = Outcome::Flaky;
            record.reason = Some(format!(
                "passed on attempt {} after {}",
                earlier.len() + 1,
                earlier.iter().map(|a| format!("{} ({})", a.outcome.name(), a.reason.as_deref().unwrap_or("no reason"))).collect::<Vec<_>>().join(", ")
            ));
        }
        record.attempts = earlier;
        return run;
    }
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

/// Where a run's time goes: the phases outside the scenarios (harness time) timed one after the
/// other, and the scenarios phase apart (split by the scenarios' own records).
#[derive(Debug, Clone)]
pub struct RunClock {
    start: std::time::Instant,
    mark: std::time::Instant,
    phases: std::collections::BTreeMap<String, u64>,
    scenarios: std::time::Duration,
}

impl RunClock {
    pub fn start() -> Self {
        let now = std::time::Instant::now();
        RunClock { start: now, mark: now, phases: Default::default(), scenarios: Default::default() }
    }

    /// Ends a harness phase begun at the previous mark (time adds up if the name repeats).
    pub fn phase(&mut self, name: &str) {
        let took = crate::exec::timing::millis(self.lap());
        *self.phases.entry(name.to_string()).or_default() += took;
    }

    /// Ends the scenarios phase begun at the previous mark.
    pub fn scenarios_done(&mut self) {
        let took = self.lap();
        self.scenarios += took;
    }

    fn lap(&mut self) -> std::time::Duration {
        let now = std::time::Instant::now();
        let took = now - self.mark;
        self.mark = now;
        took
    }

    /// The run's timing so far, from the scenarios' records and the phases timed.
    pub fn timing(&self, scenarios: &[ScenarioRecord]) -> RunTiming {
        let server_wait_ms = scenarios.iter().map(|s| s.server_wait_ms).sum();
        let scenarios_harness_ms: u64 = scenarios.iter().map(|s| s.harness_ms).sum();
        RunTiming {
            wall_ms: crate::exec::timing::millis(self.start.elapsed()),
            scenarios_wall_ms: crate::exec::timing::millis(self.scenarios),
            server_wait_ms,
            scenarios_harness_ms,
            harness_ms: scenarios_harness_ms + self.phases.values().sum::<u64>(),
            phases: self.phases.clone(),
        }
    }
}

/// The default report folder: `reports/<run id>/` under `root`.
pub fn default_report_dir(root: &Path, run_id: &str) -> PathBuf {
    root.join("reports").join(run_id)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    /// The mock's state folder: created 0700, tightened when ours and open, refused when it is
    /// a symlink (planted by someone else); the generated profile is never written through an
    /// existing file or symlink.
    #[test]
    fn the_mock_state_folder_is_private_and_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let fresh = tmp.path().join("fresh");
        private_state_dir(&fresh).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_state_dir(&open).unwrap();
        assert_eq!(std::fs::metadata(&open).unwrap().mode() & 0o777, 0o700);
        let planted = tmp.path().join("planted");
        std::os::unix::fs::symlink(&open, &planted).unwrap();
        let e = private_state_dir(&planted).unwrap_err();
        assert!(e.contains("not a folder of yours"), "{e}");

        let profile = fresh.join("target.yaml");
        write_new_private(&profile, b"name: mock\n").unwrap();
        assert_eq!(std::fs::metadata(&profile).unwrap().mode() & 0o777, 0o600);
        assert!(write_new_private(&profile, b"x").is_err(), "never overwritten");
        let elsewhere = tmp.path().join("elsewhere.yaml");
        let trap = fresh.join("trap.yaml");
        std::os::unix::fs::symlink(&elsewhere, &trap).unwrap();
        assert!(write_new_private(&trap, b"x").is_err() && !elsewhere.exists(), "never through a symlink");
    }
}
