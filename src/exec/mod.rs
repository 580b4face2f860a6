//! Execution: drives protocols against a target and returns observations and transcripts.
//! Protocol code here never reads expectations: judging is `verdict`'s job.

pub mod busy;
pub mod env;
pub mod error;
pub mod imap;
pub mod message;
pub mod net;
pub mod observation;
pub mod pacing;
pub mod probe;
pub mod report_parse;
pub mod sniff;
pub mod sasl;
pub mod smtp;
pub mod submission;
pub mod timing;
pub mod tls;
pub mod transcript;
pub mod whitelist;
