//! The profile's trust anchors as an auditor reads them (issue #21): subject and SHA-256 of each
//! certificate, whether its subject is an IGC-Santé one, and whether it looks like a public web
//! CA. A production profile must name IGC-Santé anchors only (ECO.1.1.10, api-lps-spec A8/A10);
//! a test profile whose anchors are public web CAs gets a visible warning, never a failure.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{Environment, Target};

/// Default subject markers of IGC-Santé CAs (ACR-EL, ACI-EL-ORG… all carry « IGC-SANTE » in their
/// names, api-lps-spec A10). The exact DNs are not in the project's reference material \[U\]: the
/// profile's `tls.igc_sante_subjects` replaces this list.
pub const DEFAULT_IGC_SANTE_SUBJECTS: [&str; 1] = ["IGC-SANTE"];

/// One anchor certificate of the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorInfo {
    /// The PEM file it was read from (file name only: paths stay on the operator's machine).
    pub file: String,
    /// RFC 4514 subject.
    pub subject: String,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub sha256: String,
    /// Its subject matches one of the IGC-Santé markers.
    pub igc_sante: bool,
    /// Its fingerprint is one of the public web roots of this machine's store.
    #[serde(default)]
    pub public_web_ca: bool,
}

/// Every certificate of the profile's anchor files. `public_roots`: SHA-256 (hex) of the
/// public web roots to compare with (empty when unknown). Unreadable files are reported, not
/// fatal: the run already refuses them when it connects.
pub fn describe(target: &Target, public_roots: &[String]) -> (Vec<AnchorInfo>, Vec<String>) {
    let markers = markers(target);
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for path in &target.trust_anchors {
        match read_certs(path) {
            Ok(ders) => out.extend(ders.iter().filter_map(|der| info(path, der, &markers, public_roots))),
            Err(e) => problems.push(e),
        }
    }
    (out, problems)
}

/// What the report shows above everything else, in French and English.
pub fn warnings(environment: Environment, anchors: &[AnchorInfo]) -> Vec<String> {
    if environment == Environment::Production {
        return vec![];
    }
    anchors
        .iter()
        .filter(|a| a.public_web_ca && !a.igc_sante)
        .map(|a| {
            format!(
                "Ancre de confiance d'une AC web publique dans un profil de test ({}, SHA-256 {}) : la chaîne du serveur \
                 n'est pas vérifiée contre l'IGC-Santé / trust anchor of a public web CA in a test profile: the server \
                 chain is not checked against IGC-Santé",
                a.subject, a.sha256
            )
        })
        .collect()
}

/// Why a production profile's anchors are refused before any connection, or `None`.
pub fn production_problem(target: &Target) -> Option<String> {
    if target.environment != Environment::Production {
        return None;
    }
    let (anchors, problems) = describe(target, &[]);
    if let Some(p) = problems.first() {
        return Some(format!("production profile: {p}"));
    }
    if anchors.is_empty() {
        return Some("production profile: `trust_anchors` names no certificate; it must name the IGC-Santé anchors".into());
    }
    let others: Vec<String> = anchors.iter().filter(|a| !a.igc_sante).map(|a| format!("{} ({})", a.subject, a.file)).collect();
    (!others.is_empty()).then(|| {
        format!(
            "production profile: trust anchors must be IGC-Santé ones (subject containing one of {:?}, `tls.igc_sante_subjects`); \
             not IGC-Santé: {}",
            markers(target),
            others.join("; ")
        )
    })
}

/// SHA-256 (hex) of the roots of this machine's certificate store (the public web CAs).
pub fn system_public_roots() -> Vec<String> {
    rustls_native_certs::load_native_certs().certs.iter().map(|c| hex::encode(Sha256::digest(c.as_ref()))).collect()
}

fn markers(target: &Target) -> Vec<String> {
    match &target.tls.igc_sante_subjects {
        Some(list) => list.clone(),
        None => DEFAULT_IGC_SANTE_SUBJECTS.map(String::from).to_vec(),
    }
}

/// Upper case, accents and separators folded, so « IGC Santé » matches « IGC-SANTE ».
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'É' | 'È' | 'Ê' => 'E',
            '-' | '_' => ' ',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

