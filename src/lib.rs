//! mssconf: a conformance harness for MSSanté operators' API LPS.
//!
//! Data flows one way, each stage a module (docs/architecture.md draws it):
//!
//! ```text
//! scenario → plan → exec → verdict → record → evidence → report
//!  (load)  (select, (act,    (judge)  (run     (.eml, proofs, (junit, json,
//!          settle,   observe)          record)  cards, bundle)  html)
//!          describe)
//! ```
//!
//! Below every stage, small shared types: `yaml` (positioned YAML reading), `lang`, `secret`,
//! `util`, `cipher` (TLS names), `requirement`, `target` (the profile under test), `fixtures`.
//! Above them, the drivers: `runner` (the only place where the stages meet), then the front
//! ends `audit`, `dossier`, `load`, `bench` and `cli`. A stage never imports a later one:
//! `tests/integration/architecture.rs` checks it.

pub mod audit;
pub mod bench;
pub mod cipher;
pub mod cli;
pub mod dossier;
pub mod evidence;
pub mod exit_code;
pub mod exec;
pub mod fixtures;
#[doc(hidden)] pub mod fuzzing;
pub mod lang;
pub mod load;
pub mod plan;
pub mod preflight;
pub mod record;
pub mod report;
pub mod requirement;
pub mod runner;
pub mod scenario;
pub mod secret;
pub mod target;
pub mod util;
pub mod verdict;
pub mod yaml;
