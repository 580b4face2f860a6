//! The deposit: zip named by the ANS rule with the deposit number given (`--envoi`), accents
//! transliterated, proofs renamed to official numbers by a mapping file.

use std::path::{Path, PathBuf};

use crate::evidence_bundle::{entries, fixture, mssconf};
use mssconf::evidence::bundle::verify::verify_bundle;
use mssconf::evidence::bundle::{BundleOptions, create_bundle_with, load_run};
use mssconf::evidence::proof_numbers::ProofNumbers;

/// A copy of the fixture's run folder whose operator is `operator`.
fn run_as(operator: &str, name: &str) -> PathBuf {
    let f = fixture();
    let dir = f.scratch.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&f.run_dir, &dir);
    let path = dir.join("report.json");
    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    record["target"]["operator"] = operator.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else if !e.file_name().to_string_lossy().ends_with(".zip") {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn date_of(run_dir: &Path) -> String {
    mssconf::util::paris::to_paris(load_run(run_dir).unwrap().started).format("%d%m%y").to_string()
}

#[test]
fn an_accented_operator_and_an_explicit_deposit_number() {
    let run = run_as("Opérateur Santé", "accented");
    let out = run.join("out");
    let path = create_bundle_with(&run, &BundleOptions { out_dir: Some(&out), envoi: Some(7), ..Default::default() }).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(name, format!("Operateur-Sante_MSSanteMock_0.1.0_{}_7.zip", date_of(&run)));
    // The number is the operator's: an existing deposit is never overwritten, nor renumbered.
    let err = create_bundle_with(&run, &BundleOptions { out_dir: Some(&out), envoi: Some(7), ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("deposit number is taken"), "{err}");
    assert!(verify_bundle(&path, None).unwrap().passed());
}

#[test]
fn a_mapping_file_renames_proofs_to_official_numbers() {
    let f = fixture();
    let map = f.scratch.join("numbers.yaml");
    std::fs::write(&map, "OPE/PROD.01.90.03: \"MSS 5.1.1\"\nOPE/NOT.IN.RUN: \"MSS 9.9.9\"\n").unwrap();
    let numbers = ProofNumbers::load(&map).unwrap();
    let out = f.scratch.join("mapped");
    let path = create_bundle_with(&f.run_dir, &BundleOptions { out_dir: Some(&out), proof_numbers: Some(&numbers), envoi: Some(1), ..Default::default() })
        .unwrap();
    let files = entries(&path);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"MSS_5.1.1.png") && !names.contains(&"OPE_PROD.01.90.03.png"), "{names:?}");
    assert!(names.contains(&"OPE_PROD.01.90.01.log"), "unmapped proofs keep their id: {names:?}");
    let csv = String::from_utf8(files.iter().find(|(n, _)| n == "index.csv").unwrap().1.clone()).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("OPE/PROD.01.90.03,") && l.ends_with(",MSS_5.1.1.png")), "{csv}");
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(manifest["proof_numbers"]["OPE/PROD.01.90.03"], "MSS 5.1.1");
    assert!(manifest["proof_numbers"].get("OPE/NOT.IN.RUN").is_none());
    assert!(verify_bundle(&path, None).unwrap().passed());
}

#[test]
fn bundle_command_takes_envoi_and_proof_numbers() {
    let f = fixture();
    let map = f.scratch.join("cli-numbers.yaml");
    std::fs::write(&map, "OPE/PROD.01.90.03: \"MSS 5.1.1\"\nOPE/TYPO: \"MSS 1.1\"\n").unwrap();
    let out = f.scratch.join("cli-deposit");
    let (run, out_arg) = (f.run_dir.to_str().unwrap(), out.to_str().unwrap());
    let (code, text) = mssconf(&["bundle", "--run", run, "--out", out_arg, "--envoi", "12", "--proof-numbers", map.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("proof `OPE/TYPO` is not in this run"), "{text}");
    let zip = text.lines().find(|l| l.ends_with(".zip")).unwrap();
    assert!(zip.ends_with(&format!("MockOperateur_MSSanteMock_0.1.0_{}_12.zip", date_of(&f.run_dir))), "{zip}");
    let (code, text) = mssconf(&["bundle", "--run", run, "--out", out_arg, "--envoi", "12"]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(mssconf(&["bundle", "--run", run, "--out", out_arg, "--envoi", "0"]).0, 2);
}

fn checklist(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("dossier-checklist.json")).unwrap()).unwrap()
}

fn status_of<'a>(list: &'a serde_json::Value, id: &str) -> &'a str {
    list["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()["status"].as_str().unwrap()
}

