//! The bundle handed to the agency: one zip named `<Operator>_<Service>_<Version>_<DDMMYY>_<n>.zip`
//! (`n`: the deposit number, `--envoi N`; ANS document 004 §6.3) holding one file per proof
//! (named by proof id, or by the official proof number a `--proof-numbers` file gives), `index.csv`, the three reports, the `.eml`
//! files, the production picture when there is one, and `manifest.json` (hashes of all of
//! them), optionally signed (`manifest.sig` + `mssconf.pub`).
//!
//! ```text
//! manifest.json  manifest.sig  mssconf.pub
//! index.csv  junit.xml  report.html  report.json
//! preuve-test-production.png
//! OPE_TLS.01.01.01.log  OPE_TLS.01.01.02.png  …
//! messages/<scenario id>/<name>.eml
//! ```

pub mod attach;
pub mod cosign;
pub mod index;
pub mod keys;
pub mod manifest;
pub mod verify;

use std::io::{Cursor, Write};
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};
use ed25519_dalek::{Signer, SigningKey};
use zip::write::SimpleFileOptions;

use crate::evidence::card::production::PRODUCTION_PROOF_FILE;
use crate::evidence::error::EvidenceError;
use crate::evidence::names::{bundle_stem, deposit_name, free_bundle_name};
use crate::evidence::proof_numbers::ProofNumbers;
use crate::record::RunRecord;
use crate::report::{HTML_FILE, JSON_FILE, JUNIT_FILE};
use crate::util::atomic::write_atomic;
use manifest::{FileEntry, MANIFEST_FILE, Manifest, SIGNATURE_FILE, SignatureInfo};

/// The files of a bundle, in zip order, before the manifest is added.
struct Contents {
    files: Vec<(String, Vec<u8>)>,
}

impl Contents {
    fn add(&mut self, name: String, bytes: Vec<u8>) {
        self.files.push((name, bytes));
    }

    fn has(&self, name: &str) -> bool {
        self.files.iter().any(|(n, _)| n == name)
    }

    /// `name`, or `stem-2.ext`, `stem-3.ext`… if taken.
    fn free(&self, name: String) -> String {
        if !self.has(&name) {
            return name;
        }
        let (stem, ext) = name.rsplit_once('.').map_or((name.as_str(), ""), |(s, e)| (s, e));
        (2..).map(|n| format!("{stem}-{n}.{ext}")).find(|c| !self.has(c)).unwrap_or(name.clone())
    }
}

/// Reads a file of the run folder named by the record (a relative path without `..`).
fn read_run_file(run_dir: &Path, rel: &str) -> Result<Vec<u8>, EvidenceError> {
    let path = Path::new(rel);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(EvidenceError::NotARun {
            path: run_dir.to_path_buf(),
            reason: format!("report.json names a file outside the folder: {rel}"),
        });
    }
    let full = run_dir.join(path);
    std::fs::read(&full).map_err(|e| EvidenceError::read(full, e))
}

/// The run record of a report folder.
pub fn load_run(run_dir: &Path) -> Result<RunRecord, EvidenceError> {
    let path = run_dir.join(JSON_FILE);
    let text = std::fs::read(&path).map_err(|e| EvidenceError::NotARun { path: run_dir.to_path_buf(), reason: format!("{JSON_FILE}: {e}") })?;
    serde_json::from_slice(&text)
        .map_err(|e| EvidenceError::NotARun { path: run_dir.to_path_buf(), reason: format!("{JSON_FILE} is not a run record: {e}") })
}

/// How to build a bundle beyond the run folder.
#[derive(Default)]
pub struct BundleOptions<'a> {
    /// Folder for the zip (default: the run folder).
    pub out_dir: Option<&'a Path>,
    pub key: Option<&'a SigningKey>,
    /// The deposit number (`numéroenvoi`); `None`: the first number free in the folder.
    pub envoi: Option<u32>,
    /// Official proof numbers to name proof files after.
    pub proof_numbers: Option<&'a ProofNumbers>,
    /// Screen captures the operator attaches to proof numbers.
    pub attachments: &'a [attach::Attachment],
}

