//! Bundles built from a real run (production test + token refusals against the embedded mock):
//! layout and naming, verification of a fresh bundle, and every kind of tampering named.



use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ed25519_dalek::{Signer as _, SigningKey};
use crate::evidence_support::{everything, run_in_process, test_scenarios};
use mssconf::lang::Lang;
use mssconf::evidence::bundle::verify::{Signer, Verification, verify_bundle};
use mssconf::evidence::bundle::{create_bundle, keys, load_run};
use mssconf::runner::TargetChoice;

pub(crate) struct Fixture {
    pub(crate) run_dir: PathBuf,
    pub(crate) key: SigningKey,
    pub(crate) signed: PathBuf,
    pub(crate) unsigned: PathBuf,
    pub(crate) scratch: PathBuf,
}

/// One run and two bundles (signed, unsigned), shared by the tests of this file.
pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("evidence-bundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let run_dir = base.join("run");
        run_in_process(vec![test_scenarios()], &everything(), TargetChoice::EmbeddedMock(Default::default()), &run_dir);
        let (key_path, _) = keys::generate(&base.join("keys")).unwrap();
        let key = keys::read_signing_key(&key_path).unwrap();
        let signed = create_bundle(&run_dir, Some(&base.join("signed")), Some(&key)).unwrap();
        let unsigned = create_bundle(&run_dir, Some(&base.join("unsigned")), None).unwrap();
        let scratch = base.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        Fixture { run_dir, key, signed, unsigned, scratch }
    })
}

pub(crate) fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().unwrap().to_string(), b)
        })
        .collect()
}

pub(crate) fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (n, b) in files {
        z.start_file(n.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(b).unwrap();
    }
    std::fs::write(path, z.finish().unwrap().into_inner()).unwrap();
}

/// A copy of `zip` with `edit` applied to each entry (None drops it) and `extra` appended.
pub(crate) fn tampered(zip: &Path, name: &str, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>, extra: Vec<(String, Vec<u8>)>) -> PathBuf {
    let mut files: Vec<_> = entries(zip).into_iter().filter_map(|(n, b)| edit(&n, b).map(|b| (n, b))).collect();
    files.extend(extra);
    let out = fixture().scratch.join(format!("{name}.zip"));
    write_zip(&out, &files);
    out
}

pub(crate) fn flip_middle_byte(mut b: Vec<u8>) -> Vec<u8> {
    let i = b.len() / 2;
    b[i] ^= 0x01;
    b
}

pub(crate) fn named(v: &Verification, file: &str) -> bool {
    v.discrepancies.iter().any(|d| d.file == file)
}

pub(crate) fn public() -> ed25519_dalek::VerifyingKey {
    fixture().key.verifying_key()
}

#[test]
fn the_bundle_has_the_agency_layout() {
    let f = fixture();
    let name = f.signed.file_name().unwrap().to_string_lossy().to_string();
    let run = load_run(&f.run_dir).unwrap();
    let date = mssconf::util::paris::to_paris(run.started).format("%d%m%y").to_string();
    assert_eq!(name, format!("MockOperateur_MSSanteMock_0.1.0_{date}_1.zip"));
    let names: Vec<String> = entries(&f.signed).into_iter().map(|(n, _)| n).collect();
    for must in [
        "manifest.json",
        "manifest.sig",
        "mssconf.pub",
        "index.csv",
        "junit.xml",
        "report.html",
        "report.json",
        "preuve-test-production.png",
        "OPE_PROD.01.90.01.log",
        "OPE_PROD.01.90.02.eml",
        "OPE_PROD.01.90.03.png",
        "OPE_AUTH.01.90.04.json",
        "messages/OPE_PROD.01.90/prod.eml",
        "messages/OPE_PROD.01.90/prod_read.eml",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} missing from {names:?}");
    }
    let manifest: serde_json::Value = serde_json::from_slice(&entries(&f.signed)[0].1).unwrap();
    let listed: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(listed.len(), names.len() - 2, "every file but manifest.json and manifest.sig is listed");
    assert_eq!(manifest["run"]["run_id"], run.run_id.as_str());
    assert_eq!(manifest["scenarios"].as_array().unwrap().len(), run.scenarios.len());
    assert_eq!(manifest["scenarios"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["signature"]["public_key"], hex::encode(public().as_bytes()));
}

