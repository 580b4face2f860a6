//! The checks that need no network: the guide is a PDF, contacts are well-formed, the numbers
//! are declared, the production bundle holds the production proof and verifies.

use std::io::Read;
use std::path::Path;

use ed25519_dalek::VerifyingKey;

use super::checklist::{Item, ItemId, Note, Status};
use super::model::Contact;
use crate::evidence::bundle::manifest::{MANIFEST_FILE, Manifest};
use crate::evidence::bundle::verify::{Signer, verify_bundle};
use crate::evidence::names::bundle_stem;
use crate::evidence::card::production::PRODUCTION_PROOF_FILE;

fn shown(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

fn not_declared(id: ItemId, key: &str) -> Item {
    Item::new(id, Status::Missing, None, Note::new(format!("non déclaré (clé `{key}`)"), format!("not declared (key `{key}`)")))
}

/// Present and starting with the PDF header `%PDF-` (ISO 32000-1 §7.5.2).
pub fn connection_guide(path: Option<&Path>) -> Item {
    let id = ItemId::ConnectionGuide;
    let Some(path) = path else { return not_declared(id, "connection_guide") };
    let mut head = [0u8; 5];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Item::new(id, Status::Missing, shown(path), Note::new("fichier introuvable", "file not found"))
        }
        Err(e) => Item::new(id, Status::Invalid, shown(path), Note::new(format!("illisible : {e}"), format!("unreadable: {e}"))),
        Ok(()) if &head == b"%PDF-" => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            Item::new(id, Status::Checked, shown(path), Note::new(format!("fichier PDF ({size} octets)"), format!("a PDF file ({size} bytes)")))
        }
        Ok(()) => Item::new(
            id,
            Status::Invalid,
            shown(path),
            Note::new("ce n'est pas un PDF (l'en-tête %PDF- manque)", "not a PDF (no %PDF- header)"),
        ),
    }
}

/// `local@domain.tld`, no spaces, one `@`.
fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

/// Digits with the usual separators, an optional leading `+`, 10 to 15 digits (E.164 at most).
fn phone_ok(p: &str) -> bool {
    let body = p.strip_prefix('+').unwrap_or(p);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')')) && (10..=15).contains(&digits)
}

/// Each contact has an e-mail address or a phone number, and each given one is well-formed.
pub fn support_contacts(contacts: &[Contact]) -> Item {
    let id = ItemId::SupportContacts;
    if contacts.is_empty() {
        return not_declared(id, "support_contacts");
    }
    let value = contacts
        .iter()
        .map(|c| [c.name.as_deref(), c.email.as_deref(), c.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" ; ");
    let mut wrong_fr = Vec::new();
    let mut wrong_en = Vec::new();
    for (i, c) in contacts.iter().enumerate() {
        let n = i + 1;
        if c.email.is_none() && c.phone.is_none() {
            wrong_fr.push(format!("contact {n} : ni adresse ni téléphone"));
            wrong_en.push(format!("contact {n}: neither an address nor a phone number"));
        }
        if let Some(e) = c.email.as_deref().filter(|e| !email_ok(e)) {
            wrong_fr.push(format!("contact {n} : adresse mal formée « {e} »"));
            wrong_en.push(format!("contact {n}: malformed address `{e}`"));
        }
        if let Some(p) = c.phone.as_deref().filter(|p| !phone_ok(p)) {
            wrong_fr.push(format!("contact {n} : numéro mal formé « {p} »"));
            wrong_en.push(format!("contact {n}: malformed phone number `{p}`"));
        }
    }
    if wrong_fr.is_empty() {
        let n = contacts.len();
        Item::new(id, Status::Checked, Some(value), Note::new(format!("{n} contact(s) bien formé(s)"), format!("{n} well-formed contact(s)")))
    } else {
        Item::new(id, Status::Invalid, Some(value), Note::new(wrong_fr.join(" ; "), wrong_en.join("; ")))
    }
}

/// A number the agency gave: the tool can only say it is declared.
pub fn number(id: ItemId, key: &str, value: Option<&str>) -> Item {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => not_declared(id, key),
        Some(v) => Item::new(
            id,
            Status::Present,
            Some(v.to_string()),
            Note::new("déclaré ; attribué par l'ANS, non vérifiable par l'outil", "declared; given by the agency, the tool cannot check it"),
        ),
    }
}

