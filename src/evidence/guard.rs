//! The last check before an evidence file is written: it must not hold a secret of the run.
//!
//! Transcripts are scrubbed when recorded, and messages never carry tokens; this guard is the
//! safety net for everything built from them (logs, cards, JSON, `.eml`), so a bug upstream
//! cannot put a bearer token into a file handed to an auditor.

use std::path::{Path, PathBuf};

use crate::evidence::error::EvidenceError;
use crate::secret::SecretSet;
use crate::util::atomic::write_atomic_deferred_with;

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
    /// text, or for binary files (PNG) on their ASCII view, which keeps every ASCII form of a
    /// token intact).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<PathBuf, EvidenceError> {
        if self.secrets.is_some() {
            match std::str::from_utf8(bytes) {
                Ok(text) => self.check(path, text)?,
                Err(_) => self.check(path, &ascii_view(bytes))?,
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EvidenceError::write(parent, e))?;
        }
        // Flushed to disk once for the whole run (`sync_filesystem`), not file by file.
        write_atomic_deferred_with(path, |f| std::io::Write::write_all(f, bytes)).map_err(|e| EvidenceError::write(path, e))?;
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

/// `bytes` with every non-ASCII byte replaced by a space: ASCII runs stay whole and apart.
/// (The lossy UTF-8 view gives the same runs, several times slower on binary data.)
fn ascii_view(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| if b.is_ascii() { b as char } else { ' ' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn refuses_a_file_holding_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("canary-secret-4242"));
        let guard = Guard::new(Some(secrets));
        let bad = dir.path().join("sub/bad.log");
        assert!(matches!(guard.write(&bad, b"x canary-secret-4242 y"), Err(EvidenceError::Leak { .. })));
        assert!(!bad.exists());
        let png = dir.path().join("bad.png");
        let binary = [b"\x89PNG\r\n\x1a\n\xff".as_slice(), b"canary-secret-4242", b"\xfe\x00"].concat();
        assert!(matches!(guard.write(&png, &binary), Err(EvidenceError::Leak { .. })), "found in binary data too");
        assert!(!png.exists());
        let good = dir.path().join("sub/good.log");
        guard.write(&good, guard.scrub("x canary-secret-4242 y").as_bytes()).unwrap();
        assert_eq!(std::fs::read_to_string(good).unwrap(), "x <redacted> y");
    }
}
