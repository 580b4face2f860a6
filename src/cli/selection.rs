//! What `run` (and its dry run) will run: the filtered plan, checked against production gating,
//! then cut to the requested shard.

use super::run_modes::RunModeArgs;
use crate::plan::filter::Filter;
use crate::plan::production::{self, ProductionError};
use crate::plan::{PlannedCase, plan};
use crate::runner::TargetChoice;
use crate::scenario::catalogue::Catalogue;
use crate::target::model::Target;

/// The production gate of every command that connects to a target: `run`, `audit`, `proof`,
/// `load`, `bench` and the conformance harness all call it (the last three have no
/// `--production` flag, so a production profile is always refused there).
pub fn gate(target: &Target, production_flag: bool, embedded: bool) -> Result<(), ProductionError> {
    production::check_mode(&target.name, target.environment, production_flag, embedded)?;
    match crate::target::anchors::production_problem(target) {
        Some(why) => Err(ProductionError::Anchors { why }),
        None => Ok(()),
    }
}

/// Refusals known before the target is acquired (the embedded mock is never started for them).
pub fn check_choice(choice: &TargetChoice, modes: &RunModeArgs) -> Result<(), ProductionError> {
    match choice {
        TargetChoice::EmbeddedMock(_) if modes.production => Err(ProductionError::EmbeddedMock),
        _ => Ok(()),
    }
}

/// The audit's cases: as [`select`], except that on a production platform the scenarios the
/// auditor selects by name, tag, requirement or profile may run, not only the production test
/// (with no filter the selection is still the production test). They stay under the profile's
/// safety limits (submission rate and cap, pacing) and the production send guard (no `X-MSS-*`
/// header, no attachment), and each step waits for the go-ahead on screen.
pub fn select_audit<'a>(
    catalogue: &'a Catalogue,
    filter: &Filter,
    target: &Target,
    embedded: bool,
    modes: &RunModeArgs,
) -> Result<Vec<PlannedCase<'a>>, ProductionError> {
    gate(target, modes.production, embedded)?;
    Ok(plan(&catalogue.scenarios, filter, target))
}

/// The cases to run, in catalogue order. Production gating applies to the whole selection
/// before sharding, so every CI job of a sharded run refuses the same way.
pub fn select<'a>(
    catalogue: &'a Catalogue,
    filter: &Filter,
    target: &Target,
    embedded: bool,
    modes: &RunModeArgs,
) -> Result<Vec<PlannedCase<'a>>, ProductionError> {
    gate(target, modes.production, embedded)?;
    let planned = plan(&catalogue.scenarios, filter, target);
    production::check_selection(modes.production, planned.iter().map(|c| &c.loaded.scenario))?;
    Ok(match &modes.shard {
        Some(shard) => shard.keep(planned, |c| c.loaded.scenario.id.value.as_str()),
        None => planned,
    })
}
