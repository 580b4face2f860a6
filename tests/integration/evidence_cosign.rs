//! An auditor co-signs a bundle with their own key; `bundle verify` shows both signatures, whose
//! key and what each covers, and tampering with either signature is detected.

use std::path::PathBuf;
use std::sync::OnceLock;

use ed25519_dalek::{Signer as _, SigningKey};
use crate::evidence_bundle::{entries, fixture, flip_middle_byte, mssconf, named, public, tampered};
use mssconf::evidence::bundle::verify::{Signer, verify_bundle_with};
use mssconf::evidence::bundle::{cosign_bundle, keys};

struct Auditor {
    key: SigningKey,
    pub_file: PathBuf,
    operator_pub: PathBuf,
    cosigned: PathBuf,
}

/// The fixture's signed bundle co-signed by an auditor whose key `mssconf keygen` made.
fn auditor() -> &'static Auditor {
    static A: OnceLock<Auditor> = OnceLock::new();
    A.get_or_init(|| {
        let f = fixture();
        let dir = f.scratch.join("auditor");
        let (code, text) = mssconf(&["keygen", "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{text}");
        let key = keys::read_signing_key(&dir.join("mssconf.key")).unwrap();
        let cosigned = f.scratch.join("cosigned.zip");
        let key_arg = dir.join("mssconf.key");
        // The auditor's own words, signed with the auditor's key (issue #18 item 5).
        let attestation = f.scratch.join("constat.txt");
        std::fs::write(&attestation, "Constat : étapes 1 à 3 exécutées devant moi.\nAucune réserve.\n").unwrap();
        let (code, text) = mssconf(&[
            "bundle", "cosign", f.signed.to_str().unwrap(), "--key", key_arg.to_str().unwrap(),
            "--signer", "Jeanne Martin, auditrice", "--out", cosigned.to_str().unwrap(),
            "--attestation", &format!("@{}", attestation.display()),
        ]);
        assert_eq!(code, 0, "{text}");
        let operator_pub = f.scratch.join("operator.pub");
        std::fs::write(&operator_pub, keys::public_key_pem(&public())).unwrap();
        Auditor { key, pub_file: dir.join("mssconf.pub"), operator_pub, cosigned }
    })
}

