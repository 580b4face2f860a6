//! The dossier file (`dossier.yaml`): what the agency asks for beside the proofs (AF-OPE-MSS
//! §4.2, §5.1, §6.2; referencing convention art. 4): the connection guide PDF, the public
//! documentation link, the support contacts, the référencement / attestation number, the dossier
//! number and the production proof's bundle. Relative paths are taken from the file's folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::yaml::error::LoadError;
use crate::yaml::read::{parse_yaml, read_bounded};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dossier {
    /// The connection guide for publishers and end clients (a PDF).
    #[serde(default)]
    pub connection_guide: Option<PathBuf>,
    /// The public documentation of the service (an https URL).
    #[serde(default)]
    pub documentation_url: Option<String>,
    #[serde(default)]
    pub support_contacts: Vec<Contact>,
    /// The référencement / attestation number given by the agency.
    #[serde(default)]
    pub referencing_number: Option<String>,
    /// The dossier number of the deposit (Convergence).
    #[serde(default)]
    pub dossier_number: Option<String>,
    /// The bundle zip of the production technical test (`mssconf proof` / `mssconf bundle`).
    #[serde(default)]
    pub production_bundle: Option<PathBuf>,
    /// The operator's published public key, to authenticate the production bundle's signer.
    #[serde(default)]
    pub production_pubkey: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Who or which team answers (« Support niveau 1 »).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Reads a dossier file; errors say `file:line:column: problem; expected …`.
pub fn load_dossier(file: &Path) -> Result<Dossier, LoadError> {
    let source = read_bounded(file)?;
    let mut d: Dossier = parse_yaml(file, &source)?;
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    for p in [&mut d.connection_guide, &mut d.production_bundle, &mut d.production_pubkey].into_iter().flatten() {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file_and_unknown_keys_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("dossier.yaml");
        std::fs::write(&f, "connection_guide: guide.pdf\nsupport_contacts:\n  - { name: Support, email: a@b.fr }\n").unwrap();
        let d = load_dossier(&f).unwrap();
        assert_eq!(d.connection_guide.unwrap(), dir.path().join("guide.pdf"));
        assert_eq!(d.support_contacts[0].email.as_deref(), Some("a@b.fr"));
        std::fs::write(&f, "conection_guide: guide.pdf\n").unwrap();
        let err = load_dossier(&f).unwrap_err().to_string();
        assert!(err.contains("dossier.yaml:1"), "{err}");
    }
}