#[test]
fn index_csv_maps_every_proof_to_its_file() {
    let f = fixture();
    let files = entries(&f.signed);
    let csv = String::from_utf8(files.iter().find(|(n, _)| n == "index.csv").unwrap().1.clone()).unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows[0], "proof_id,scenario,requirements,kind,title,verdict,file");
    let run = load_run(&f.run_dir).unwrap();
    let proofs: usize = run.scenarios.iter().map(|s| s.proofs.len()).sum();
    assert_eq!(rows.len() - 1, proofs);
    let row = rows.iter().find(|r| r.starts_with("OPE/PROD.01.90.03,")).unwrap();
    assert!(row.starts_with("OPE/PROD.01.90.03,OPE/PROD.01.90,OPE/PROD.01,screenshot,"), "{row}");
    assert!(row.ends_with(",pass,OPE_PROD.01.90.03.png"), "{row}");
    for r in &rows[1..] {
        let file = r.rsplit(',').next().unwrap();
        assert!(files.iter().any(|(n, _)| n == file), "{file} of {r} not in the zip");
    }
}

#[test]
fn numbering_takes_the_first_free_number() {
    let f = fixture();
    let out = f.scratch.join("numbering");
    let a = create_bundle(&f.run_dir, Some(&out), None).unwrap();
    let b = create_bundle(&f.run_dir, Some(&out), None).unwrap();
    assert!(a.to_string_lossy().ends_with("_1.zip") && b.to_string_lossy().ends_with("_2.zip"), "{a:?} {b:?}");
}

#[test]
fn a_fresh_bundle_verifies() {
    let f = fixture();
    let v = verify_bundle(&f.signed, None).unwrap();
    assert!(v.passed(), "{:?}", v.discrepancies);
    assert!(matches!(v.signer, Signer::Embedded { .. }), "without --pubkey the signer is not authenticated");
    let v = verify_bundle(&f.signed, Some(&public())).unwrap();
    assert!(v.passed(), "{:?}", v.discrepancies);
    assert!(matches!(v.signer, Signer::Authenticated { .. }));
    assert!(v.files_ok >= 14);
    let v = verify_bundle(&f.unsigned, None).unwrap();
    assert!(v.passed() && v.signer == Signer::None, "{:?}", v.discrepancies);
}

#[test]
fn a_changed_byte_is_named_in_any_file() {
    let f = fixture();
    for target in ["OPE_PROD.01.90.03.png", "OPE_PROD.01.90.01.log", "messages/OPE_PROD.01.90/prod.eml", "report.json", "index.csv", "manifest.json"] {
        let zip = tampered(&f.signed, &format!("flip-{}", target.replace('/', "_")), |n, b| Some(if n == target { flip_middle_byte(b) } else { b }), vec![]);
        for key in [None, Some(public())] {
            let v = verify_bundle(&zip, key.as_ref()).unwrap();
            assert!(!v.passed(), "{target}: a changed byte went unnoticed");
            assert!(named(&v, target), "{target} not named: {:?}", v.discrepancies);
        }
    }
    // Unsigned: a changed file is still caught by its hash.
    let zip = tampered(&f.unsigned, "flip-unsigned", |n, b| Some(if n == "report.html" { flip_middle_byte(b) } else { b }), vec![]);
    assert!(named(&verify_bundle(&zip, None).unwrap(), "report.html"));
}

