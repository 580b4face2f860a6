//! Evidence: secrets and redaction, messages as `.eml`, proofs as files (transcript logs, PNG
//! cards), the production-test picture, and signed bundles.
//!
//! Layout of a report folder once [`write_evidence`] and the report writers ran:
//! ```text
//! junit.xml  report.json  report.html
//! preuve-test-production.png             (when a production-tagged scenario ran)
//! proofs/<proof id>.{log,png,eml,json}   (one per declared proof of a scenario that ran)
//! messages/<scenario id>/<name>.eml      (every message sent or received)
//! ```
//! Ids are made file-name safe by [`names::safe_file_name`] (`OPE/TLS.01.01.01` → `OPE_TLS.01.01.01`).

pub mod bundle;
pub mod card;
pub mod error;
pub mod facts;
pub mod guard;
pub mod labels;
pub mod logfile;
pub mod messages;
pub mod names;
pub mod proof_numbers;
pub mod proofs;
pub mod redact;
pub mod stream;
#[cfg(test)]
pub(crate) mod testdata;

use std::path::{Path, PathBuf};

pub use error::EvidenceError;
pub use guard::Guard;
pub use messages::MessageBytes;

use crate::lang::Lang;
use crate::secret::SecretSet;
use crate::record::{RunRecord, ScenarioRecord};

/// Writes every evidence file of `record` into `dir` and records their relative paths in
/// `record` (`MessageRecord::file`, `ProofRecord::file`); call it before the report writers.
/// `messages[i]` holds the message bytes of `record.scenarios[i]` (missing entries: none),
/// taken (not copied) to be written.
/// `secrets`, when given, is checked against every file before it is written.
///
/// Every file is written atomically. On error, files already written stay (each is complete).
pub fn write_evidence(
    record: &mut RunRecord,
    messages: Vec<Vec<MessageBytes>>,
    dir: &Path,
    lang: Lang,
    secrets: Option<&SecretSet>,
) -> Result<Vec<PathBuf>, EvidenceError> {
    let stream = stream::EvidenceStream::start(dir, record, lang, secrets, stream::default_workers())?;
    // Missing entries mean no message bytes, not no evidence.
    let messages = messages.into_iter().chain(std::iter::repeat_with(Vec::new));
    for ((slot, scenario), mut bytes) in record.scenarios.iter().enumerate().zip(messages) {
        stream.submit(slot, scenario, &mut bytes);
    }
    stream.finish(&mut record.scenarios)
}

/// [`write_evidence`] for one scenario of a run still going (an audit writes each scenario's
/// evidence as it ends, so files survive the sessions): `header` gives the run's facts only.
pub fn write_scenario_evidence(
    header: &RunRecord,
    scenario: &mut ScenarioRecord,
    mut messages: Vec<MessageBytes>,
    dir: &Path,
    lang: Lang,
    secrets: Option<&SecretSet>,
) -> Result<Vec<PathBuf>, EvidenceError> {
    let stream = stream::EvidenceStream::start(dir, header, lang, secrets, 1)?;
    stream.submit(0, scenario, &mut messages);
    stream.finish(std::slice::from_mut(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{message_bytes, run_with, scenario_with_session};

    #[test]
    fn writes_messages_and_every_kind_of_proof() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = run_with(vec![scenario_with_session()]);
        let files = write_evidence(&mut run, vec![message_bytes()], dir.path(), Lang::Fr, None).unwrap();
        let s = &run.scenarios[0];
        let rel: Vec<&str> = s.proofs.iter().map(|p| p.file.as_deref().unwrap()).collect();
        assert_eq!(rel, ["proofs/OPE_PROD.01.01.01.log", "proofs/OPE_PROD.01.01.02.eml", "proofs/OPE_PROD.01.01.03.png", "proofs/OPE_PROD.01.01.04.json"]);
        assert_eq!(std::fs::read(dir.path().join(rel[1])).unwrap(), b"Message-ID: <prod@x>\r\n\r\nread back\r\n");
        assert!(s.messages.iter().all(|m| m.file.is_some()));
        assert!(dir.path().join("preuve-test-production.png").is_file());
        assert_eq!(files.len(), 2 + 4 + 1);
        assert!(files.iter().all(|f| f.is_file()));
    }

    #[test]
    fn scenarios_that_did_not_run_get_no_proof_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = scenario_with_session();
        s.outcome = crate::record::Outcome::Skip;
        s.started = None;
        s.steps.clear();
        s.transcript.clear();
        s.messages.clear();
        s.tags.clear();
        let mut run = run_with(vec![s]);
        let files = write_evidence(&mut run, vec![], dir.path(), Lang::Fr, None).unwrap();
        assert!(files.is_empty());
        assert!(run.scenarios[0].proofs.iter().all(|p| p.file.is_none()));
    }
}
