//! `mssconf run`: plan, run, report, exit code.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::args::RunArgs;
use super::catalogue_cmds::{filter, load_or_report};
use crate::exec::env::RunEnv;
use crate::exit_code;
use crate::plan::filter::Filter;
use crate::record::{Outcome, RunRecord};
use crate::scenario::catalogue::Catalogue;
use crate::runner::{self, TargetChoice};

pub fn main(args: RunArgs) -> i32 {
    super::runtime::block_on(super::runtime::Threads::Multi, run(args))
}

fn target_choice(args: &RunArgs) -> Result<TargetChoice, String> {
    match &args.target {
        Some(p) => {
            if !args.mock_fault.is_empty() || !args.mock_behaviour.is_empty() {
                return Err("--mock-fault and --mock-behaviour apply to the embedded mock only (no --target)".into());
            }
            Ok(TargetChoice::Profile(p.clone()))
        }
        None => Ok(TargetChoice::EmbeddedMock(runner::MockSwitches::from_env_and(&args.mock_fault, &args.mock_behaviour)?)),
    }
}

async fn run(args: RunArgs) -> i32 {
    let mut clock = runner::RunClock::start();
    let catalogue = match load_or_report(&args.catalogue) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let filter = match filter(&args.filter) {
        Ok(f) => crate::plan::production::default_filter(f, args.modes.production),
        Err(code) => return code,
    };
    clock.phase("load");
    match run_and_report_timed(&args, catalogue, &filter, clock).await {
        Ok(done) => done.exit_code(),
        Err(code) => code,
    }
}

/// A finished run: its record (evidence file paths filled in) and its report folder.
pub struct Finished {
    pub record: RunRecord,
    pub report_dir: PathBuf,
    /// The evidence files could not all be written (the reports were).
    pub evidence_failed: bool,
}

impl Finished {
    pub fn exit_code(&self) -> i32 {
        exit_code::of_run(&self.record, self.evidence_failed)
    }
}

/// Runs the scenarios `filter` selects against the target of `args`, then writes the evidence
/// and the reports (shared by `run` and `proof`). `Err` is an exit code: nothing could run.
pub async fn run_and_report(args: &RunArgs, catalogue: Arc<Catalogue>, filter: &Filter) -> Result<Finished, i32> {
    run_and_report_timed(args, catalogue, filter, runner::RunClock::start()).await
}

/// [`run_and_report`] on a clock started by the caller (the catalogue's loading counts).
async fn run_and_report_timed(args: &RunArgs, catalogue: Arc<Catalogue>, filter: &Filter, mut clock: runner::RunClock) -> Result<Finished, i32> {
    let choice = target_choice(args).map_err(|e| {
        eprintln!("error: {e}");
        exit_code::CONFIG
    })?;
    if let Err(e) = super::selection::check_choice(&choice, &args.modes) {
        eprintln!("error: {e}");
        return Err(exit_code::CONFIG);
    }
    if args.modes.dry_run {
        return Err(super::dry_run::main(args, &catalogue, filter, &choice));
    }
    let acquired = runner::acquire(&choice).await.map_err(|e| {
        eprintln!("error: {e}");
        exit_code::CONFIG
    })?;
    clock.phase("target");
    let embedded = acquired.mock.is_some();
    if let Some(m) = &acquired.mock {
        eprintln!("embedded mock operator started:\n{}", m.describe_endpoints());
    }
    let root = args.catalogue.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let run_id = runner::new_run_id();
    let report_dir = args.report_dir.clone().unwrap_or_else(|| runner::default_report_dir(&root, &run_id));
    let planned = match super::selection::select(&catalogue, filter, &acquired.target, embedded, &args.modes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(m) = acquired.mock {
                m.shutdown().await;
            }
            return Err(exit_code::CONFIG);
        }
    };
    let cases: Vec<runner::Case> = planned
        .iter()
        .map(|c| (catalogue.scenarios.iter().position(|l| std::ptr::eq(l, c.loaded)).unwrap_or(0), c.decision.clone()))
        .collect();
    if cases.is_empty() {
        eprintln!("no scenario matches the filters");
    }
    let env = RunEnv::new(acquired.target.clone(), catalogue.fixtures.clone(), root.join("fixtures"), run_id.clone()).map_err(|e| {
        eprintln!("error: {e}");
        exit_code::CONFIG
    })?;
    let mut record = runner::new_record(&run_id, &acquired.target, embedded, selection(args));
    clock.phase("plan");
    let running = cases.iter().filter(|(_, d)| !matches!(d, crate::plan::Decision::Skip { .. }));
    let used = crate::runner::identity::endpoints_used(running.map(|(i, _)| &catalogue.scenarios[*i].scenario));
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_rx_copy = stop_rx.clone();
    let progress = tokio::spawn(super::progress::show(rx, cases.len() as u64));
    let stopper = tokio::spawn(async move {
        let signal = stop_signal().await;
        eprintln!("{signal}: finishing running scenarios, not starting new ones");
        let _ = stop_tx.send(true);
    });
    let mut options = args.modes.exec_options(args.jobs);
    // Evidence is written as scenarios end; a folder that cannot be prepared is found now.
    let workers = crate::evidence::stream::default_workers();
    let stream = match crate::evidence::stream::EvidenceStream::start(&report_dir, &record, args.lang, Some(&env.secrets), workers) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: evidence: {e}");
            if let Some(m) = acquired.mock {
                m.shutdown().await;
            }
            return Err(exit_code::CONFIG);
        }
    };
    let sink = stream.clone();
    options.on_finished = Some(runner::FinishHook(Arc::new(move |slot, run| sink.submit(slot, &run.record, &mut run.messages))));
    let runs = runner::execute_with(env.clone(), catalogue.clone(), cases, options, tx, stop_rx).await;
    clock.scenarios_done();
    // After the scenarios, so that no scenario meets a server this extra session disturbed
    // (first-session faults, connection limits); skipped when the run was stopped.
    if !used.is_empty() && !*stop_rx_copy.borrow() {
        let observed = crate::runner::identity::observe(&env, &used).await;
        record.service_identity = Some(crate::verdict::identity::compare(&acquired.target, observed));
    }
    stopper.abort();
    let _ = progress.await;
    record.scenarios = runs.into_iter().map(|r| r.record).collect();
    record.finished = Some(chrono::Utc::now());
    if let Some(m) = acquired.mock {
        m.shutdown().await;
    }
    // Only the embedded mock's generated profile is ours to delete, never a user's --target.
    if embedded {
        let _ = std::fs::remove_file(&acquired.profile_path);
    }
    clock.phase("target");
    let evidence = match Arc::try_unwrap(stream) {
        Ok(stream) => stream.finish_with_identity(&mut record.scenarios, record.service_identity.clone()),
        Err(_) => Err(crate::evidence::EvidenceError::Render { proof: "?".into(), reason: "the evidence writers were still in use".into() }),
    };
    let evidence_failed = match evidence {
        Ok(files) => {
            eprintln!("wrote {} evidence file(s) under {}", files.len(), report_dir.display());
            false
        }
        Err(e) => {
            eprintln!("error: evidence: {e}");
            true
        }
    };
    clock.phase("evidence");
    record.timing = Some(clock.timing(&record.scenarios));
    match crate::report::write_all(&record, &catalogue.index, &report_dir, args.lang) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {}", f.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(exit_code::CONFIG);
        }
    }
    clock.phase("report");
    // report.json once more, with the time the reports took (the first write cannot know it).
    record.timing = Some(clock.timing(&record.scenarios));
    if let Err(e) = rewrite_json(&record, &catalogue, &report_dir) {
        eprintln!("error: {e}");
        return Err(exit_code::CONFIG);
    }
    print_summary(&record);
    Ok(Finished { record, report_dir, evidence_failed })
}

