//! The last check before an evidence file is written: it must not hold a secret of the run.
//!
//! Transcripts are scrubbed when recorded, and messages never carry tokens; this guard is the
//! safety net for everything built from them (logs, cards, JSON, `.eml`), so a bug upstream
//! cannot put a bearer token into a file handed to an auditor.

use std::path::{Path, PathBuf};

use crate::evidence::error::EvidenceError;
use crate::evidence::secret::SecretSet;
use crate::report::write_atomic;

/// Writes evidence files atomically after checking them against the run's secrets.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    secrets: Option<SecretSet>,
}

impl Guard {
    /// A guard knowing the run's secrets (`None`: rebuilding from a saved record, where the
    /// secrets are gone and the texts were scrubbed when recorded).
    pub fn new(secrets: Option<SecretSet>) -> Self {
        Guard { secrets }
    }

    /// `text` with any known secret replaced by `<redacted>`.
    pub fn scrub(&self, text: &str) -> String {
        match &self.secrets {
            Some(s) => s.scrub(text),
            None => text.to_string(),
        }
    }

    /// Writes `bytes` to `path` atomically, refusing when they hold a secret (checked on the
    /// UTF-8 lossy view, which keeps every ASCII form of a token intact).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<PathBuf, EvidenceError> {
        self.check(path, &String::from_utf8_lossy(bytes))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EvidenceError::write(parent, e))?;
        }
        write_atomic(path, bytes).map_err(|e| EvidenceError::write(path, e))?;
        Ok(path.to_path_buf())
    }

    /// Refuses `text`, meant for `path`, when it holds a secret of the run (for files written
    /// in pieces: the caller checks each piece).
    pub fn check(&self, path: &Path, text: &str) -> Result<(), EvidenceError> {
        match &self.secrets {
            Some(s) if s.leaks(text) => Err(EvidenceError::Leak { path: path.to_path_buf() }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::secret::Secret;

    #[test]
    fn refuses_a_file_holding_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("canary-secret-4242"));
        let guard = Guard::new(Some(secrets));
        let bad = dir.path().join("sub/bad.log");
        assert!(matches!(guard.write(&bad, b"x canary-secret-4242 y"), Err(EvidenceError::Leak { .. })));
        assert!(!bad.exists());
        let good = dir.path().join("sub/good.log");
        guard.write(&good, guard.scrub("x canary-secret-4242 y").as_bytes()).unwrap();
        assert_eq!(std::fs::read_to_string(good).unwrap(), "x <redacted> y");
    }
}
