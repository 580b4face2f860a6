//! `mssconf run`: plan, run, report, exit code.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::args::RunArgs;
use super::catalogue_cmds::{filter, load_or_report};
use crate::exec::env::RunEnv;
use crate::exit_code;
use crate::record::Outcome;
use crate::runner::{self, TargetChoice};

pub fn main(args: RunArgs) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::CONFIG;
        }
    };
    rt.block_on(run(args))
}

fn target_choice(args: &RunArgs) -> Result<TargetChoice, String> {
    match &args.target {
        Some(p) => {
            if !args.mock_fault.is_empty() {
                return Err("--mock-fault applies to the embedded mock only (no --target)".into());
            }
            Ok(TargetChoice::Profile(p.clone()))
        }
        None => {
            let mut faults = mssconf_mock::faults::FaultSet::parse_list(&std::env::var("MSSCONF_MOCK_FAULTS").unwrap_or_default())
                .map_err(|e| format!("MSSCONF_MOCK_FAULTS: {e}"))?;
            for f in &args.mock_fault {
                faults.insert(f.parse().map_err(|e| format!("--mock-fault: {e}"))?);
            }
            Ok(TargetChoice::EmbeddedMock(faults))
        }
    }
}

async fn run(args: RunArgs) -> i32 {
    let catalogue = match load_or_report(&args.catalogue) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let filter = match filter(&args.filter) {
        Ok(f) => crate::plan::production::default_filter(f, args.modes.production),
        Err(code) => return code,
    };
    let choice = match target_choice(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    if let Err(e) = super::selection::check_choice(&choice, &args.modes) {
        eprintln!("error: {e}");
        return exit_code::CONFIG;
    }
    if args.modes.dry_run {
        return super::dry_run::main(&args, &catalogue, &filter, &choice);
    }
    let acquired = match runner::acquire(&choice).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let embedded = acquired.mock.is_some();
    if let Some(m) = &acquired.mock {
        eprintln!("embedded mock operator started:\n{}", m.describe_endpoints());
    }
    let root = args.catalogue.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let run_id = runner::new_run_id();
    let report_dir = args.report_dir.clone().unwrap_or_else(|| runner::default_report_dir(&root, &run_id));
    let planned = match super::selection::select(&catalogue, &filter, &acquired.target, embedded, &args.modes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(m) = acquired.mock {
                m.shutdown().await;
            }
            return exit_code::CONFIG;
        }
    };
    let cases: Vec<runner::Case> = planned
        .iter()
        .map(|c| (catalogue.scenarios.iter().position(|l| std::ptr::eq(l, c.loaded)).unwrap_or(0), c.decision.clone()))
        .collect();
    if cases.is_empty() {
        eprintln!("no scenario matches the filters");
    }
    let env = match RunEnv::new(acquired.target.clone(), catalogue.fixtures.clone(), root.join("fixtures"), run_id.clone()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let mut record = runner::new_record(&run_id, &acquired.target, embedded, selection(&args));
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress = tokio::spawn(super::progress::show(rx, cases.len() as u64));
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupt: finishing running scenarios, not starting new ones");
            let _ = stop_tx.send(true);
        }
    });
    let options = args.modes.exec_options(args.jobs);
    record.scenarios = runner::execute_with(env, catalogue.clone(), cases, options, tx, stop_rx).await;
    ctrl_c.abort();
    let _ = progress.await;
    record.finished = Some(chrono::Utc::now());
    if let Some(m) = acquired.mock {
        m.shutdown().await;
    }
    // Only the embedded mock's generated profile is ours to remove, never the user's --target.
    if embedded {
        let _ = std::fs::remove_file(&acquired.profile_path);
    }
    match crate::report::write_all(&record, &catalogue.index, &report_dir, args.lang) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {}", f.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    }
    print_summary(&record);
    if record.all_passed() { exit_code::OK } else { exit_code::FAILED }
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
}
