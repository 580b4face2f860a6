//! Between judging and evidence: the record of a run, what every report is rendered from (and
//! `report.json`'s shape).
//!
//! Shape stability: fields are only added, never renamed or removed, within a `schema_version`.

pub mod audit;
pub mod words;

/// How the note of a step that did not need to run (`only_if_accepted`) begins.
pub const NOT_NEEDED: &str = "not needed:";

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::exec::transcript::Line;
use crate::verdict::Check;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    /// `YYYYMMDDTHHMMSSZ-<4 hex>`.
    pub run_id: String,
    pub tool: String,
    pub tool_version: String,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub target: TargetSummary,
    /// The filters and options the run was started with.
    pub selection: Vec<String>,
    pub scenarios: Vec<ScenarioRecord>,
    /// Present when the run was an interactive audit (`mssconf audit`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<audit::AuditRecord>,
    /// Where the run's time went (`mssconf run`); absent from older records and audits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<RunTiming>,
    /// What the servers showed of themselves against what the profile declares (issue #18);
    /// absent from older records and when the run could not observe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_identity: Option<crate::verdict::identity::ServiceEvidence>,
}

/// The run's time split between the server and the harness (docs/report-json.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTiming {
    /// The command's wall time, from its start to the reports written.
    pub wall_ms: u64,
    /// Wall time of the scenarios phase.
    pub scenarios_wall_ms: u64,
    /// Sum of the scenarios' server waits (parallel scenarios overlap: may exceed the wall time).
    pub server_wait_ms: u64,
    /// Sum of the scenarios' harness time.
    pub scenarios_harness_ms: u64,
    /// All harness-attributable time: the scenarios' plus every phase outside them.
    pub harness_ms: u64,
    /// Harness phases outside the scenarios (`load`, `target`, `plan`, `evidence`, `report`), ms.
    pub phases: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetSummary {
    pub name: String,
    pub operator: String,
    pub service: String,
    pub version: String,
    pub environment: String,
    pub domain: String,
    pub server_name: String,
    /// `name=host:port (tls)` for each endpoint.
    pub endpoints: Vec<String>,
    pub claims: Vec<String>,
    /// True when the target is the embedded mock operator.
    pub embedded_mock: bool,
    /// The profile's trust anchors: subject, SHA-256, IGC-Santé or not (issue #21).
    #[serde(default)]
    pub trust_anchors: Vec<crate::target::anchors::AnchorInfo>,
    /// Advisory warnings on the anchors (a public web CA in a test profile); never a failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchor_warnings: Vec<String>,
}

/// Outcomes are decided by `verdict` (see [`crate::verdict::outcome`]); records carry them.
pub use crate::verdict::outcome::Outcome;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRecord {
    pub id: String,
    /// `<profile>::<id>`.
    pub name: String,
    pub title: String,
    pub title_en: Option<String>,
    pub description: Option<String>,
    pub requirements: Vec<String>,
    pub profile: String,
    pub tags: Vec<String>,
    pub confidence: Option<String>,
    /// `exigence`, `preconisation` or `observation` (docs/verdicts.md); absent in older records.
    #[serde(default = "exigence", skip_serializing_if = "is_exigence")]
    pub nature: String,
    /// Observations and préconisations this scenario saw not followed (`step N: what: expected
    /// …, got …`). Reported in every report; never a failure, never a non-zero exit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    pub file: String,
    pub file_sha256: String,
    pub outcome: Outcome,
    /// Why skipped / why in error / first failed check.
    pub reason: Option<String>,
    pub started: Option<DateTime<Utc>>,
    pub duration_ms: u64,
    /// Sum of the steps' `server_wait_ms` (every attempt of a step).
    #[serde(default)]
    pub server_wait_ms: u64,
    /// `duration_ms - server_wait_ms`: the harness's time, between steps included.
    #[serde(default)]
    pub harness_ms: u64,
    pub steps: Vec<StepRecord>,
    pub transcript: Vec<Line>,
    pub proofs: Vec<ProofRecord>,
    /// Messages sent and received, saved as `.eml` files in the report dir.
    pub messages: Vec<MessageRecord>,
    /// The earlier attempts of a retried scenario (`--retries`), each a fail or an error; the
    /// record itself is the last attempt. Absent when the scenario ran once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptRecord>,
}

impl ScenarioRecord {
    /// Every check recorded for the scenario: its steps', then its earlier attempts' failed ones.
    pub fn checks(&self) -> Vec<&Check> {
        let steps = self.steps.iter().flat_map(|st| st.checks.iter());
        steps.chain(self.attempts.iter().filter_map(|a| a.check.as_ref())).collect()
    }

