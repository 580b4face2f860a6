//! `cargo test --test conformance`: one libtest trial per catalogue scenario, named
//! `<profile>::<scenario id>`, run against `MSSCONF_TARGET` (a target profile) or, by default,
//! the embedded mock operator (`MSSCONF_MOCK_FAULTS` switches faults on, `MSSCONF_MOCK_BEHAVIOURS`
//! conformant behaviours). Evidence and reports
//! are written as for `mssconf run` (to `MSSCONF_REPORT_DIR`, default `reports/<run id>/`).
//! Production-tagged scenarios are ignored trials: `-- --ignored` runs them.
//! `MSSCONF_SHARD=K/N` (or `hash:K/N`) keeps the trials of one shard: the default selection is
//! split as `mssconf list --shard K/N` splits it, and the production-tagged scenarios as
//! `mssconf list --tag production --shard K/N` does. A profile marked `environment: production`
//! is refused: production runs go through `mssconf run --production`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mssconf::exec::env::RunEnv;
use mssconf::runner::scenario::{ScenarioResult, run_scenario_full, skipped_record};
use mssconf::plan::filter::PRODUCTION_TAG;
use mssconf::plan::shard::Shard;
use mssconf::plan::production;
use mssconf::plan::{Decision, Planner, case_name};
use mssconf::record::{Outcome, ScenarioRecord};
use mssconf::runner::{self, TargetChoice};
use mssconf::scenario::catalogue::{self, Catalogue, Sources};

struct Shared {
    rt: tokio::runtime::Runtime,
    env: Arc<RunEnv>,
    catalogue: Arc<Catalogue>,
    /// The plan's decision for each catalogue scenario (the one `mssconf run` takes).
    decisions: Vec<Decision>,
    /// Each trial's record and message bytes, by catalogue index.
    results: Mutex<Vec<(usize, ScenarioResult)>>,
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogue = match catalogue::load(&Sources::under(root)) {
        Ok(c) => Arc::new(c),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            std::process::exit(2);
        }
    };
    let in_shard = match std::env::var("MSSCONF_SHARD") {
        Ok(s) if !s.trim().is_empty() => match s.parse::<Shard>() {
            Ok(shard) => shard_indices(&catalogue, shard),
            Err(e) => fatal(&format!("MSSCONF_SHARD: {e}")),
        },
        _ => (0..catalogue.scenarios.len()).collect(),
    };
    if args.list {
        let trials = in_shard.iter().map(|&i| trial_shell(&catalogue.scenarios[i].scenario)).collect();
        libtest_mimic::run(&args, trials).exit();
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let choice = match std::env::var_os("MSSCONF_TARGET") {
        Some(p) => TargetChoice::Profile(PathBuf::from(p)),
        None => match runner::MockSwitches::from_env_and(&[], &[]) {
            Ok(switches) => TargetChoice::EmbeddedMock(switches),
            Err(e) => fatal(&e),
        },
    };
    let acquired = rt.block_on(runner::acquire(&choice)).unwrap_or_else(|e| fatal(&e.to_string()));
    // The same gate as `mssconf run` without `--production`.
    if let Err(e) = production::check_mode(&acquired.target.name, acquired.target.environment, false, acquired.mock.is_some()) {
        fatal(&format!("{e}; production runs go through `mssconf run --production --target …`"));
    }
    let run_id = runner::new_run_id();
    let env = RunEnv::new(acquired.target.clone(), catalogue.fixtures.clone(), root.join("fixtures"), run_id.clone())
        .unwrap_or_else(|e| fatal(&e.to_string()));
    let planner = Planner::new(&acquired.target);
    let decisions = catalogue.scenarios.iter().map(|l| planner.decide(l)).collect();
    let shared = Arc::new(Shared { rt, env, catalogue: catalogue.clone(), decisions, results: Mutex::new(Vec::new()) });
    let trials = in_shard.into_iter().map(|i| trial(shared.clone(), i)).collect();
    let conclusion = libtest_mimic::run(&args, trials);
    write_reports(&shared, root, &run_id, acquired.mock.is_some(), &acquired.target);
    if let Some(mock) = acquired.mock {
        shared.rt.block_on(mock.shutdown());
    }
    conclusion.exit();
}

