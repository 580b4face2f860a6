//! Screen captures an operator attaches to a proof number (`--attach 2.1.1=capture.png`). The
//! cards mssconf draws are renderings of a proof; a real screen capture is the operator's and
//! goes into the bundle beside them, hashed in the manifest like any proof and listed in
//! `index.csv` with the kind `capture`.

use std::path::{Path, PathBuf};

use super::index::IndexRow;
use crate::evidence::error::EvidenceError;
use crate::evidence::names::proof_file_name;

/// One `--attach ID=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub proof: String,
    pub file: PathBuf,
}

impl std::str::FromStr for Attachment {
    type Err = String;

    /// `2.1.1=capture.png`: a proof number (or this tool's proof id), `=`, a file.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((id, file)) if !id.trim().is_empty() && !file.trim().is_empty() => {
                Ok(Attachment { proof: id.trim().to_string(), file: PathBuf::from(file.trim()) })
            }
            _ => Err(format!("`{s}`: expected PROOF=FILE, e.g. 2.1.1=capture.png")),
        }
    }
}

impl Attachment {
    /// The name in the zip: the proof number, `-capture` when a rendering already has it.
    pub fn name_in_bundle(&self, taken: impl Fn(&str) -> bool) -> String {
        let ext = self.file.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_else(|| "bin".into());
        let plain = proof_file_name(&self.proof, &ext);
        if taken(&plain) { proof_file_name(&format!("{}-capture", self.proof), &ext) } else { plain }
    }

    pub fn read(&self) -> Result<Vec<u8>, EvidenceError> {
        if !self.file.is_file() {
            return Err(EvidenceError::Input { path: self.file.clone(), reason: format!("attached to proof {}: not a readable file", self.proof) });
        }
        std::fs::read(&self.file).map_err(|e| EvidenceError::read(&self.file, e))
    }

    pub fn index_row(&self, name: &str) -> IndexRow {
        let title = Path::new(&self.file).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        IndexRow {
            proof_id: self.proof.clone(),
            scenario: String::new(),
            requirements: String::new(),
            kind: "capture".into(),
            title: format!("capture d'écran jointe par l'exploitant ({title})"),
            verdict: String::new(),
            file: name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        let a: Attachment = "2.1.1=shots/capture.PNG".parse().unwrap();
        assert_eq!(a.proof, "2.1.1");
        assert_eq!(a.name_in_bundle(|_| false), "2.1.1.png");
        assert_eq!(a.name_in_bundle(|n| n == "2.1.1.png"), "2.1.1-capture.png");
        let b: Attachment = "OPE/PROD.01.90.03=c.png".parse().unwrap();
        assert_eq!(b.name_in_bundle(|_| false), "OPE_PROD.01.90.03.png");
        assert!("capture.png".parse::<Attachment>().is_err());
        assert!("=capture.png".parse::<Attachment>().is_err());
        let missing = Attachment { proof: "1".into(), file: "/nonexistent/x.png".into() };
        assert!(missing.read().unwrap_err().to_string().contains("attached to proof 1"));
    }
}
