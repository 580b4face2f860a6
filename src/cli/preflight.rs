//! `mssconf preflight --target FILE [--production] [--lang en] [--json]` (alias `doctor`): the
//! first step before an audit. Checks the profile, its files, every endpoint and every mailbox's
//! login, sends no message, and prints one line per check. Exit 0 when a run could start, 1 when
//! something must be fixed, 2 when the production gate refuses (nothing is contacted then).

use std::path::PathBuf;

use clap::Args;

use crate::lang::Lang;
use crate::exec::env::RunEnv;
use crate::exit_code;
use crate::preflight::{self, Finding, files, judge, profile, render};
use crate::target::load::load_target;

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// Target profile to check.
    #[arg(long, value_name = "FILE")]
    pub target: PathBuf,
    /// The target is marked `environment: production` (required for one, refused otherwise).
    #[arg(long)]
    pub production: bool,
    /// Language of the table.
    #[arg(long, value_enum, default_value_t = Lang::Fr)]
    pub lang: Lang,
    /// Print the findings as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: PreflightArgs) -> i32 {
    let target = match load_target(&args.target) {
        Ok(t) => t,
        Err(errors) => {
            let name = args.target.display().to_string();
            print(&name, &profile::load_errors(&errors), &args, None);
            return exit_code::FAILED;
        }
    };
    // Like every command that connects: a production profile needs --production.
    if let Err(e) = super::selection::gate(&target, args.production, false) {
        eprintln!("error: {e}");
        return exit_code::CONFIG;
    }
    let name = target.name.clone();
    let mut findings = profile::mailboxes(&target);
    findings.extend(files::check(&target, judge::today()));
    let env = match RunEnv::new(target, serde_json::Value::Null, PathBuf::new(), crate::runner::new_run_id()) {
        Ok(env) => env,
        Err(e) => {
            findings.push(Finding::fix(
                "network",
                "setup",
                preflight::same(e.to_string()),
                preflight::text("aucune connexion tentée : corriger d'abord les fichiers ci-dessus", "no connection tried: fix the files above first"),
            ));
            print(&name, &findings, &args, None);
            return exit_code::FAILED;
        }
    };
    let rt = match super::runtime::start(super::runtime::Threads::Current) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    findings.extend(rt.block_on(preflight::network_checks(&env)));
    print(&name, &findings, &args, Some(&env));
    if preflight::ready(&findings) { exit_code::OK } else { exit_code::FAILED }
}

/// The table or the JSON on stdout, with every secret the checks obtained scrubbed.
fn print(target: &str, findings: &[Finding], args: &PreflightArgs, env: Option<&RunEnv>) {
    let text = if args.json {
        serde_json::to_string_pretty(&render::json(target, findings)).unwrap_or_default()
    } else {
        render::table(target, findings, args.lang)
    };
    let text = env.map_or(text.clone(), |e| e.secrets.scrub(&text));
    println!("{}", text.trim_end());
}