fn collect(run_dir: &Path, run: &RunRecord, numbers: &ProofNumbers, attachments: &[attach::Attachment]) -> Result<Contents, EvidenceError> {
    let mut c = Contents { files: Vec::new() };
    let mut proof_names = std::collections::HashMap::new();
    for s in &run.scenarios {
        for p in &s.proofs {
            let Some(rel) = &p.file else { continue };
            let ext = Path::new(rel).extension().map(|e| e.to_string_lossy().to_string()).unwrap_or_else(|| "bin".into());
            let name = c.free(numbers.file_name(&p.id, &ext));
            c.add(name.clone(), read_run_file(run_dir, rel)?);
            proof_names.insert(p.id.clone(), name);
        }
    }
    if run_dir.join(PRODUCTION_PROOF_FILE).is_file() {
        c.add(PRODUCTION_PROOF_FILE.into(), read_run_file(run_dir, PRODUCTION_PROOF_FILE)?);
    }
    for m in run.scenarios.iter().flat_map(|s| &s.messages) {
        if let Some(rel) = &m.file {
            let name = c.free(rel.clone());
            c.add(name, read_run_file(run_dir, rel)?);
        }
    }
    let mut rows = index::rows(run, |id| proof_names.get(id).cloned());
    for a in attachments {
        let name = c.free(a.name_in_bundle(|n| c.has(n)));
        c.add(name.clone(), a.read()?);
        rows.push(a.index_row(&name));
    }
    c.add(index::INDEX_FILE.into(), index::render_index(&rows).into_bytes());
    for report in [JUNIT_FILE, HTML_FILE, JSON_FILE] {
        c.add(report.into(), read_run_file(run_dir, report)?);
    }
    Ok(c)
}

/// The zip timestamp of every entry: the run's start (zip times have no zone; UTC is used).
fn zip_time(at: DateTime<Utc>) -> zip::DateTime {
    let to_u8 = |v: u32| u8::try_from(v).unwrap_or(0);
    zip::DateTime::from_date_and_time(
        u16::try_from(at.year()).unwrap_or(1980),
        to_u8(at.month()),
        to_u8(at.day()),
        to_u8(at.hour()),
        to_u8(at.minute()),
        to_u8(at.second()),
    )
    .unwrap_or_default()
}

fn zip_bytes(files: &[(String, Vec<u8>)], at: DateTime<Utc>, out: &Path) -> Result<Vec<u8>, EvidenceError> {
    let zip_err = |e: &dyn std::fmt::Display| EvidenceError::Zip { path: out.to_path_buf(), reason: e.to_string() };
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(at))
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).map_err(|e| zip_err(&e))?;
        zip.write_all(bytes).map_err(|e| zip_err(&e))?;
    }
    Ok(zip.finish().map_err(|e| zip_err(&e))?.into_inner())
}

/// Builds the bundle of the run in `run_dir` into `out_dir` (default: `run_dir`), signed when
/// `key` is given, and returns its path.
pub fn create_bundle(run_dir: &Path, out_dir: Option<&Path>, key: Option<&SigningKey>) -> Result<PathBuf, EvidenceError> {
    create_bundle_with(run_dir, &BundleOptions { out_dir, key, ..Default::default() })
}

