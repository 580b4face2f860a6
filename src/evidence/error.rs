//! Errors of the evidence layer. Each says whose fault it is: the environment (disk, permissions,
//! a key file), the user (a folder that is not a run), or ours (a card that does not render).

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// A file could not be written (disk full, permissions: the environment's fault).
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The folder given as a run has no usable `report.json` (the user's input).
    #[error("{} is not a run report folder: {reason}", path.display())]
    NotARun { path: PathBuf, reason: String },
    /// A signing or public key file is missing, malformed or too open.
    #[error("key file {}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    /// A card could not be rasterised (a bug of ours: the SVG is generated).
    #[error("cannot render proof {proof}: {reason}")]
    Render { proof: String, reason: String },
    /// A file about to be written holds a secret of the run: it is not written.
    #[error("{} would hold a secret of the run in clear; it was not written", path.display())]
    Leak { path: PathBuf },
    /// A file or value the user gave cannot be used (a proof-number mapping, a deposit number
    /// already taken).
    #[error("{}: {reason}", path.display())]
    Input { path: PathBuf, reason: String },
    /// The zip library refused to write the bundle.
    #[error("cannot build bundle {}: {reason}", path.display())]
    Zip { path: PathBuf, reason: String },
}

impl EvidenceError {
    pub(crate) fn write(path: impl Into<PathBuf>, source: io::Error) -> Self {
        EvidenceError::Write { path: path.into(), source }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: io::Error) -> Self {
        EvidenceError::Read { path: path.into(), source }
    }

    pub(crate) fn key(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        EvidenceError::Key { path: path.into(), reason: reason.into() }
    }
}