#[test]
fn removed_and_added_files_are_named() {
    let f = fixture();
    let zip = tampered(&f.signed, "removed", |n, b| (n != "OPE_PROD.01.90.02.eml").then_some(b), vec![]);
    let v = verify_bundle(&zip, Some(&public())).unwrap();
    assert!(!v.passed() && named(&v, "OPE_PROD.01.90.02.eml"), "{:?}", v.discrepancies);
    assert!(v.discrepancies.iter().any(|d| d.problem.contains("missing")));
    let zip = tampered(&f.signed, "added", |_, b| Some(b), vec![("extra/notes.txt".into(), b"added later".to_vec())]);
    let v = verify_bundle(&zip, Some(&public())).unwrap();
    assert!(!v.passed() && named(&v, "extra/notes.txt"), "{:?}", v.discrepancies);
    assert!(v.discrepancies.iter().any(|d| d.problem.contains("not listed")));
}

#[test]
fn a_swapped_signature_is_caught() {
    let f = fixture();
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let manifest = entries(&f.signed).into_iter().find(|(n, _)| n == "manifest.json").unwrap().1;
    let other_sig = other.sign(&manifest).to_bytes().to_vec();
    let other_pub = keys::public_key_pem(&other.verifying_key()).into_bytes();
    // Signature and embedded key both swapped for another signer's.
    let swap = |n: &str, b: Vec<u8>| {
        Some(match n {
            "manifest.sig" => other_sig.clone(),
            "mssconf.pub" => other_pub.clone(),
            _ => b,
        })
    };
    let zip = tampered(&f.signed, "swapped", swap, vec![]);
    let v = verify_bundle(&zip, Some(&public())).unwrap();
    assert!(!v.passed() && named(&v, "mssconf.pub") && named(&v, "manifest.json"), "{:?}", v.discrepancies);
    let v = verify_bundle(&zip, None).unwrap();
    assert!(!v.passed() && named(&v, "mssconf.pub"), "the manifest names the original signer: {:?}", v.discrepancies);
    // Only the signature swapped.
    let zip = tampered(&f.signed, "sig-only", |n, b| Some(if n == "manifest.sig" { other_sig.clone() } else { b }), vec![]);
    let v = verify_bundle(&zip, None).unwrap();
    assert!(!v.passed() && named(&v, "manifest.json"), "{:?}", v.discrepancies);
    assert!(v.discrepancies.iter().any(|d| d.problem.contains("manifest.sig")));
    // A bundle without signature checked against a key.
    let v = verify_bundle(&f.unsigned, Some(&public())).unwrap();
    assert!(!v.passed() && named(&v, "manifest.sig"), "{:?}", v.discrepancies);
}

#[test]
fn a_complete_forgery_passes_only_without_pubkey_and_says_so() {
    let f = fixture();
    let other = SigningKey::from_bytes(&[5u8; 32]);
    let mut files = entries(&f.signed);
    let mut manifest: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    manifest["signature"]["public_key"] = hex::encode(other.verifying_key().as_bytes()).into();
    let pem = keys::public_key_pem(&other.verifying_key()).into_bytes();
    for e in manifest["files"].as_array_mut().unwrap() {
        if e["name"] == "mssconf.pub" {
            e["size"] = pem.len().into();
            e["sha256"] = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pem)).into();
        }
    }
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    for (n, b) in &mut files {
        match n.as_str() {
            "manifest.json" => *b = bytes.clone(),
            "manifest.sig" => *b = other.sign(&bytes).to_bytes().to_vec(),
            "mssconf.pub" => *b = pem.clone(),
            _ => {}
        }
    }
    let zip = f.scratch.join("forged.zip");
    write_zip(&zip, &files);
    let v = verify_bundle(&zip, None).unwrap();
    assert!(v.passed() && matches!(v.signer, Signer::Embedded { .. }), "{:?}", v.discrepancies);
    assert!(!verify_bundle(&zip, Some(&public())).unwrap().passed());
}

