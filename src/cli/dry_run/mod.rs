//! `mssconf run --dry-run`: the plan, printed, with no network access at all. The target
//! profile is only read; the embedded mock is not started (its profile is rendered with
//! placeholder ports `:0`); no token is fetched. The same selection rules as a real run apply
//! (filters, production gating, shard), so what is printed is what would run.
//!
//! Exit 0 when the plan is clean, 1 when it holds something the harness would refuse at run
//! time (undeclared host or recipient, more messages than `rate.max_messages_per_run`), 2 on
//! configuration errors.

mod facts;

use std::path::PathBuf;

use serde_json::Value;

use crate::plan::describe::totals::Totals;
use crate::plan::settle::settle;
use crate::plan::describe::{self, Checks, Context};

use super::args::RunArgs;
use crate::exit_code;
use crate::fixtures::guard::Guard;
use crate::plan::Decision;
use crate::plan::filter::Filter;
use crate::runner::TargetChoice;
use crate::scenario::catalogue::Catalogue;
use crate::scenario::interpolate::Vars;
use crate::scenario::model::Scenario;
use crate::target::allow::HostAllowList;
use crate::target::load::load_target;
use crate::target::model::Target;

pub fn main(args: &RunArgs, catalogue: &Catalogue, filter: &Filter, choice: &TargetChoice) -> i32 {
    let (target, embedded, origin) = match dry_target(choice) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let planned = match super::selection::select(catalogue, filter, &target, embedded, &args.modes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let root = args.catalogue.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let vars = vars(&target, &catalogue.fixtures);
    let hosts = HostAllowList::of(&target);
    let guard = Guard::new(&catalogue.fixtures, &target).map_err(|e| e.to_string());
    let fixtures_dir = root.join("fixtures");
    let executor = facts::Executor { target: &target, vars: &vars, fixtures: &catalogue.fixtures, fixtures_dir: &fixtures_dir };
    let render = |t: &str| vars.render(t).unwrap_or_else(|_| t.to_string());
    let cx = Context { target: &target, render: &render, checks: Some(Checks { guard: &guard, hosts: &hosts }), exec: Some(&executor) };
    println!("DRY RUN: nothing is contacted, no message is sent.");
    let environment = format!("{:?}", target.environment).to_lowercase();
    println!("target `{}` (environment: {environment}) from {origin}", target.name);
    println!("declared hosts: {}", hosts.hosts().collect::<Vec<_>>().join(", "));
    println!("rate: {} message(s) per minute, at most {} per run", target.rate.messages_per_minute, target.rate.max_messages_per_run);
    println!(
        "pacing: at most {} connection(s) open at once and {} new per second, per host; a refusal for now (421) retried {} time(s), first after {} ms",
        target.rate.max_parallel_connections, target.rate.connections_per_second, target.rate.busy_retries, target.rate.busy_backoff_ms
    );
    let mut total = Totals::default();
    let (mut run, mut skipped) = (0, 0);
    for case in &planned {
        println!();
        match &case.decision {
            Decision::Skip { reason } => {
                skipped += 1;
                println!("SKIP {}: {reason}", case.name);
            }
            Decision::Run => {
                run += 1;
                println!("RUN  {} — {}", case.name, case.loaded.scenario.title);
                // Described as it would run: expectations settled by the plan.
                let settled = match settle(&case.loaded.scenario, &vars) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        println!("  the scenario would end in error: {e}");
                        None
                    }
                };
                let (lines, scenario) = scenario_lines(&cx, settled.as_ref().unwrap_or(&case.loaded.scenario));
                for line in &lines {
                    println!("  {line}");
                }
                total.add(scenario, &case.loaded.scenario.id.value);
            }
        }
    }
    summarize(&total, run, skipped, &target, args.modes.retries)
}

/// What a scenario would do, step by step, and what it adds to the plan's totals: the plan's
/// description of each step (the audit screen renders the same one in French).
pub fn scenario_lines(cx: &Context<'_>, s: &Scenario) -> (Vec<String>, Totals) {
    let (mut lines, mut totals) = (Vec::new(), Totals::default());
    for (i, step) in s.steps.iter().enumerate() {
        let d = describe::step(step, cx);
        lines.extend(describe::en::lines(i + 1, &d));
        totals.add_step(&d);
    }
    (lines, totals)
}

