//! Stage 3 of the pipeline. Execution: acts (SMTP, IMAP, TLS, probes, HTTP) against a target
//! and returns observations and transcripts.
//! Protocol code here never reads expectations: judging is `verdict`'s job.

pub mod busy;
pub mod derived_token;
pub mod env;
pub mod error;
pub mod forge;
pub mod identity;
pub mod http;
pub mod imap;
pub mod keep_budget;
pub mod message;
pub mod net;
pub mod observation;
pub mod pacing;
pub mod probe;
pub mod report_parse;
pub mod revocation;
pub mod sniff;
pub mod sasl;
pub mod smtp;
pub mod submission;
pub mod timing;
pub mod tokens;
pub mod tls;
pub mod transcript;
pub mod whitelist;