#[test]
fn damaged_zip_bytes_are_reported() {
    let f = fixture();
    let mut raw = std::fs::read(&f.signed).unwrap();
    // Inside the first entries' data, past the first local header.
    raw[200] ^= 0xff;
    raw[201] ^= 0xff;
    let zip = f.scratch.join("damaged.zip");
    std::fs::write(&zip, raw).unwrap();
    let v = verify_bundle(&zip, Some(&public())).unwrap();
    assert!(!v.passed(), "damage unnoticed");
    let zip = f.scratch.join("not-a-zip.zip");
    std::fs::write(&zip, b"hello").unwrap();
    let v = verify_bundle(&zip, None).unwrap();
    assert!(named(&v, "not-a-zip.zip"), "{:?}", v.discrepancies);
}

#[test]
fn png_proofs_decode_and_rerender_identically() {
    let f = fixture();
    let run = load_run(&f.run_dir).unwrap();
    let pngs: Vec<String> = run.scenarios.iter().flat_map(|s| &s.proofs).filter_map(|p| p.file.clone()).filter(|p| p.ends_with(".png")).collect();
    assert!(pngs.len() >= 2);
    for p in pngs.iter().chain(std::iter::once(&"preuve-test-production.png".to_string())) {
        let bytes = std::fs::read(f.run_dir.join(p)).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        assert_eq!(pixmap.width(), 1400, "{p}");
        assert!(pixmap.height() > 400, "{p}");
    }
    // Same record, same pictures: re-render from report.json into another folder.
    let again = f.scratch.join("rerender");
    let mut record = run.clone();
    mssconf::evidence::write_evidence(&mut record, vec![], &again, Lang::Fr, None).unwrap();
    for p in &pngs {
        assert_eq!(std::fs::read(f.run_dir.join(p)).unwrap(), std::fs::read(again.join(p)).unwrap(), "{p} differs");
    }
}

pub(crate) fn mssconf(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mssconf")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_command_exit_codes() {
    let f = fixture();
    let signed = f.signed.to_str().unwrap();
    // Without --pubkey the signer is not authenticated: a script reading only the exit code
    // must not accept it, unless told to by name (and the verdict says so).
    let (code, text) = mssconf(&["bundle", "verify", signed]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("NOT authenticated") && text.contains("verification FAILED: the signer is not authenticated"), "{text}");
    let (code, text) = mssconf(&["bundle", "verify", signed, "--trust-embedded-key"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("verification passed (signer not authenticated: accepted by --trust-embedded-key)"), "{text}");
    let pub_path = f.scratch.join("fixture.pub");
    std::fs::write(&pub_path, keys::public_key_pem(&public())).unwrap();
    let (code, text) = mssconf(&["bundle", "verify", signed, "--pubkey", pub_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("made with the key given by --pubkey"), "{text}");
    let bad = tampered(&f.signed, "cli-flip", |n, b| Some(if n == "junit.xml" { flip_middle_byte(b) } else { b }), vec![]);
    let (code, text) = mssconf(&["bundle", "verify", bad.to_str().unwrap(), "--trust-embedded-key", "--allow-unsigned"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL junit.xml: SHA-256"), "{text}");
    // An unsigned bundle: refused unless --allow-unsigned.
    let out = f.scratch.join("cli-unsigned");
    let (code, text) = mssconf(&["bundle", "--run", f.run_dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let unsigned = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "zip")).unwrap();
    let (code, text) = mssconf(&["bundle", "verify", unsigned.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("verification FAILED: the bundle is not signed"), "{text}");
    let (code, text) = mssconf(&["bundle", "verify", unsigned.to_str().unwrap(), "--allow-unsigned"]);
    assert!(code == 0 && text.contains("unsigned: accepted by --allow-unsigned"), "{code} {text}");
    assert_eq!(mssconf(&["bundle", "verify", "/nonexistent/bundle.zip"]).0, 2);
    assert_eq!(mssconf(&["bundle", "verify", signed, "--pubkey", "/nonexistent.pub"]).0, 2);
    assert_eq!(mssconf(&["bundle", "verify"]).0, 2);
    assert_eq!(mssconf(&["bundle"]).0, 2);
}
