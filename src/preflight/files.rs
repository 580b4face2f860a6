//! The files a profile names: trust anchors, client certificates and their keys, secret files.
//! Each must be readable and well formed, certificates not ended, secrets private (mode 0600).

use std::path::Path;

use chrono::NaiveDate;

use super::judge::days_left;
use super::{EXPIRY_WARNING_DAYS, Finding, same, text};
use crate::target::model::{CertificateFiles, Target};
use crate::target::private_file;

/// Every file check, in profile order: anchors, mailbox certificates, negative certificates,
/// then secret files open to others.
pub fn check(t: &Target, today: NaiveDate) -> Vec<Finding> {
    let mut out = Vec::new();
    for anchor in &t.trust_anchors {
        out.push(certificate("trust_anchors", anchor, today, true));
    }
    if t.trust_anchors.is_empty() {
        out.push(Finding::fix(
            "trust_anchors",
            "anchors",
            text("aucune ancre de confiance déclarée", "no trust anchor declared"),
            text("ajouter les racines IGC-Santé (PEM) à `trust_anchors`", "add the IGC-Santé roots (PEM) to `trust_anchors`"),
        ));
    }
    for (role, m) in &t.mailboxes {
        if let Some(files) = &m.certificate {
            out.extend(pair(role, files, today, true));
        }
    }
    let negative = [("negative.expired_client_cert", &t.negative.expired_client_cert), ("negative.foreign_client_cert", &t.negative.foreign_client_cert)];
    for (name, files) in negative {
        // Their validity is what the negative scenarios need as it is (an expired one, a foreign one).
        if let Some(files) = files {
            out.extend(pair(name, files, today, false));
        }
    }
    // Keys were judged above; the rest are token and password files.
    let keys: Vec<String> = t
        .mailboxes
        .values()
        .filter_map(|m| m.certificate.as_ref())
        .chain(t.negative.expired_client_cert.as_ref())
        .chain(t.negative.foreign_client_cert.as_ref())
        .map(|c| c.key.display().to_string())
        .collect();
    for problem in private_file::lax_files(t).into_iter().filter(|p| !keys.iter().any(|k| p.starts_with(k.as_str()))) {
        out.push(Finding::fix("secrets", "permissions", same(problem), text("restreindre le fichier à son propriétaire (chmod 600)", "restrict the file to its owner (chmod 600)")));
    }
    out
}

/// A client certificate and its key: both readable, the key private.
fn pair(subject: &str, files: &CertificateFiles, today: NaiveDate, judge_validity: bool) -> Vec<Finding> {
    let mut out = vec![certificate(subject, &files.cert, today, judge_validity)];
    out.push(match private_file::read_text(&files.key) {
        Ok(_) => Finding::ok(subject, "key", same(format!("{} (0600)", files.key.display()))),
        Err(e) => Finding::fix(
            subject,
            "key",
            same(e),
            text("rendre la clé lisible par son seul propriétaire (chmod 600) et vérifier son chemin", "make the key readable by its owner only (chmod 600) and check its path"),
        ),
    });
    out
}

/// A PEM certificate file: readable, holding certificates; with `judge_validity`, the first one
/// not ended (a fix) nor ending within 30 days (a warning).
fn certificate(subject: &str, path: &Path, today: NaiveDate, judge_validity: bool) -> Finding {
    let check = if subject == "trust_anchors" { "anchors" } else { "certificate" };
    let certs = match std::fs::read(path).map_err(|e| e.to_string()).and_then(|pem| crate::exec::tls::certs_from_pem(&pem).map_err(|e| e.to_string())) {
        Ok(c) => c,
        Err(e) => {
            return Finding::fix(
                subject,
                check,
                same(format!("{}: {e}", path.display())),
                text("vérifier le chemin (relatif au dossier du profil) et le contenu PEM", "check the path (relative to the profile's folder) and the PEM content"),
            );
        }
    };
    let Some(facts) = certs.first().and_then(crate::exec::tls::cert_facts) else {
        return Finding::fix(subject, check, same(format!("{}: not an X.509 certificate", path.display())), text("remplacer par un certificat PEM", "replace it with a PEM certificate"));
    };
    let mut seen = format!("{}: \"{}\" until {}", path.display(), facts.subject, facts.not_after);
    if !judge_validity {
        seen += " (negative material: validity not judged)";
    }
    match days_left(&facts.not_after, today).filter(|_| judge_validity) {
        Some(d) if d < 0 => Finding::fix(subject, check, same(seen), text("certificat expiré : le renouveler", "certificate expired: renew it")),
        Some(d) if d <= EXPIRY_WARNING_DAYS => Finding::warning(
            subject,
            check,
            same(seen),
            text(format!("expire dans {d} jour(s) : le renouveler avant l'audit"), format!("ends in {d} day(s): renew it before the audit")),
        ),
        _ => Finding::ok(subject, check, same(seen)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::preflight::Status;

    fn target(dir: &Path, anchor: &str) -> Target {
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [app]\ndomain: op.test\nserver_name: localhost\n\
             trust_anchors: [{}]\nendpoints: {{}}\nmailboxes:\n  app1: {{ address: test.app@op.test, type: APP, \
             certificate: {{ cert: {}, key: {} }} }}\n",
            dir.join(anchor).display(),
            dir.join("app1.crt.pem").display(),
            dir.join("app1.key.pem").display()
        );
        crate::yaml::read::parse_yaml(Path::new("t.yaml"), &yaml).unwrap()
    }

    fn status(findings: &[Finding], subject: &str, check: &str) -> Status {
        findings.iter().find(|f| f.subject == subject && f.check == check).unwrap_or_else(|| panic!("{subject} {check}: {findings:?}")).status
    }

    #[test]
    fn files_are_read_judged_and_keys_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let pki = crate::exec::smtp::testkit::TestPki::new("Test CA");
        std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
        std::fs::write(dir.path().join("app1.crt.pem"), &pki.cert_pem).unwrap();
        let key = dir.path().join("app1.key.pem");
        std::fs::write(&key, &pki.key_pem).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let today = crate::preflight::judge::today();

        let open = check(&target(dir.path(), "ca.pem"), today);
        assert_eq!(status(&open, "trust_anchors", "anchors"), Status::Ok);
        assert_eq!(status(&open, "app1", "certificate"), Status::Ok);
        assert_eq!(status(&open, "app1", "key"), Status::Fix);
        assert!(open.iter().any(|f| f.detail.en.contains("chmod 600")), "{open:?}");
        assert_eq!(open.iter().filter(|f| f.status == Status::Fix).count(), 1, "said once: {open:?}");

        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let private = check(&target(dir.path(), "missing.pem"), today);
        assert_eq!(status(&private, "app1", "key"), Status::Ok);
        assert_eq!(status(&private, "trust_anchors", "anchors"), Status::Fix);
    }
}
