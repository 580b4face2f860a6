//! The `audit` section of a run record: who watched the run, what they attested step by step,
//! what they noted and skipped, and when a dropped session made a scenario start again.
//!
//! Shape stability as in `record.rs`: fields are only added.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::{Outcome, StepNumber};

/// The statement every attestation carries.
pub const STATEMENT: &str = "observé à l'écran";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The auditor who started the audit (each entry below names its own auditor).
    pub auditor: String,
    /// Every interactive session, the first one and each `--resume`.
    pub sessions: Vec<AuditSession>,
    /// One per step attempt run on screen.
    pub attestations: Vec<Attestation>,
    #[serde(default)]
    pub notes: Vec<AuditNote>,
    #[serde(default)]
    pub skips: Vec<AuditSkip>,
    #[serde(default)]
    pub restarts: Vec<AuditRestart>,
    /// Every planned scenario was handled (false while the audit is in progress).
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditSession {
    /// 1 for the first session, then 2, 3… for each resumption.
    pub number: u32,
    pub auditor: String,
    pub started: DateTime<Utc>,
    /// `None`: the session was cut off (terminal closed, connection lost) before it ended.
    pub ended: Option<DateTime<Utc>>,
    /// The target's endpoints in this session (the embedded mock listens on new ports each time).
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attestation {
    /// Scenario name, `<profile>::<id>` as in `scenarios[].name`.
    pub scenario: String,
    /// Step index (0-based, as `proofs[].step`).
    pub step: usize,
    pub step_title: String,
    /// 1 for the first run of the step, 2 for its first repetition…
    pub attempt: u32,
    pub outcome: Outcome,
    /// When the result was shown to the auditor (UTC).
    pub observed_at: DateTime<Utc>,
    pub auditor: String,
    /// Always [`STATEMENT`].
    pub statement: String,
    pub session: u32,
    /// Index of this attempt in the scenario's `steps` (`None` when `superseded`).
    pub record_step: Option<usize>,
    /// The scenario was started again after this attempt (a session ended mid-scenario): the
    /// attempt is not part of the final scenario record, its attestation stays for the history.
    #[serde(default)]
    pub superseded: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditNote {
    pub scenario: Option<String>,
    /// Step index (0-based) the note was taken at.
    pub step: Option<usize>,
    pub at: DateTime<Utc>,
    pub auditor: String,
    pub session: u32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditSkip {
    pub scenario: String,
    /// Step index (0-based).
    pub step: usize,
    pub step_title: String,
    pub at: DateTime<Utc>,
    pub auditor: String,
    pub session: u32,
    pub reason: String,
    /// As for attestations: the scenario was started again after this skip.
    #[serde(default)]
    pub superseded: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRestart {
    pub scenario: String,
    pub at: DateTime<Utc>,
    pub auditor: String,
    /// The session that restarted the scenario.
    pub session: u32,
    /// Step attempts attested (or skipped) before the interruption, now superseded.
    pub superseded_entries: usize,
    pub reason: String,
}

impl AuditRecord {
    pub fn new(auditor: &str) -> Self {
        AuditRecord {
            auditor: auditor.to_string(),
            sessions: vec![],
            attestations: vec![],
            notes: vec![],
            skips: vec![],
            restarts: vec![],
            complete: false,
        }
    }

    /// The step and attempt of each of the `entries` step records of `scenario`. An executed
    /// attempt is always attested (its `record_step` names the entry); an entry no attestation
    /// names is a skipped step, the step after the previous entry's (steps only go forward).
    pub fn step_numbers(&self, scenario: &str, entries: usize) -> Vec<StepNumber> {
        let mut numbers: Vec<Option<StepNumber>> = vec![None; entries];
        for a in self.attestations.iter().filter(|a| a.scenario == scenario && !a.superseded) {
            if let Some(slot) = a.record_step.and_then(|k| numbers.get_mut(k)) {
                *slot = Some(StepNumber { step: a.step, attempt: a.attempt });
            }
        }
        let mut next = 0;
        numbers
            .into_iter()
            .map(|n| {
                let n = n.unwrap_or(StepNumber { step: next, attempt: 1 });
                next = n.step + 1;
                n
            })
            .collect()
    }

    /// The current session's number (0 before the first one starts).
    pub fn session(&self) -> u32 {
        self.sessions.last().map_or(0, |s| s.number)
    }

    /// Marks what was attested or skipped for `scenario` and not kept in a finished record as
    /// superseded, and records the restart. Returns how many entries were superseded.
    pub fn restart(&mut self, scenario: &str, auditor: &str, at: DateTime<Utc>) -> usize {
        let mut n = 0;
        for a in self.attestations.iter_mut().filter(|a| a.scenario == scenario && !a.superseded) {
            (a.superseded, a.record_step) = (true, None);
            n += 1;
        }
        for s in self.skips.iter_mut().filter(|s| s.scenario == scenario && !s.superseded) {
            s.superseded = true;
            n += 1;
        }
        self.restarts.push(AuditRestart {
            scenario: scenario.to_string(),
            at,
            auditor: auditor.to_string(),
            session: self.session(),
            superseded_entries: n,
            reason: "la session précédente s'est terminée au milieu du scénario : il reprend à sa première \
                     étape (valeurs capturées et messages envoyés ne survivent pas à la session)"
                .into(),
        });
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attestation(scenario: &str, step: usize) -> Attestation {
        Attestation {
            scenario: scenario.into(),
            step,
            step_title: "t".into(),
            attempt: 1,
            outcome: Outcome::Pass,
            observed_at: Utc::now(),
            auditor: "A".into(),
            statement: STATEMENT.into(),
            session: 1,
            record_step: Some(step),
            superseded: false,
        }
    }

    #[test]
    fn restart_supersedes_only_the_restarted_scenario() {
        let mut a = AuditRecord::new("A");
        a.attestations = vec![attestation("general::X", 0), attestation("general::Y", 0), attestation("general::Y", 1)];
        assert_eq!(a.restart("general::Y", "B", Utc::now()), 2);
        assert!(!a.attestations[0].superseded);
        assert!(a.attestations[1..].iter().all(|x| x.superseded && x.record_step.is_none()));
        assert_eq!(a.restarts.len(), 1);
        assert_eq!(a.restart("general::Y", "B", Utc::now()), 0, "already superseded entries are not counted twice");
    }

    #[test]
    fn step_numbers_follow_attempts_and_skips() {
        let mut a = AuditRecord::new("A");
        let mut again = attestation("general::X", 0);
        (again.attempt, again.record_step) = (2, Some(1));
        let mut third = attestation("general::X", 2);
        third.record_step = Some(3);
        // An attempt superseded by a restart names no entry of the final record.
        let mut old = attestation("general::X", 1);
        (old.superseded, old.record_step) = (true, None);
        a.attestations = vec![old, attestation("general::X", 0), again, third, attestation("general::Y", 0)];
        // Entries: step 1, step 1 again, step 2 skipped (never attested), step 3.
        let got: Vec<(usize, u32)> = a.step_numbers("general::X", 4).iter().map(|n| (n.step, n.attempt)).collect();
        assert_eq!(got, [(0, 1), (0, 2), (1, 1), (2, 1)]);
        assert_eq!(a.step_numbers("general::X", 4)[1].label("Étape", "tentative"), "Étape 1 (tentative 2)");
        assert_eq!(a.step_numbers("general::X", 4)[2].label("Step", "attempt"), "Step 2");
    }

    #[test]
    fn older_records_without_optional_lists_still_load() {
        let a: AuditRecord =
            serde_json::from_str(r#"{"auditor":"A","sessions":[],"attestations":[],"complete":false}"#).unwrap();
        assert!(a.notes.is_empty() && a.skips.is_empty() && a.restarts.is_empty());
    }
}