/// The bundle exists, holds `preuve-test-production.png` and verifies (`mssconf bundle verify`).
pub fn production_proof(bundle: Option<&Path>, pubkey: Option<&VerifyingKey>) -> Item {
    let id = ItemId::ProductionProof;
    let Some(path) = bundle else { return not_declared(id, "production_bundle") };
    if !path.is_file() {
        return Item::new(id, Status::Missing, shown(path), Note::new("archive introuvable", "bundle not found"));
    }
    let v = match verify_bundle(path, pubkey) {
        Ok(v) => v,
        Err(e) => return Item::new(id, Status::Invalid, shown(path), Note::new(format!("illisible : {e}"), format!("unreadable: {e}"))),
    };
    if let Some(d) = v.discrepancies.first() {
        let n = v.discrepancies.len();
        return Item::new(
            id,
            Status::Invalid,
            shown(path),
            Note::new(
                format!("la vérification de l'archive échoue ({n} écart(s)) ; premier : {} — {}", d.file, d.problem),
                format!("the bundle does not verify ({n} discrepancy(ies)); first: {} — {}", d.file, d.problem),
            ),
        );
    }
    if !holds(path, PRODUCTION_PROOF_FILE) {
        return Item::new(
            id,
            Status::Invalid,
            shown(path),
            Note::new(
                format!("l'archive est intègre mais ne contient pas {PRODUCTION_PROOF_FILE}"),
                format!("the bundle verifies but holds no {PRODUCTION_PROOF_FILE}"),
            ),
        );
    }
    let (fr, en) = match &v.signer {
        Signer::Authenticated { fingerprint } => (
            format!("archive intègre, signée par la clé publiée {fingerprint}"),
            format!("bundle verifies, signed by the published key {fingerprint}"),
        ),
        Signer::Embedded { fingerprint } => (
            format!("archive intègre, signée par la clé qu'elle contient ({fingerprint}), signataire non authentifié (déclarer `production_pubkey`)"),
            format!("bundle verifies, signed by the key it holds ({fingerprint}); signer not authenticated (declare `production_pubkey`)"),
        ),
        Signer::None => ("archive intègre, non signée".into(), "bundle verifies, not signed".into()),
    };
    let (name_fr, name_en) = naming_note(path);
    let (co_fr, co_en) = cosignatures_note(&v.cosignatures);
    Item::new(id, Status::Checked, shown(path), Note::new(format!("{fr}{co_fr} ; {name_fr}"), format!("{en}{co_en}; {name_en}")))
}

/// The auditors' co-signatures and the attestation each signed (`bundle cosign --attestation`).
fn cosignatures_note(cosignatures: &[crate::evidence::bundle::cosign::CoSignature]) -> (String, String) {
    let (mut fr, mut en) = (String::new(), String::new());
    for c in cosignatures.iter().filter(|c| c.problem.is_none()) {
        let who = c.signer.as_deref().unwrap_or("?");
        fr.push_str(&format!(" ; co-signée par « {who} » (clé {})", c.fingerprint));
        en.push_str(&format!("; co-signed by \"{who}\" (key {})", c.fingerprint));
        if let Some(a) = &c.attestation {
            fr.push_str(&format!(", attestation signée : « {a} »"));
            en.push_str(&format!(", signed attestation: \"{a}\""));
        }
    }
    (fr, en)
}