#[test]
fn dossier_command_checks_the_production_bundle_and_lists_what_is_missing() {
    let f = fixture();
    let dir = f.scratch.join("dossier");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("guide.pdf"), b"%PDF-1.7\n").unwrap();
    std::fs::write(dir.join("operator.pub"), keys_pem()).unwrap();
    let yaml = format!(
        "connection_guide: guide.pdf\ndocumentation_url: https://docs.operateur.example/mss\n\
         support_contacts:\n  - {{ name: Support, email: support@operateur.example, phone: \"+33 1 23 45 67 89\" }}\n\
         referencing_number: REF-2026-042\ndossier_number: D-1234\nproduction_bundle: {}\nproduction_pubkey: operator.pub\n",
        f.signed.display()
    );
    std::fs::write(dir.join("dossier.yaml"), &yaml).unwrap();
    let file = dir.join("dossier.yaml");
    let (code, text) = mssconf(&["dossier", "--dossier", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let list = checklist(&dir);
    assert_eq!(status_of(&list, "production_proof"), "checked", "{list:#}");
    let note = list["items"][5]["note"].as_str().unwrap();
    assert!(note.contains("signée par la clé publiée") && note.contains("nommée selon la règle de dépôt"), "{list:#}");
    assert_eq!(status_of(&list, "connection_guide"), "checked");
    assert_eq!(status_of(&list, "documentation_url"), "present", "no --target: the link is not contacted");
    let html = std::fs::read_to_string(dir.join("dossier-checklist.html")).unwrap();
    assert!(html.contains("Dossier complet") && html.contains("Preuve du test technique en production"), "{html}");

    // The same bundle under another name: said, not failed.
    let renamed = dir.join("preuve.zip");
    std::fs::copy(&f.signed, &renamed).unwrap();
    std::fs::write(&file, yaml.replace(&f.signed.display().to_string(), &renamed.display().to_string())).unwrap();
    assert_eq!(mssconf(&["dossier", "--dossier", file.to_str().unwrap()]).0, 0);
    let list = checklist(&dir);
    assert_eq!(status_of(&list, "production_proof"), "checked");
    assert!(list["items"][5]["note"].as_str().unwrap().contains("nom différent de la règle de dépôt (attendu MockOperateur_MSSanteMock_0.1.0_"), "{list:#}");

    // The guide removed and the production bundle tampered with: both named, exit 1, in English.
    std::fs::remove_file(dir.join("guide.pdf")).unwrap();
    let bad = crate::evidence_bundle::tampered(&f.signed, "dossier-bad", |n, b| Some(if n == "report.json" { crate::evidence_bundle::flip_middle_byte(b) } else { b }), vec![]);
    std::fs::write(&file, yaml.replace(&f.signed.display().to_string(), &bad.display().to_string())).unwrap();
    let (code, text) = mssconf(&["dossier", "--dossier", file.to_str().unwrap(), "--lang", "en"]);
    assert_eq!(code, 1, "{text}");
    let list = checklist(&dir);
    assert_eq!(list["lang"], "en");
    assert_eq!(status_of(&list, "connection_guide"), "missing");
    assert_eq!(status_of(&list, "production_proof"), "invalid");
    assert!(list["items"][5]["note"].as_str().unwrap().contains("report.json"), "{list:#}");

    // A dossier file with a typo is a usage error naming the line.
    std::fs::write(&file, "dossier_numbr: D-1\n").unwrap();
    let (code, text) = mssconf(&["dossier", "--dossier", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("dossier.yaml:1"), "{text}");
}

fn keys_pem() -> String {
    mssconf::evidence::bundle::keys::public_key_pem(&crate::evidence_bundle::public())
}

#[test]
fn an_attached_screen_capture_is_hashed_and_listed() {
    let f = fixture();
    let shot = f.scratch.join("ecran.png");
    std::fs::write(&shot, b"\x89PNG\r\n\x1a\nreal screen capture").unwrap();
    let out = f.scratch.join("attached");
    let (run, out_arg) = (f.run_dir.to_str().unwrap(), out.to_str().unwrap());
    let attach = format!("2.1.1={}", shot.display());
    let clash = format!("OPE/PROD.01.90.03={}", shot.display());
    let (code, text) = mssconf(&["bundle", "--run", run, "--out", out_arg, "--envoi", "1", "--attach", &attach, "--attach", &clash]);
    assert_eq!(code, 0, "{text}");
    let zip = PathBuf::from(text.lines().find(|l| l.ends_with(".zip")).unwrap());
    let files = entries(&zip);
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    let listed = |name: &str| manifest["files"].as_array().unwrap().iter().any(|e| e["name"] == name);
    assert!(listed("2.1.1.png"), "{manifest:#}");
    assert!(listed("OPE_PROD.01.90.03-capture.png") && listed("OPE_PROD.01.90.03.png"), "the rendering is kept beside the capture");
    let csv = String::from_utf8(files.iter().find(|(n, _)| n == "index.csv").unwrap().1.clone()).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("2.1.1,,,capture,") && l.ends_with(",2.1.1.png")), "{csv}");
    // Hashed like any proof: a changed capture is named.
    let bad = crate::evidence_bundle::tampered(&zip, "capture-flip", |n, b| Some(if n == "2.1.1.png" { crate::evidence_bundle::flip_middle_byte(b) } else { b }), vec![]);
    assert!(crate::evidence_bundle::named(&verify_bundle(&bad, None).unwrap(), "2.1.1.png"));
    let (code, text) = mssconf(&["bundle", "--run", run, "--out", out_arg, "--envoi", "2", "--attach", "2.1.1=/nonexistent.png"]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(mssconf(&["bundle", "--run", run, "--attach", "capture.png"]).0, 2);
}
