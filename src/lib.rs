//! mssconf: a conformance harness for MSSanté operators' API LPS.
//!
//! Data flows scenario → plan → exec → verdict → evidence → report; each stage is a module.

pub mod evidence;
pub mod exec;
