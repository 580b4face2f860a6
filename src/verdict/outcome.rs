//! Outcomes: of a step from what it produced, of a scenario from its steps. Pure functions: the
//! runner records what they decide.

use serde::{Deserialize, Serialize};

use super::check::Check;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// The harness could not observe (connection refused, timeout, malformed reply…).
    Error,
    Skip,
    /// The run was stopped before this scenario finished.
    Interrupted,
    /// Failed or ended in error, then passed on a retry (`--retries`). Never a plain pass: the
    /// earlier attempts are in `attempts`. Alone it does not fail the run (exit 0).
    Flaky,
}

impl Outcome {
    /// The outcome's id (`report.json`, CSS classes); the words auditors read are in
    /// `record::words`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skip => "skip",
            Outcome::Interrupted => "interrupted",
            Outcome::Flaky => "flaky",
        }
    }
}

/// A step's outcome: an error (the harness could not observe) first, then a failed check, then
/// "does not apply to this target", else pass.
pub fn step_outcome(errored: bool, checks: &[Check], not_applicable: bool) -> Outcome {
    if errored {
        Outcome::Error
    } else if checks.iter().any(Check::fails) {
        Outcome::Fail
    } else if not_applicable {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

/// A scenario's outcome and reason from the latest attempt of each step (`None`: not run): the
/// first failed step, else the first step in error, else the first skipped step, else pass when
/// every step ran, else interrupted.
pub fn scenario_outcome(latest: &[Option<(Outcome, Option<String>)>]) -> (Outcome, Option<String>) {
    let first = [Outcome::Fail, Outcome::Error, Outcome::Skip]
        .into_iter()
        .find_map(|o| latest.iter().flatten().find(|(got, _)| *got == o).cloned());
    match first {
        Some(verdict) => verdict,
        None if latest.iter().all(Option::is_some) => (Outcome::Pass, None),
        None => {
            let ran = latest.iter().take_while(|l| l.is_some()).count();
            (Outcome::Interrupted, Some(format!("stopped after {ran} of {} steps", latest.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(passed: bool) -> Check {
        Check::new("what", "expected", "actual", passed)
    }

    #[test]
    fn a_step_errs_before_it_fails_and_fails_before_it_is_skipped() {
        assert_eq!(step_outcome(true, &[check(false)], true), Outcome::Error);
        assert_eq!(step_outcome(false, &[check(true), check(false)], true), Outcome::Fail);
        assert_eq!(step_outcome(false, &[check(true)], true), Outcome::Skip);
        assert_eq!(step_outcome(false, &[check(true)], false), Outcome::Pass);
    }

    #[test]
    fn a_scenario_takes_the_first_failure_then_error_then_skip() {
        let s = |o: Outcome, r: &str| Some((o, Some(r.to_string())));
        let latest = [Some((Outcome::Pass, None)), s(Outcome::Error, "e"), s(Outcome::Fail, "f")];
        assert_eq!(scenario_outcome(&latest), (Outcome::Fail, Some("f".into())));
        assert_eq!(scenario_outcome(&[s(Outcome::Skip, "s"), s(Outcome::Error, "e")]).0, Outcome::Error);
        assert_eq!(scenario_outcome(&[Some((Outcome::Pass, None)), None]), (Outcome::Interrupted, Some("stopped after 1 of 2 steps".into())));
        assert_eq!(scenario_outcome(&[Some((Outcome::Pass, None))]), (Outcome::Pass, None));
    }
}
