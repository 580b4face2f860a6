//! `mssconf mock`: serve the mock operator in the foreground until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use mssconf_mock::behaviours::{Behaviour, BehaviourSet};
use mssconf_mock::faults::{Fault, FaultSet};
use mssconf_mock::{MockConfig, MockOperator, Ports};

use super::args::MockArgs;
use crate::exit_code;

pub fn main(args: MockArgs) -> i32 {
    if args.list_faults {
        for f in Fault::ALL {
            println!("{:<24} {}", f.name(), f.breaks());
        }
        return exit_code::OK;
    }
    if args.list_behaviours {
        for b in Behaviour::ALL {
            let default = if b.is_default() { " (default)" } else { "" };
            println!("{:<30} {}{default}", b.name(), b.describes());
        }
        return exit_code::OK;
    }
    let behaviours = match behaviours(&args.behaviour) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let mut faults = match FaultSet::parse_list(&std::env::var("MSSCONF_MOCK_FAULTS").unwrap_or_default()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: MSSCONF_MOCK_FAULTS: {e}");
            return exit_code::CONFIG;
        }
    };
    for name in &args.fault {
        match name.parse() {
            Ok(f) => faults.insert(f),
            Err(e) => {
                eprintln!("error: --fault: {e}");
                return exit_code::CONFIG;
            }
        }
    }
    super::runtime::block_on(super::runtime::Threads::Multi, serve(args, faults, behaviours))
}

/// `MSSCONF_MOCK_BEHAVIOURS`, then `--behaviour` on top (replacing the variable's choice of the
/// same family).
fn behaviours(given: &[String]) -> Result<BehaviourSet, String> {
    let from_var = BehaviourSet::parse_list(&std::env::var("MSSCONF_MOCK_BEHAVIOURS").unwrap_or_default())
        .map_err(|e| format!("MSSCONF_MOCK_BEHAVIOURS: {e}"))?;
    let given = BehaviourSet::parse_list(&given.join(",")).map_err(|e| format!("--behaviour: {e}"))?;
    Ok(from_var.into_iter().chain(given).collect())
}

async fn serve(args: MockArgs, faults: FaultSet, behaviours: BehaviourSet) -> i32 {
    let pki_dir = args.pki_dir.clone().unwrap_or_else(|| crate::runner::mock_state_dir().join("pki"));
    let mut config = MockConfig::new(pki_dir);
    config.faults = faults;
    config.behaviours = behaviours;
    config.log_wire = args.log_wire;
    if let Some(max) = args.max_message_size {
        config.max_message_size = max;
    }
    config.token_lifetime = args.lifetime;
    config.ports = Ports {
        smtp_starttls: args.smtp_port,
        smtp_implicit: args.smtps_port,
        imap_starttls: args.imap_port,
        imap_implicit: args.imaps_port,
        http: args.http_port,
    };
    let handle = match MockOperator::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    println!("mssconf mock operator listening (started in {} ms)", handle.startup_time().as_millis());
    println!("{}", handle.describe_endpoints());
    if let Some(path) = &args.write_target {
        if let Err(e) = handle.write_target(path) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit_code::CONFIG;
        }
        println!("target profile written to {}", absolute(path).display());
    }
    wait_for_signal().await;
    eprintln!("stopping");
    handle.shutdown().await;
    exit_code::OK
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
