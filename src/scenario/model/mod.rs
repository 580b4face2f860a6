//! The scenario file format: one scenario per YAML file.
//!
//! A scenario is an ordered list of steps; each step drives one protocol (`smtp`, `imap`, `tls`,
//! `http`, `wait`) and carries its expectations. Strings may hold `${namespace.path}` variables
//! (`target.*`, `fixtures.*`, `captured.*`), resolved just before the step runs.
//! The JSON Schema in `scenarios/schema.json` is generated from these types.


use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;


/// A value with the position it was read from (line/column, 1-based).
pub type Pos<T> = Spanned<T>;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// REM-style id: `<requirement id>.<nn>`, e.g. `OPE/TLS.01.01`.
    #[schemars(with = "String")]
    pub id: Pos<String>,
    /// Title in French, as an auditor reads it.
    pub title: String,
    /// Title in English (reports with `--lang en`).
    #[serde(default)]
    pub title_en: Option<String>,
    /// What is checked and why, in French.
    #[serde(default)]
    pub description: Option<String>,
    /// Requirement ids from `scenarios/requirements.yaml`.
    #[schemars(with = "Vec<String>")]
    pub requirements: Vec<Pos<String>>,
    /// REM profile the scenario belongs to; skipped when the target does not claim it.
    pub profile: Profile,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the checked fact is inferred or uncertain in the reference, say so here.
    #[serde(default)]
    pub confidence: Option<String>,
    /// What a failed check of this scenario means (default `exigence`: « non conforme »). A
    /// `preconisation` or an `observation` not followed is reported, never a failure; say why in
    /// `confidence`. A scenario whose requirements are all préconisations cannot be `exigence`.
    #[serde(default)]
    pub nature: ScenarioNature,
    /// Proofs yielded by the scenario as a whole (e.g. a `screenshot` card).
    #[serde(default)]
    pub proofs: Vec<ProofDecl>,
    pub steps: Vec<Step>,
}

/// REM profiles live with the requirements they scope (`crate::requirement`).
pub use crate::requirement::Profile;

/// The weight of a scenario's checks (see `docs/verdicts.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScenarioNature {
    /// A requirement stated in a source: a failed check is « non conforme ».
    #[default]
    Exigence,
    /// A recommendation of the referential: reported when not followed, never a failure.
    Preconisation,
    /// A behaviour seen on an operator but stated nowhere: reported, never a failure.
    Observation,
}

impl ScenarioNature {
    pub fn name(self) -> &'static str {
        match self {
            ScenarioNature::Exigence => "exigence",
            ScenarioNature::Preconisation => "preconisation",
            ScenarioNature::Observation => "observation",
        }
    }

    /// Whether a failed check of this nature fails the scenario.
    pub fn binding(self) -> bool {
        self == ScenarioNature::Exigence
    }
}

/// A proof, REM style: its id is `<scenario id>.<nn>`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofDecl {
    /// Two-digit proof number within the scenario (`01`…`99`).
    #[schemars(with = "String")]
    pub n: Pos<String>,
    pub kind: ProofKind,
    /// What the proof shows, in French ("Log de la session SMTP…").
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProofKind {
    Log,
    Screenshot,
    Eml,
    File,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step does, in French (shown before the step in audit mode).
    #[schemars(with = "String")]
    pub title: Pos<String>,
    #[serde(default)]
    pub proofs: Vec<ProofDecl>,
    /// Step timeout in milliseconds (default: the target's `timeouts.step`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Runs the step only when the SMTP `transaction` captured under this name was accepted.
    /// When it was refused (a conformant alternative, e.g. an unknown recipient refused at
    /// `RCPT TO` instead of a failure DSN), the step is not needed: it passes with a note
    /// saying so, and nothing is sent.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub only_if_accepted: Option<Pos<String>>,
    /// The step checks the profile's material against what the operator publishes (e.g. the
    /// outside-whitelist address is indeed outside the published whitelist). When one of its
    /// checks fails, nothing about the operator's conformance is shown: the scenario ends in
    /// error (the profile must be fixed), never « non conforme ».
    #[serde(default)]
    pub precondition: bool,
    // Exactly one of the protocol keys below (checked by validation). Plain optional fields
    // rather than a flattened enum: serde-saphyr loses positions under `flatten`.
    #[serde(default)]
    pub smtp: Option<SmtpStep>,
    #[serde(default)]
    pub imap: Option<ImapStep>,
    #[serde(default)]
    pub tls: Option<TlsStep>,
    #[serde(default)]
    pub http: Option<HttpStep>,
    #[serde(default)]
    pub wait: Option<WaitStep>,
}

/// The protocol a step drives.
#[derive(Debug, Clone, Copy)]
pub enum StepAction<'a> {
    Smtp(&'a SmtpStep),
    Imap(&'a ImapStep),
    Tls(&'a TlsStep),
    Http(&'a HttpStep),
    Wait(&'a WaitStep),
}

/// The step keys that name a protocol.
pub const STEP_KINDS: [&str; 5] = ["smtp", "imap", "tls", "http", "wait"];

impl Step {
    /// The protocol keys present (validation requires exactly one).
    pub fn actions(&self) -> Vec<StepAction<'_>> {
        let mut out = Vec::new();
        if let Some(s) = &self.smtp {
            out.push(StepAction::Smtp(s));
        }
        if let Some(s) = &self.imap {
            out.push(StepAction::Imap(s));
        }
        if let Some(s) = &self.tls {
            out.push(StepAction::Tls(s));
        }
        if let Some(s) = &self.http {
            out.push(StepAction::Http(s));
        }
        if let Some(s) = &self.wait {
            out.push(StepAction::Wait(s));
        }
        out
    }

    /// The step's one action; `None` when validation would refuse the step.
    pub fn action(&self) -> Option<StepAction<'_>> {
        let actions = self.actions();
        if actions.len() == 1 { actions.into_iter().next() } else { None }
    }
}

impl StepAction<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            StepAction::Smtp(_) => "smtp",
            StepAction::Imap(_) => "imap",
            StepAction::Tls(_) => "tls",
            StepAction::Http(_) => "http",
            StepAction::Wait(_) => "wait",
        }
    }
}

/// Which client certificate a connection presents.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientCert {
    /// The certificate of this mailbox role (profile `mailboxes.<role>.certificate`).
    Mailbox(#[schemars(with = "String")] Pos<String>),
    /// The profile's `negative.expired_client_cert`.
    Expired,
    /// The profile's `negative.foreign_client_cert` (another CA).
    Foreign,
    /// The profile's `negative.revoked_client_cert` (the operator's CA, revoked).
    Revoked,
}

mod http;
mod imap;
mod mechanism;
mod message;
mod expect_walk;
pub use expect_walk::{ExpectSlot, HttpItem, ImapItem, MessageItems, SmtpItem, TlsItem};
mod smtp;
mod tls;

pub use http::*;
pub use imap::*;
pub use mechanism::*;
pub use message::*;
pub use smtp::*;
pub use tls::*;

fn yes() -> bool {
    true
}

fn inbox() -> String {
    "INBOX".into()
}

fn get() -> String {
    "GET".into()
}