/// Whether the zip is named by the deposit rule (`<Operator>_<Service>_<Version>_<DDMMYY>_<n>.zip`,
/// ANS document 004 §6.3) for the run its manifest describes. Said, never failed: a file is
/// renamed in a second.
fn naming_note(zip_path: &Path) -> (String, String) {
    let manifest = std::fs::File::open(zip_path).ok().and_then(|f| zip::ZipArchive::new(f).ok()).and_then(|mut z| {
        let mut text = Vec::new();
        // A manifest is a few KB: a bigger one (a zip bomb) is not read whole.
        z.by_name(MANIFEST_FILE).ok()?.take(16 << 20).read_to_end(&mut text).ok()?;
        serde_json::from_slice::<Manifest>(&text).ok()
    });
    let Some(m) = manifest else { return ("nom non contrôlé".into(), "name not checked".into()) };
    let stem = bundle_stem(&m.run.target, m.run.started);
    let name = zip_path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let numbered = name
        .strip_prefix(&format!("{stem}_"))
        .and_then(|rest| rest.strip_suffix(".zip"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if numbered {
        ("nommée selon la règle de dépôt".into(), "named by the deposit rule".into())
    } else {
        (
            format!("nom différent de la règle de dépôt (attendu {stem}_<numéro d'envoi>.zip)"),
            format!("name differs from the deposit rule (expected {stem}_<deposit number>.zip)"),
        )
    }
}

fn holds(zip_path: &Path, name: &str) -> bool {
    std::fs::File::open(zip_path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|mut z| z.by_name(name).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_guide_a_fake_pdf_and_a_real_header() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(connection_guide(None).status, Status::Missing);
        let absent = connection_guide(Some(&dir.path().join("guide.pdf")));
        assert_eq!(absent.status, Status::Missing);
        assert_eq!(absent.note.fr, "fichier introuvable");
        let fake = dir.path().join("fake.pdf");
        std::fs::write(&fake, b"<html>not a pdf</html>").unwrap();
        assert_eq!(connection_guide(Some(&fake)).status, Status::Invalid);
        let real = dir.path().join("real.pdf");
        std::fs::write(&real, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();
        assert_eq!(connection_guide(Some(&real)).status, Status::Checked);
    }

    fn contact(email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact { name: Some("Support".into()), email: email.map(Into::into), phone: phone.map(Into::into) }
    }

    #[test]
    fn contacts_are_checked_one_by_one() {
        assert_eq!(support_contacts(&[]).status, Status::Missing);
        let good = support_contacts(&[contact(Some("support@op.fr"), Some("+33 1 23 45 67 89")), contact(None, Some("01.23.45.67.89"))]);
        assert_eq!(good.status, Status::Checked, "{:?}", good.note);
        let bad = support_contacts(&[contact(Some("support at op.fr"), None), contact(None, None), contact(None, Some("123"))]);
        assert_eq!(bad.status, Status::Invalid);
        assert!(bad.note.fr.contains("contact 1 : adresse mal formée"), "{}", bad.note.fr);
        assert!(bad.note.fr.contains("contact 2 : ni adresse"), "{}", bad.note.fr);
        assert!(bad.note.en.contains("contact 3: malformed phone"), "{}", bad.note.en);
        for e in ["a@b", "@b.fr", "a@@b.fr", "a b@c.fr", "a@.fr"] {
            assert!(!email_ok(e), "{e}");
        }
    }

    #[test]
    fn numbers_are_present_or_missing() {
        assert_eq!(number(ItemId::DossierNumber, "dossier_number", Some("  ")).status, Status::Missing);
        assert_eq!(number(ItemId::DossierNumber, "dossier_number", Some("D-42")).status, Status::Present);
    }

    #[test]
    fn a_production_bundle_that_is_not_there_or_not_a_zip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(production_proof(Some(&dir.path().join("x.zip")), None).status, Status::Missing);
        let junk = dir.path().join("junk.zip");
        std::fs::write(&junk, b"PK not really").unwrap();
        assert_eq!(production_proof(Some(&junk), None).status, Status::Invalid);
    }
}