fn summarize(total: &Totals, run: usize, skipped: usize, target: &Target, retries: u32) -> i32 {
    println!();
    let hosts: Vec<&str> = total.hosts.iter().map(String::as_str).collect();
    println!(
        "plan: {run} scenario(s) to run, {skipped} skipped; {} connection(s) to {} host(s) ({})",
        total.connections,
        hosts.len(),
        hosts.join(", ")
    );
    println!("{}", pacing_line(total, target));
    let worst = total.messages * (1 + retries as usize);
    let retried = if retries > 0 { format!(" (up to {worst} with --retries {retries})") } else { String::new() };
    let pace = (total.messages.saturating_sub(1) as u64 * 60).div_ceil(target.rate.messages_per_minute.max(1) as u64);
    println!("messages to send: {}{retried}; at {}/min they take at least {pace} s", total.messages, target.rate.messages_per_minute);
    let mut refusals = total.refusals.clone();
    if worst > target.rate.max_messages_per_run as usize {
        refusals.push(format!(
            "safety: up to {worst} message(s) planned but `rate.max_messages_per_run` is {}: the messages over the cap will not be sent",
            target.rate.max_messages_per_run
        ));
    }
    if refusals.is_empty() {
        return exit_code::OK;
    }
    println!("the harness would refuse ({}):", refusals.len());
    for r in &refusals {
        println!("  {r}");
    }
    exit_code::FAILED
}

/// The connection pacing and the least time it imposes: the busiest host's connection starts,
/// spaced by `rate.connections_per_second` (busy retries and `--retries` add to it).
fn pacing_line(total: &Totals, target: &Target) -> String {
    let r = &target.rate;
    let busiest = total.per_host.iter().max_by_key(|(_, n)| **n);
    let least = busiest.map_or(std::time::Duration::ZERO, |(_, n)| crate::exec::pacing::minimum_time(r, *n));
    let host = busiest.map(|(h, n)| format!(" (busiest host {h}: {n})")).unwrap_or_default();
    format!(
        "connections to open: {}; at {}/s per host they take at least {:.1} s{host}",
        total.connections,
        r.connections_per_second,
        least.as_secs_f64()
    )
}

fn vars(target: &Target, fixtures: &Value) -> Vars {
    Vars::at_start(serde_json::to_value(target).unwrap_or(Value::Null), fixtures.clone())
}

/// The target a dry run plans against, whether it is the embedded mock, and where it comes from.
fn dry_target(choice: &TargetChoice) -> Result<(Target, bool, String), String> {
    match choice {
        TargetChoice::Profile(path) => {
            let t = load_target(path).map_err(|e| crate::runner::TargetError::Profile(path.clone(), e).to_string())?;
            Ok((t, false, path.display().to_string()))
        }
        TargetChoice::EmbeddedMock(_) => {
            let t = unstarted_mock()?;
            Ok((t, true, "the embedded mock operator (not started: ports shown as 0)".into()))
        }
    }
}

/// The embedded mock's profile with placeholder ports, without starting it or touching its PKI.
fn unstarted_mock() -> Result<Target, String> {
    use mssconf_mock::{Endpoints, MockConfig, accounts::Accounts, pki::PkiFiles, profile};
    let config = MockConfig::new(crate::runner::mock_state_dir().join("pki"));
    let zero = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
    let endpoints = Endpoints { smtp_starttls: zero, smtp_implicit: zero, imap_starttls: zero, imap_implicit: zero, http: zero };
    let yaml = profile::render(&profile::ProfileInput {
        host_name: &config.host_name,
        endpoints: &endpoints,
        pki: &PkiFiles::in_dir(&config.pki_dir.join(mssconf_mock::pki::FORMAT_DIR)),
        accounts: &Accounts::standard(&config.domain),
        max_message_size: config.max_message_size,
    });
    let file = tempfile::Builder::new().prefix("mssconf-dry-run-").suffix(".yaml").tempfile().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), yaml).map_err(|e| format!("{}: {e}", file.path().display()))?;
    load_target(file.path()).map_err(|e| crate::runner::TargetError::Profile(file.path().to_path_buf(), e).to_string())
}
