//! mssconf: a conformance harness for MSSanté operators' API LPS.
//!
//! Data flows scenario → plan → exec → verdict → evidence → report; each stage is a module.

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
