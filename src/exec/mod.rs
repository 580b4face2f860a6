//! Execution: drives protocols against a target and returns observations and transcripts.
//! Protocol code here never reads expectations: judging is `verdict`'s job.

pub mod net;
pub mod probe;
pub mod sasl;
pub mod smtp;
pub mod tls;
pub mod transcript;
