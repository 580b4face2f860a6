//! Evidence: secrets and redaction, transcripts as files, messages, bundles.

pub mod secret;
