//! `mssconf proof --target PROFILE [--report-dir DIR] [--sign-key FILE]`: the production
//! technical test. Runs only `production`-tagged scenarios (the same run as `mssconf run`), then
//! writes `preuve-test-production.png` and the bundle of the run.

use std::sync::Arc;

use super::args::{FilterArgs, ProofArgs, RunArgs};
use super::catalogue_cmds::load_or_report;
use super::run::run_and_report;
use crate::evidence::bundle::{BundleOptions, create_bundle_with, keys};
use crate::evidence::card::production::PRODUCTION_PROOF_FILE;
use crate::evidence::proofs::is_production;
use crate::exit_code;
use crate::plan::filter::{Filter, PRODUCTION_TAG};
use crate::record::Outcome;
use crate::scenario::catalogue::Catalogue;

pub fn main(args: ProofArgs) -> i32 {
    super::runtime::block_on(super::runtime::Threads::Multi, proof(args))
}

/// The production filter: `--tag` may only say `production`, and every `--scenario` must
/// name production-tagged scenarios only.
fn production_filter(args: &FilterArgs, catalogue: &Catalogue) -> Result<Filter, String> {
    if let Some(t) = args.tag.iter().find(|t| *t != PRODUCTION_TAG) {
        return Err(format!("`mssconf proof` runs the production test only; --tag {t} is not allowed"));
    }
    for pattern in &args.scenario {
        let by_id = Filter::new(vec![pattern.clone()], vec![], vec![], &[]).map_err(|e| e.to_string())?;
        let matched: Vec<_> = catalogue.scenarios.iter().map(|l| &l.scenario).filter(|s| by_id.selects(s)).collect();
        if matched.is_empty() {
            return Err(format!("--scenario {pattern} matches no scenario"));
        }
        if let Some(s) = matched.iter().find(|s| !s.tags.iter().any(|t| t == PRODUCTION_TAG)) {
            return Err(format!("--scenario {pattern} selects {}, which is not tagged `{PRODUCTION_TAG}`", s.id.value));
        }
    }
    Filter::new(args.scenario.clone(), vec![PRODUCTION_TAG.into()], args.requirement.clone(), &args.profile).map_err(|e| e.to_string())
}

async fn proof(args: ProofArgs) -> i32 {
    // Read the key first: a refused key must not cost a production run.
    let key = match args.sign_key.as_deref().map(keys::read_signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let catalogue = match load_or_report(&args.catalogue) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let filter = match production_filter(&args.filter, &catalogue) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let run_args = RunArgs {
        catalogue: args.catalogue.clone(),
        filter: FilterArgs { tag: vec![PRODUCTION_TAG.into()], ..args.filter.clone() },
        target: args.target.clone(),
        jobs: 1,
        report_dir: args.report_dir.clone(),
        lang: args.lang,
        mock_fault: args.mock_fault.clone(),
        mock_behaviour: Vec::new(),
        // The same gate as `run`: a production profile needs `--production`, given by the user.
        modes: super::run_modes::RunModeArgs { production: args.production, ..Default::default() },
    };
    let done = match run_and_report(&run_args, catalogue, &filter).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let production: Vec<_> = done.record.scenarios.iter().filter(|s| is_production(s)).collect();
    if production.is_empty() {
        eprintln!("error: the catalogue has no `{PRODUCTION_TAG}`-tagged scenario (see scenarios/production/)");
        return exit_code::CONFIG;
    }
    let picture = done.report_dir.join(PRODUCTION_PROOF_FILE);
    // One production test per kind of mailbox (PER with a token, APP with a certificate): the
    // proof needs one that ran; the others are skipped for want of their mailbox or profile.
    let not_run = |s: &&&crate::record::ScenarioRecord| s.outcome == Outcome::Skip || s.outcome == Outcome::Interrupted;
    let none_ran = production.iter().all(|s| not_run(&s));
    match create_bundle_with(&done.report_dir, &BundleOptions { key: key.as_ref(), envoi: args.envoi, ..Default::default() }) {
        Ok(path) => eprintln!("wrote {}", path.display()),
        Err(e) => {
            eprintln!("error: bundle: {e}");
            return exit_code::CONFIG;
        }
    }
    if picture.is_file() {
        eprintln!("production proof: {}", picture.display());
    }
    if none_ran {
        for s in &production {
            eprintln!("error: the production test {} did not run: {}", s.id, super::progress::printable(s.reason.as_deref().unwrap_or("-")));
        }
        return exit_code::CONFIG;
    }
    done.exit_code()
}
