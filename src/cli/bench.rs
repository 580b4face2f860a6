//! `mssconf bench [--quick]`: print each performance figure beside its baseline.

use std::path::PathBuf;

use clap::Args;

use crate::bench::{self, BenchConfig};
use crate::exit_code;

/// Where `scripts/peer/start.sh` writes the peer's profile.
const DEFAULT_PEER: &str = "targets/local-peer.yaml";

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Smaller counts: the whole bench in under 60 s.
    #[arg(long)]
    pub quick: bool,
    /// Target profile of the Postfix+Dovecot peer (default: targets/local-peer.yaml if present;
    /// without it the peer figures are skipped with the reason).
    #[arg(long, value_name = "PROFILE")]
    pub peer: Option<PathBuf>,
    /// Project root holding `scenarios/` and `fixtures/` (default: current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Measure only these figure groups (repeatable).
    #[arg(long, value_name = "GROUP", value_parser = clap::builder::PossibleValuesParser::new(crate::bench::GROUPS))]
    pub only: Vec<String>,
    /// Where figures are written as `bench.json`, with plots and scratch files.
    #[arg(long, value_name = "DIR", default_value = "reports/bench")]
    pub out: PathBuf,
}

pub fn main(args: BenchArgs) -> i32 {
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let rt = match super::runtime::start(super::runtime::Threads::Multi) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let lines = rt.block_on(bench::run_all(&cfg, |line| println!("{line}")));
    let json = match serde_json::to_vec_pretty(&lines) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: cannot encode bench.json: {e}");
            return exit_code::CONFIG;
        }
    };
    let path = cfg.work_dir.join("bench.json");
    if let Err(e) = crate::util::atomic::write_atomic(&path, &json) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return exit_code::CONFIG;
    }
    exit_code::OK
}

fn config(args: &BenchArgs) -> Result<BenchConfig, String> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let peer = match &args.peer {
        Some(p) if !p.is_file() => return Err(format!("--peer {}: no such profile", p.display())),
        Some(p) => Some(p.clone()),
        None => Some(root.join(DEFAULT_PEER)).filter(|p| p.is_file()),
    };
    // The bench sends many messages: a production profile is refused before anything runs
    // (a profile that does not load is reported by the figures that need it).
    if let Some(t) = peer.as_deref().and_then(|p| crate::target::load::load_target(p).ok()) {
        super::selection::gate(&t, false, false).map_err(|e| format!("--peer {}: {e}", t.name))?;
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    // Children run in other folders: every path handed to them must be absolute.
    let work_dir = args.out.canonicalize().map_err(|e| format!("{}: {e}", args.out.display()))?;
    let root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the mssconf executable: {e}"))?;
    Ok(BenchConfig {
        quick: args.quick,
        root,
        peer,
        work_dir,
        exe,
        only: args.only.clone(),
    })
}