    /// A reason of this scenario (its own, an advisory, an earlier attempt's) in `lang`; one
    /// written from a check is worded from that check's fields ([`crate::verdict::french::reason_in`]).
    pub fn reason_in(&self, reason: &str, lang: crate::lang::Lang) -> String {
        crate::verdict::french::reason_in(reason, &self.checks(), lang)
    }
}

fn exigence() -> String {
    "exigence".into()
}

fn is_exigence(n: &String) -> bool {
    n == "exigence"
}

/// One earlier attempt of a retried scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// 1-based.
    pub attempt: u32,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub started: Option<DateTime<Utc>>,
    pub duration_ms: u64,
    /// The attempt's transcript (secrets already redacted), to tell why it did not pass.
    pub transcript: Vec<Line>,
    /// The failed check `reason` was written from, so outputs word it from its fields; absent
    /// when the attempt ended otherwise, and in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
}

impl AttemptRecord {
    /// Keeps what tells an earlier attempt apart; its steps are summed up by `reason`.
    pub fn of(record: &ScenarioRecord, attempt: u32) -> Self {
        AttemptRecord {
            attempt,
            outcome: record.outcome,
            reason: record.reason.clone(),
            started: record.started,
            duration_ms: record.duration_ms,
            transcript: record.transcript.clone(),
            check: record.reason.as_deref().and_then(|r| record.checks().into_iter().find(|c| c.fails() && c.summary() == r)).cloned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub title: String,
    pub kind: String,
    pub outcome: Outcome,
    pub checks: Vec<Check>,
    pub error: Option<String>,
    /// Category of an error (`connect`, `timeout`, `tls`, `protocol`, `closed`, `harness`).
    pub error_category: Option<String>,
    /// Index range of this step's lines in the scenario transcript.
    pub transcript_from: usize,
    pub transcript_to: usize,
    pub duration_ms: u64,
    /// Time spent waiting on the server during this step: connect, TLS handshake, reads of
    /// replies and responses, IDLE and delivery waits, HTTP exchanges, `wait` pauses.
    pub server_wait_ms: u64,
    /// The rest of `duration_ms`: the harness's own work (`duration_ms - server_wait_ms`).
    #[serde(default)]
    pub harness_ms: u64,
    /// What the step did not do and why (actions left after the server closed the session…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProofRecord {
    /// `<scenario id>.<nn>`.
    pub id: String,
    pub kind: String,
    pub title: String,
    /// File in the report dir holding the proof (relative path), once written.
    pub file: Option<String>,
    /// Step index it comes from (`None`: the scenario as a whole).
    pub step: Option<usize>,
    /// Why the proof has no file although the scenario ran: its step was not needed (a
    /// conformant alternative was observed earlier, e.g. a refusal at `RCPT TO` instead of a
    /// failure report). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_needed: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub name: String,
    /// `sent` or `received`.
    pub direction: String,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub size: usize,
    pub sha256: String,
    /// Relative path of the `.eml` in the report dir.
    pub file: Option<String>,
}

impl RunRecord {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.scenarios.iter().filter(|s| s.outcome == outcome).count()
    }

    /// Exit status of the run: any fail, error or interruption is a failure; flaky scenarios
    /// (passed on a retry) are not, but are reported apart.
    pub fn all_passed(&self) -> bool {
        self.scenarios.iter().all(|s| matches!(s.outcome, Outcome::Pass | Outcome::Skip | Outcome::Flaky))
    }

    /// The scenario step and attempt each entry of `s.steps` records: entry `k` is step `k` in
    /// a straight run; in an audit a step may appear once per attempt.
    pub fn step_numbers(&self, s: &ScenarioRecord) -> Vec<StepNumber> {
        match &self.audit {
            Some(audit) => audit.step_numbers(&s.name, s.steps.len()),
            None => (0..s.steps.len()).map(|step| StepNumber { step, attempt: 1 }).collect(),
        }
    }
}

/// Which step of its scenario (0-based) a step entry records, and which attempt of it (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepNumber {
    pub step: usize,
    pub attempt: u32,
}

impl StepNumber {
    /// `Étape 2`, or `Étape 2 (tentative 3)` for a repeated step.
    pub fn label(&self, step_word: &str, attempt_word: &str) -> String {
        match self.attempt {
            0 | 1 => format!("{step_word} {}", self.step + 1),
            n => format!("{step_word} {} ({attempt_word} {n})", self.step + 1),
        }
    }
}