fn info(path: &Path, der: &[u8], markers: &[String], public_roots: &[String]) -> Option<AnchorInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject().to_string();
    let sha256 = hex::encode(Sha256::digest(der));
    let folded = fold(&subject);
    Some(AnchorInfo {
        file: path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned()),
        igc_sante: markers.iter().any(|m| folded.contains(&fold(m))),
        public_web_ca: public_roots.contains(&sha256),
        subject,
        sha256,
    })
}

fn read_certs(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read trust anchor {}: {e}", path.display()))?;
    let ders: Vec<Vec<u8>> = x509_parser::pem::Pem::iter_from_buffer(&pem).filter_map(Result::ok).map(|p| p.contents).collect();
    if ders.is_empty() {
        return Err(format!("trust anchor {} holds no PEM certificate", path.display()));
    }
    Ok(ders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::smtp::testkit::TestPki;

    fn target(dir: &Path, env: &str, pems: &[(&str, &str)], markers: Option<&str>) -> Target {
        let mut files = Vec::new();
        for (name, pem) in pems {
            std::fs::write(dir.join(name), pem).unwrap();
            files.push(dir.join(name).display().to_string());
        }
        let tls = markers.map(|m| format!("tls: {{ igc_sante_subjects: [{m}] }}\n")).unwrap_or_default();
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nenvironment: {env}\nclaims: [general]\ndomain: op.test\n\
             server_name: mx.op.test\ntrust_anchors: [{}]\n{tls}mailboxes: {{}}\nendpoints: {{}}\n",
            files.join(", ")
        );
        crate::yaml::read::parse_yaml(Path::new("t.yaml"), &yaml).unwrap()
    }

    #[test]
    fn subjects_and_fingerprints_are_read_and_igc_sante_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let (igc, web) = (TestPki::new("TEST AC RACINE IGC-SANTE ELEMENTAIRE"), TestPki::new("Some Public Web Root"));
        let t = target(dir.path(), "test", &[("igc.pem", &igc.ca_pem), ("web.pem", &web.ca_pem)], None);
        let (anchors, problems) = describe(&t, &[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(anchors.len(), 2);
        assert!(anchors[0].subject.contains("IGC-SANTE") && anchors[0].igc_sante && anchors[0].sha256.len() == 64);
        assert!(!anchors[1].igc_sante);
        assert_eq!(anchors[0].file, "igc.pem");
        // Configurable markers, folded (« IGC Santé » matches « IGC-SANTE »).
        let t = target(dir.path(), "test", &[("web.pem", &web.ca_pem)], Some("'public web'"));
        assert!(describe(&t, &[]).0[0].igc_sante);
    }

    #[test]
    fn a_public_web_ca_in_a_test_profile_is_a_warning_and_in_production_a_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let (igc, web) = (TestPki::new("AC IGC-Santé ELEMENTAIRE ORGANISATIONS"), TestPki::new("Some Public Web Root"));
        let t = target(dir.path(), "test", &[("igc.pem", &igc.ca_pem), ("web.pem", &web.ca_pem)], None);
        let web_sha = describe(&t, &[]).0[1].sha256.clone();
        let (anchors, _) = describe(&t, std::slice::from_ref(&web_sha));
        assert!(anchors[1].public_web_ca && !anchors[0].public_web_ca);
        let w = warnings(Environment::Test, &anchors);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("Some Public Web Root") && w[0].contains(&web_sha), "{w:?}");
        assert!(warnings(Environment::Test, &describe(&t, &[]).0).is_empty(), "not a known public root: no warning");

        let prod = target(dir.path(), "production", &[("igc.pem", &igc.ca_pem), ("web.pem", &web.ca_pem)], None);
        let why = production_problem(&prod).expect("refused");
        assert!(why.contains("Some Public Web Root") && !why.contains("ELEMENTAIRE"), "{why}");
        assert_eq!(production_problem(&target(dir.path(), "production", &[("igc.pem", &igc.ca_pem)], None)), None);
        assert_eq!(production_problem(&t), None, "a test profile is never refused for its anchors");
    }
}