/// Catalogue indices of the shard's trials, in catalogue order.
fn shard_indices(catalogue: &Catalogue, shard: Shard) -> Vec<usize> {
    let ids = |production: bool| {
        catalogue.scenarios.iter().filter(move |l| is_production(&l.scenario) == production).map(|l| l.scenario.id.value.as_str())
    };
    let members: BTreeSet<&str> = shard.members(ids(false)).into_iter().chain(shard.members(ids(true))).collect();
    (0..catalogue.scenarios.len()).filter(|&i| members.contains(catalogue.scenarios[i].scenario.id.value.as_str())).collect()
}

fn fatal(msg: &str) -> ! {
    eprintln!("conformance: {msg}");
    std::process::exit(2);
}

fn is_production(s: &mssconf::scenario::model::Scenario) -> bool {
    s.tags.iter().any(|t| t == PRODUCTION_TAG)
}

/// A trial for `--list`: same name, kind and ignored flag, never run.
fn trial_shell(s: &mssconf::scenario::model::Scenario) -> Trial {
    Trial::test(case_name(s), || Ok(())).with_ignored_flag(is_production(s))
}

fn trial(shared: Arc<Shared>, idx: usize) -> Trial {
    let scenario = &shared.catalogue.scenarios[idx].scenario;
    let name = case_name(scenario);
    let ignored = is_production(scenario);
    let s2 = shared.clone();
    Trial::ignorable_test(name, move || run_one(&s2, idx)).with_ignored_flag(ignored)
}

fn run_one(shared: &Shared, idx: usize) -> Result<Completion, Failed> {
    let loaded = &shared.catalogue.scenarios[idx];
    let result = match &shared.decisions[idx] {
        Decision::Skip { reason } => skipped_record(loaded, reason).into(),
        Decision::Run => shared.rt.block_on(run_scenario_full(shared.env.clone(), loaded)),
    };
    let verdict = verdict_of(&result.record);
    shared.results.lock().expect("results lock").push((idx, result));
    verdict
}

fn verdict_of(r: &ScenarioRecord) -> Result<Completion, Failed> {
    // Server text may be quoted: control characters made visible (terminal and CI logs).
    let printable = |t: &str| mssconf::util::visible::visible_keeping(t, &[]);
    let reason = printable(r.reason.as_deref().unwrap_or_default());
    // Not a failure, but never silent: libtest has no place for it beside `ok`.
    for advice in &r.advisories {
        eprintln!("note: {}: observation or préconisation not followed (not a failure): {}", r.id, printable(advice));
    }
    match r.outcome {
        Outcome::Pass | Outcome::Flaky => Ok(Completion::Completed),
        Outcome::Skip => Ok(Completion::ignored_with(format!("skipped: {reason}"))),
        Outcome::Fail => {
            let failed: Vec<String> = r
                .steps
                .iter()
                .flat_map(|s| s.checks.iter().filter(|c| c.fails()).map(move |c| format!("[{}] {}", s.title, printable(&c.summary()))))
                .collect();
            Err(format!("non conforme: {}", failed.join("\n  ")).into())
        }
        Outcome::Error | Outcome::Interrupted => Err(format!("error (could not observe): {reason}").into()),
    }
}

fn write_reports(shared: &Shared, root: &Path, run_id: &str, embedded: bool, target: &mssconf::target::model::Target) {
    let mut results = std::mem::take(&mut *shared.results.lock().expect("results lock"));
    if results.is_empty() {
        return;
    }
    results.sort_by_key(|(i, _)| *i);
    let mut record = runner::new_record(run_id, target, embedded, vec!["cargo test --test conformance".into()]);
    let (scenarios, messages) = results.into_iter().map(|(_, r)| (r.record, r.messages)).unzip();
    record.scenarios = scenarios;
    record.finished = Some(chrono::Utc::now());
    let dir = std::env::var_os("MSSCONF_REPORT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| runner::default_report_dir(root, run_id));
    // Evidence first: it records each file's path in the record the reports are written from.
    match mssconf::evidence::write_evidence(&mut record, messages, &dir, Default::default(), Some(&shared.env.secrets)) {
        Ok(files) => eprintln!("conformance: {} evidence file(s) written", files.len()),
        Err(e) => eprintln!("conformance: cannot write all the evidence: {e}"),
    }
    match mssconf::report::write_all(&record, &shared.catalogue.index, &dir, Default::default()) {
        Ok(_) => eprintln!("conformance reports written to {}", dir.display()),
        Err(e) => eprintln!("conformance: cannot write reports: {e}"),
    }
}
