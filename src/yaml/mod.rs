//! YAML files with positions: every file the harness reads (scenarios, target profiles,
//! requirements, fixtures) is read through here, bounded in size and cost, and every error
//! names `file:line:column`, what was found and what was expected.

pub mod diagnose;
pub mod error;
pub mod limits;
pub mod read;
