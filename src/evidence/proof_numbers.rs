//! The proof-number mapping file (`--proof-numbers FILE`): an operator who holds the official
//! REM proof numbers renames the bundle's proof files to them without touching scenarios.
//!
//! ```yaml
//! # this tool's proof id: official proof number (the file becomes MSS_5.1.1.png)
//! OPE/PROD.01.90.03: "MSS 5.1.1"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::evidence::error::EvidenceError;
use crate::evidence::names::{proof_file_name, safe_file_name};
use crate::yaml::read::{parse_yaml, read_bounded};

#[derive(Debug, Clone, Default)]
pub struct ProofNumbers {
    map: BTreeMap<String, String>,
    file: PathBuf,
}

impl ProofNumbers {
    /// Reads the mapping; refuses empty numbers and two proofs mapped to one file name.
    pub fn load(file: &Path) -> Result<Self, EvidenceError> {
        let input = |reason: String| EvidenceError::Input { path: file.to_path_buf(), reason };
        let source = read_bounded(file).map_err(|e| input(e.to_string()))?;
        let map: BTreeMap<String, String> = parse_yaml(file, &source).map_err(|e| input(e.to_string()))?;
        Self::new(map, file).map_err(input)
    }

    fn new(map: BTreeMap<String, String>, file: &Path) -> Result<Self, String> {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (id, number) in &map {
            if number.trim().is_empty() {
                return Err(format!("proof `{id}` is mapped to an empty number"));
            }
            if let Some(other) = seen.insert(safe_file_name(number.trim()), id) {
                return Err(format!("proofs `{other}` and `{id}` would both be named `{}`", safe_file_name(number.trim())));
            }
        }
        Ok(ProofNumbers { map, file: file.to_path_buf() })
    }

    /// The official number of a proof, when mapped.
    pub fn official(&self, proof_id: &str) -> Option<&str> {
        self.map.get(proof_id).map(|n| n.trim())
    }

    /// The file name of a proof in the bundle: its official number when mapped, else its id.
    pub fn file_name(&self, proof_id: &str, extension: &str) -> String {
        proof_file_name(self.official(proof_id).unwrap_or(proof_id), extension)
    }

    /// Mapped ids the run does not have (a typo, or a scenario not run): worth a warning.
    pub fn unknown<'a>(&'a self, known: &'a [&str]) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str).filter(move |id| !known.contains(id))
    }

    pub fn file(&self) -> &Path {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_proofs_take_the_official_number() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("numbers.yaml");
        std::fs::write(&f, "OPE/PROD.01.90.03: \"MSS 5.1.1\"\n").unwrap();
        let n = ProofNumbers::load(&f).unwrap();
        assert_eq!(n.file_name("OPE/PROD.01.90.03", "png"), "MSS_5.1.1.png");
        assert_eq!(n.file_name("OPE/PROD.01.90.01", "log"), "OPE_PROD.01.90.01.log");
        assert_eq!(n.unknown(&["OPE/PROD.01.90.01"]).collect::<Vec<_>>(), ["OPE/PROD.01.90.03"]);
    }

    #[test]
    fn collisions_and_empty_numbers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("numbers.yaml");
        std::fs::write(&f, "A.1: \"MSS 1.1\"\nB.1: \"MSS_1.1\"\n").unwrap();
        let err = ProofNumbers::load(&f).unwrap_err().to_string();
        assert!(err.contains("would both be named `MSS_1.1`"), "{err}");
        std::fs::write(&f, "A.1: \" \"\n").unwrap();
        assert!(ProofNumbers::load(&f).unwrap_err().to_string().contains("empty number"));
        std::fs::write(&f, "- not a map\n").unwrap();
        assert!(ProofNumbers::load(&f).unwrap_err().to_string().contains("numbers.yaml"));
    }
}