#[test]
fn verify_shows_both_signatures_whose_keys_and_what_they_cover() {
    let a = auditor();
    let v = verify_bundle_with(&a.cosigned, Some(&public()), &[a.key.verifying_key()]).unwrap();
    assert!(v.passed(), "{:?}", v.discrepancies);
    assert!(matches!(v.signer, Signer::Authenticated { .. }));
    assert_eq!(v.cosignatures.len(), 1);
    let c = &v.cosignatures[0];
    assert!(c.authenticated && c.problem.is_none(), "{c:?}");
    assert_eq!(c.fingerprint, keys::fingerprint(&a.key.verifying_key()));
    assert_eq!(c.covers, ["manifest.json", "manifest.sig"]);
    assert_eq!(c.attestation.as_deref(), Some("Constat : étapes 1 à 3 exécutées devant moi.\nAucune réserve."));

    let (code, text) = mssconf(&[
        "bundle", "verify", a.cosigned.to_str().unwrap(), "--pubkey", a.operator_pub.to_str().unwrap(),
        "--cosigner-pubkey", a.pub_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("made with the key given by --pubkey ({})", keys::fingerprint(&public()))), "{text}");
    assert!(text.contains("the operator's signature covers manifest.json, which lists the SHA-256 of"), "{text}");
    let line = text.lines().find(|l| l.contains("co-signature 1")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.starts_with("ok   co-signature 1 (auditor) « Jeanne Martin, auditrice »"), "{line}");
    assert!(line.contains(&keys::fingerprint(&a.key.verifying_key())) && line.contains("covers manifest.json + manifest.sig"), "{line}");
    assert!(text.contains("       attestation: Constat : étapes 1 à 3 exécutées devant moi.\n       attestation: Aucune réserve.\n"), "{text}");
    // The dossier checklist names the co-signer and the attestation they signed.
    let item = mssconf::dossier::checks::production_proof(Some(&a.cosigned), Some(&public()));
    assert!(item.note.fr.contains("co-signée par « Jeanne Martin, auditrice »"), "{:?}", item.note);
    assert!(item.note.fr.contains("attestation signée : « Constat : étapes 1 à 3 exécutées devant moi."), "{:?}", item.note);
    // Without the auditor's published key the co-signer is not authenticated, and says so.
    let (code, text) = mssconf(&["bundle", "verify", a.cosigned.to_str().unwrap(), "--pubkey", a.operator_pub.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("NOT authenticated (pass --cosigner-pubkey)"), "{text}");
}

#[test]
fn tampering_with_either_signature_is_detected() {
    let a = auditor();
    let cosign_sig = entries(&a.cosigned).into_iter().map(|(n, _)| n).find(|n| n.starts_with("cosignatures/") && n.ends_with(".sig")).unwrap();
    let cosign_json = cosign_sig.replace(".sig", ".json");
    let trusted = [a.key.verifying_key()];

    // The auditor's signature damaged.
    let zip = tampered(&a.cosigned, "cosig-flip", |n, b| Some(if n == cosign_sig { flip_middle_byte(b) } else { b }), vec![]);
    let v = verify_bundle_with(&zip, Some(&public()), &trusted).unwrap();
    assert!(!v.passed() && named(&v, &cosign_json), "{:?}", v.discrepancies);
    // The statement edited: another signer typed in on the auditor's behalf.
    let zip = tampered(
        &a.cosigned,
        "cosig-statement",
        |n, b| Some(if n == cosign_json { String::from_utf8(b).unwrap().replace("Jeanne", "Jean").into_bytes() } else { b }),
        vec![],
    );
    assert!(!verify_bundle_with(&zip, None, &[]).unwrap().passed());

    // The operator's signature replaced by a valid one from another key: the operator check
    // fails against --pubkey, and the co-signature no longer covers what it signed.
    let other = SigningKey::from_bytes(&[11u8; 32]);
    let manifest = entries(&a.cosigned).into_iter().find(|(n, _)| n == "manifest.json").unwrap().1;
    let other_sig = other.sign(&manifest).to_bytes().to_vec();
    let zip = tampered(&a.cosigned, "op-sig", |n, b| Some(if n == "manifest.sig" { other_sig.clone() } else { b }), vec![]);
    let v = verify_bundle_with(&zip, Some(&public()), &trusted).unwrap();
    assert!(!v.passed() && named(&v, "manifest.json") && named(&v, &cosign_json), "{:?}", v.discrepancies);
    let v = verify_bundle_with(&zip, None, &[]).unwrap();
    assert!(named(&v, &cosign_json), "even without keys the co-signature names the change: {:?}", v.discrepancies);

    // The co-signature removed while the reader expects it; a stray file under cosignatures/.
    let zip = tampered(&a.cosigned, "cosig-removed", |n, b| (!n.starts_with("cosignatures/")).then_some(b), vec![]);
    assert!(named(&verify_bundle_with(&zip, Some(&public()), &trusted).unwrap(), "cosignatures/"));
    let zip = tampered(&a.cosigned, "cosig-extra", |_, b| Some(b), vec![("cosignatures/notes.txt".into(), b"x".to_vec())]);
    assert!(named(&verify_bundle_with(&zip, None, &[]).unwrap(), "cosignatures/notes.txt"));
}

#[test]
fn a_tampered_bundle_is_not_cosigned_and_a_key_cosigns_once() {
    let a = auditor();
    let bad = tampered(&fixture().signed, "to-cosign", |n, b| Some(if n == "report.json" { flip_middle_byte(b) } else { b }), vec![]);
    let err = cosign_bundle(&bad, &a.key, None, None).unwrap_err().to_string();
    assert!(err.contains("does not verify") && err.contains("report.json"), "{err}");
    let again = fixture().scratch.join("cosigned-twice.zip");
    let err = cosign_bundle(&a.cosigned, &a.key, None, Some(&again)).unwrap_err().to_string();
    assert!(err.contains("already co-signed"), "{err}");
    assert!(!again.exists());
}
