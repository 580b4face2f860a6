//! Stage 1 of the pipeline (scenario → plan → exec → verdict → evidence → report; see
//! docs/architecture.md). Scenario files: YAML → [`model::Scenario`], with positioned errors,
//! and where each expectation is written ([`spans`]).

pub mod cache;
pub mod catalogue;
pub mod load;
pub mod interpolate;
pub mod model;
pub mod spans;
pub mod validate;