fn rewrite_json(record: &RunRecord, catalogue: &Catalogue, dir: &std::path::Path) -> Result<(), crate::report::ReportError> {
    crate::report::json::write_json(&dir.join(crate::report::JSON_FILE), record, &catalogue.index)
}

/// Waits for Ctrl-C or (on Unix) SIGTERM and names the one that came.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = ctrl_c_or_never() => "interrupt",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    ctrl_c_or_never().await;
    "interrupt"
}

/// Ctrl-C; never returns when no handler can be installed (the run must not stop by itself).
async fn ctrl_c_or_never() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn selection(args: &RunArgs) -> Vec<String> {
    let f = &args.filter;
    let mut s = Vec::new();
    s.extend(f.scenario.iter().map(|x| format!("--scenario {x}")));
    s.extend(f.tag.iter().map(|x| format!("--tag {x}")));
    s.extend(f.requirement.iter().map(|x| format!("--requirement {x}")));
    s.extend(f.profile.iter().map(|x| format!("--profile {x}")));
    s.push(format!("--jobs {}", args.jobs));
    s.extend(args.modes.describe());
    s
}

fn print_summary(r: &crate::record::RunRecord) {
    eprintln!(
        "{} scenario(s): {} passed, {} flaky, {} failed, {} error(s), {} skipped, {} interrupted",
        r.scenarios.len(),
        r.count(Outcome::Pass),
        r.count(Outcome::Flaky),
        r.count(Outcome::Fail),
        r.count(Outcome::Error),
        r.count(Outcome::Skip),
        r.count(Outcome::Interrupted)
    );
    // Flaky alone keeps exit 0, so it must not go unnoticed in a CI log.
    let flaky: Vec<&str> = r.scenarios.iter().filter(|s| s.outcome == Outcome::Flaky).map(|s| s.id.as_str()).collect();
    if !flaky.is_empty() {
        eprintln!("WARNING: {} scenario(s) FLAKY (passed only on a retry): {}", flaky.len(), flaky.join(", "));
    }
    // Never a failure (exit code unchanged), but said: an auditor reads them.
    let advised: Vec<&str> = r.scenarios.iter().filter(|s| !s.advisories.is_empty()).map(|s| s.id.as_str()).collect();
    if !advised.is_empty() {
        eprintln!("NOTE: {} scenario(s) with observations or préconisations not followed (not failures): {}", advised.len(), advised.join(", "));
    }
}