/// Builds the bundle of the run in `run_dir` as `options` say, and returns its path. A deposit
/// number whose zip already exists is refused (a deposit is never overwritten).
pub fn create_bundle_with(run_dir: &Path, options: &BundleOptions) -> Result<PathBuf, EvidenceError> {
    let (out_dir, key) = (options.out_dir, options.key);
    let run = load_run(run_dir)?;
    let no_numbers = ProofNumbers::default();
    let numbers = options.proof_numbers.unwrap_or(&no_numbers);
    let mut contents = collect(run_dir, &run, numbers, options.attachments)?;
    let signature_info = key.map(|k| {
        let public = k.verifying_key();
        contents.add(keys::PUB_FILE.into(), keys::public_key_pem(&public).into_bytes());
        SignatureInfo { algorithm: "ed25519".into(), public_key: hex::encode(public.as_bytes()), file: SIGNATURE_FILE.into() }
    });
    let entries = contents.files.iter().map(|(n, b)| FileEntry::of(n, b)).collect();
    let mut manifest = Manifest::new(&run, entries, signature_info, Utc::now());
    manifest.proof_numbers = run
        .scenarios
        .iter()
        .flat_map(|s| &s.proofs)
        .filter_map(|p| numbers.official(&p.id).map(|n| (p.id.clone(), n.to_string())))
        .collect();
    let manifest = manifest.to_bytes();
    let mut files = vec![(MANIFEST_FILE.to_string(), manifest.clone())];
    if let Some(k) = key {
        files.push((SIGNATURE_FILE.into(), k.sign(&manifest).to_bytes().to_vec()));
    }
    files.extend(contents.files);
    let out_dir = out_dir.unwrap_or(run_dir);
    std::fs::create_dir_all(out_dir).map_err(|e| EvidenceError::write(out_dir, e))?;
    // A bundle killed mid-write left its temporary zip here: it is not evidence.
    crate::util::atomic::remove_stale_temps(out_dir).map_err(|e| EvidenceError::write(out_dir, e))?;
    let stem = bundle_stem(&run.target, run.started);
    let path = match options.envoi {
        Some(n) => out_dir.join(deposit_name(&stem, n)),
        None => out_dir.join(free_bundle_name(out_dir, &stem)),
    };
    if options.envoi.is_some() && path.exists() {
        return Err(EvidenceError::Input { path, reason: "already exists: this deposit number is taken (give another --envoi)".into() });
    }
    let bytes = zip_bytes(&files, run.started, &path)?;
    write_atomic(&path, &bytes).map_err(|e| EvidenceError::write(&path, e))?;
    Ok(path)
}

/// Adds `key`'s co-signature to the bundle at `bundle`, written to `out` (default: in place).
/// The bundle must verify first: nobody co-signs a damaged or tampered bundle.
pub fn cosign_bundle(bundle: &Path, key: &SigningKey, signer: Option<&str>, out: Option<&Path>) -> Result<PathBuf, EvidenceError> {
    let refuse = |reason: String| EvidenceError::Input { path: bundle.to_path_buf(), reason };
    let check = verify::verify_bundle(bundle, None)?;
    if let Some(d) = check.discrepancies.first() {
        return Err(refuse(format!("does not verify ({}: {}); not co-signed", d.file, d.problem)));
    }
    let ordered = read_in_order(bundle).map_err(refuse)?;
    let entries: std::collections::BTreeMap<String, Vec<u8>> = ordered.iter().cloned().collect();
    let manifest: Manifest = serde_json::from_slice(&entries[MANIFEST_FILE]).map_err(|e| refuse(e.to_string()))?;
    let added = cosign::cosign_entries(&entries, key, signer, "auditor", Utc::now()).map_err(refuse)?;
    let files: Vec<(String, Vec<u8>)> = ordered.into_iter().chain(added).collect();
    let out = out.unwrap_or(bundle);
    let bytes = zip_bytes(&files, manifest.run.started, out)?;
    write_atomic(out, &bytes).map_err(|e| EvidenceError::write(out, e))?;
    Ok(out.to_path_buf())
}

/// Every entry of a zip in archive order (the bundle was verified just before).
fn read_in_order(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        out.push((entry.name().map_err(|e| e.to_string())?.to_string(), bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_run_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_run_file(dir.path(), "../secret").unwrap_err();
        assert!(err.to_string().contains("outside the folder"), "{err}");
        assert!(read_run_file(dir.path(), "/etc/passwd").is_err());
    }

    #[test]
    fn a_folder_without_report_json_is_not_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let err = create_bundle(dir.path(), None, None).unwrap_err();
        assert!(matches!(err, EvidenceError::NotARun { .. }), "{err}");
    }

    #[test]
    fn free_names_get_a_suffix() {
        let mut c = Contents { files: vec![] };
        c.add("a.log".into(), vec![]);
        assert_eq!(c.free("a.log".into()), "a-2.log");
        assert_eq!(c.free("b.log".into()), "b.log");
    }
}
