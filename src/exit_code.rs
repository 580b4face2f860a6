//! Process exit codes of `mssconf`, documented in the README (the exit code table). A run
//! tells a non-conformance from a run that could not observe everything, as Hurl tells an
//! assertion error from a runtime error.

use crate::record::{Outcome, RunRecord};

/// Everything ran and passed (or was validly skipped, or was flaky).
pub const OK: i32 = 0;
/// `run`/`audit`: at least one scenario failed (« non conforme »). Other commands: a defect
/// (`validate`), a regression (`diff`), a plan the harness would refuse (`run --dry-run`).
pub const FAILED: i32 = 1;
/// Usage or configuration error (bad flag, unreadable target profile, catalogue not loadable),
/// before any connection.
pub const CONFIG: i32 = 2;
/// `run`/`audit`: no scenario failed, but at least one ended in error (« erreur »: the harness
/// could not observe) or was interrupted.
pub const ERROR: i32 = 3;
/// `run`/`audit`: the reports were written but the evidence files could not all be.
pub const EVIDENCE: i32 = 4;

/// The exit code of a finished run: an evidence failure first, then a non-conformance, then a
/// scenario that could not be observed to its end.
pub fn of_run(record: &RunRecord, evidence_failed: bool) -> i32 {
    let any = |o: Outcome| record.scenarios.iter().any(|s| s.outcome == o);
    if evidence_failed {
        EVIDENCE
    } else if any(Outcome::Fail) {
        FAILED
    } else if any(Outcome::Error) || any(Outcome::Interrupted) {
        ERROR
    } else {
        OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{run_with, scenario_with_session};

    fn run(outcomes: &[Outcome]) -> RunRecord {
        let scenario = |o: Outcome| crate::record::ScenarioRecord { outcome: o, ..scenario_with_session() };
        run_with(outcomes.iter().map(|&o| scenario(o)).collect())
    }

    #[test]
    fn a_run_tells_non_conformance_from_error_from_lost_evidence() {
        use Outcome::*;
        assert_eq!(of_run(&run(&[Pass, Skip, Flaky]), false), OK);
        assert_eq!(of_run(&run(&[Pass, Error, Fail]), false), FAILED);
        assert_eq!(of_run(&run(&[Pass, Error]), false), ERROR);
        assert_eq!(of_run(&run(&[Pass, Interrupted]), false), ERROR);
        assert_eq!(of_run(&run(&[Fail]), true), EVIDENCE);
        assert_eq!(of_run(&run(&[Pass]), true), EVIDENCE);
    }
}
