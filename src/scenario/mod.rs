//! Scenario files: YAML → [`model::Scenario`], with positioned errors.

pub mod cache;
pub mod catalogue;
pub mod load;
pub mod interpolate;
pub mod model;
pub mod validate;
