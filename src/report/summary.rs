//! Counts and per-requirement statuses derived from a finished record (shared by JSON and HTML).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::{Outcome, RunRecord, ScenarioRecord};
use crate::requirement::{Requirement, RequirementIndex};

/// What a run says about one requirement, from the outcomes of the scenarios citing it.
/// Ordered as declared (map keys in `report.json` follow this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementStatus {
    /// Every scenario citing it passed.
    Pass,
    /// Some scenarios passed, the others were skipped: only partly verified.
    Partial,
    Fail,
    Error,
    Interrupted,
    /// Every scenario citing it was skipped.
    Skip,
    /// No scenario of this run cites it.
    NotRun,
    /// No scenario of this run cites it and the index says it cannot be checked from outside.
    NotCheckable,
}

impl RequirementStatus {
    pub const ALL: [RequirementStatus; 8] = [
        RequirementStatus::Pass,
        RequirementStatus::Partial,
        RequirementStatus::Fail,
        RequirementStatus::Error,
        RequirementStatus::Interrupted,
        RequirementStatus::Skip,
        RequirementStatus::NotRun,
        RequirementStatus::NotCheckable,
    ];

    /// The worst outcome wins: one failing scenario makes the requirement non-conformant. A
    /// flaky scenario counts as passed here (it passed on a retry); the scenario itself stays
    /// `flaky` in every report.
    pub fn from_outcomes(outcomes: &[Outcome], not_checkable: bool) -> Self {
        let any = |o: Outcome| outcomes.iter().any(|x| *x == o || (o == Outcome::Pass && *x == Outcome::Flaky));
        if outcomes.is_empty() {
            return if not_checkable { RequirementStatus::NotCheckable } else { RequirementStatus::NotRun };
        }
        if any(Outcome::Fail) {
            RequirementStatus::Fail
        } else if any(Outcome::Error) {
            RequirementStatus::Error
        } else if any(Outcome::Interrupted) {
            RequirementStatus::Interrupted
        } else if !any(Outcome::Pass) {
            RequirementStatus::Skip
        } else if any(Outcome::Skip) {
            RequirementStatus::Partial
        } else {
            RequirementStatus::Pass
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RequirementStatus::Pass => "pass",
            RequirementStatus::Partial => "partial",
            RequirementStatus::Fail => "fail",
            RequirementStatus::Error => "error",
            RequirementStatus::Interrupted => "interrupted",
            RequirementStatus::Skip => "skip",
            RequirementStatus::NotRun => "not_run",
            RequirementStatus::NotCheckable => "not_checkable",
        }
    }
}

/// One row of the requirement table: an indexed requirement, or an id a scenario cites that the
/// index lacks (`requirement: None`; validation should have caught it, the report still shows it).
#[derive(Debug)]
pub struct RequirementRow<'a> {
    pub id: String,
    pub requirement: Option<&'a Requirement>,
    pub scenarios: Vec<&'a ScenarioRecord>,
    pub status: RequirementStatus,
}

/// Rows in index order, then unknown ids in alphabetical order.
pub fn requirement_rows<'a>(record: &'a RunRecord, index: &'a RequirementIndex) -> Vec<RequirementRow<'a>> {
    let citing = |id: &str| -> Vec<&'a ScenarioRecord> {
        record.scenarios.iter().filter(|s| s.requirements.iter().any(|r| r == id)).collect()
    };
    let mut rows: Vec<RequirementRow<'a>> = index
        .requirements
        .iter()
        .map(|r| row(r.id.clone(), Some(r), citing(&r.id)))
        .collect();
    let mut unknown: Vec<&str> = record
        .scenarios
        .iter()
        .flat_map(|s| s.requirements.iter().map(String::as_str))
        .filter(|id| index.get(id).is_none())
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    rows.extend(unknown.into_iter().map(|id| row(id.to_string(), None, citing(id))));
    rows
}

fn row<'a>(id: String, requirement: Option<&'a Requirement>, scenarios: Vec<&'a ScenarioRecord>) -> RequirementRow<'a> {
    let outcomes: Vec<Outcome> = scenarios.iter().map(|s| s.outcome).collect();
    let not_checkable = requirement.is_some_and(|r| r.not_checkable.is_some());
    let status = RequirementStatus::from_outcomes(&outcomes, not_checkable);
    RequirementRow { id, requirement, scenarios, status }
}

/// Scenario counts per outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
    pub interrupted: usize,
    /// Failed or errored, then passed on a retry (`--retries`); not counted in `pass`.
    #[serde(default)]
    pub flaky: usize,
}

impl OutcomeCounts {
    pub fn of(record: &RunRecord) -> Self {
        OutcomeCounts {
            total: record.scenarios.len(),
            pass: record.count(Outcome::Pass),
            fail: record.count(Outcome::Fail),
            error: record.count(Outcome::Error),
            skip: record.count(Outcome::Skip),
            interrupted: record.count(Outcome::Interrupted),
            flaky: record.count(Outcome::Flaky),
        }
    }

    pub fn get(&self, outcome: Outcome) -> usize {
        match outcome {
            Outcome::Pass => self.pass,
            Outcome::Fail => self.fail,
            Outcome::Error => self.error,
            Outcome::Skip => self.skip,
            Outcome::Interrupted => self.interrupted,
            Outcome::Flaky => self.flaky,
        }
    }
}

/// The `summary` object of `report.json` (shape documented in `docs/report-json.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// False when any scenario failed, errored or was interrupted.
    pub all_passed: bool,
    pub scenarios: OutcomeCounts,
    /// Number of requirements per status, every status present (0 when none).
    pub requirements: BTreeMap<RequirementStatus, usize>,
    /// Requirement id → status, for every indexed or cited requirement.
    pub requirement_status: BTreeMap<String, RequirementStatus>,
}

impl Summary {
    pub fn of(record: &RunRecord, index: &RequirementIndex) -> Self {
        let rows = requirement_rows(record, index);
        let mut requirements: BTreeMap<RequirementStatus, usize> =
            RequirementStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for r in &rows {
            *requirements.entry(r.status).or_default() += 1;
        }
        Summary {
            all_passed: record.all_passed(),
            scenarios: OutcomeCounts::of(record),
            requirements,
            requirement_status: rows.into_iter().map(|r| (r.id, r.status)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequirementStatus as S;

    #[test]
    fn worst_outcome_wins() {
        use Outcome::*;
        assert_eq!(S::from_outcomes(&[Pass, Fail, Error], false), S::Fail);
        assert_eq!(S::from_outcomes(&[Pass, Error, Interrupted], false), S::Error);
        assert_eq!(S::from_outcomes(&[Pass, Interrupted], false), S::Interrupted);
        assert_eq!(S::from_outcomes(&[Skip, Skip], false), S::Skip);
        assert_eq!(S::from_outcomes(&[Pass, Skip], false), S::Partial);
        assert_eq!(S::from_outcomes(&[Pass, Pass], true), S::Pass);
        assert_eq!(S::from_outcomes(&[Flaky], false), S::Pass);
        assert_eq!(S::from_outcomes(&[Flaky, Skip], false), S::Partial);
        assert_eq!(S::from_outcomes(&[Flaky, Fail], false), S::Fail);
        assert_eq!(S::from_outcomes(&[], false), S::NotRun);
        assert_eq!(S::from_outcomes(&[], true), S::NotCheckable);
    }

    #[test]
    fn statuses_serialize_in_snake_case_as_map_keys() {
        let map: BTreeMap<S, usize> = [(S::NotCheckable, 2), (S::Pass, 1)].into_iter().collect();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"pass":1,"not_checkable":2}"#);
    }
}
