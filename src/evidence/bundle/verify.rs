//! Checking a bundle: every file listed in the manifest is present with its size and SHA-256,
//! nothing else was added, and the signature over `manifest.json` holds — with the key given by
//! the reader (`--pubkey`: the signer is authenticated) or, failing that, with the key embedded
//! in the bundle (integrity only: anyone can re-sign a bundle with their own key).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use ed25519_dalek::{Signature, VerifyingKey};

use super::cosign::{COSIGN_DIR, CoSignature, check_cosignatures};
use super::keys::{self, PUB_FILE};
use super::manifest::{FileEntry, MANIFEST_FILE, Manifest, SIGNATURE_FILE};
use crate::evidence::error::EvidenceError;

/// One thing wrong with a bundle: the file concerned and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub file: String,
    pub problem: String,
}

/// Who vouches for the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// Verified with the key the reader supplied.
    Authenticated { fingerprint: String },
    /// Verified with the key inside the bundle only.
    Embedded { fingerprint: String },
    /// No signature, or one that does not verify.
    None,
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub discrepancies: Vec<Discrepancy>,
    pub signer: Signer,
    /// Files whose hash was checked and matched.
    pub files_ok: usize,
    pub run_id: Option<String>,
    /// Co-signatures found under `cosignatures/` (an auditor's), valid or not.
    pub cosignatures: Vec<CoSignature>,
    /// Files the manifest lists (what the operator's signature covers through it).
    pub files_listed: usize,
}

impl Verification {
    /// Every hash holds and nothing was added or removed.
    pub fn passed(&self) -> bool {
        self.discrepancies.is_empty()
    }

    /// The verdict a script may rely on: the hashes hold and the signature verifies with the
    /// key the reader gave; less only when the reader accepted it explicitly. `Err` says why not.
    pub fn accepted(&self, trust_embedded_key: bool, allow_unsigned: bool) -> Result<(), String> {
        if !self.passed() {
            return Err(format!("{} discrepancy(ies)", self.discrepancies.len()));
        }
        match &self.signer {
            Signer::Authenticated { .. } => Ok(()),
            Signer::Embedded { .. } if trust_embedded_key => Ok(()),
            Signer::Embedded { .. } => Err("the signer is not authenticated (give --pubkey, or accept it with --trust-embedded-key)".into()),
            Signer::None if allow_unsigned => Ok(()),
            Signer::None => Err("the bundle is not signed (accept it with --allow-unsigned)".into()),
        }
    }
}

struct Findings(Vec<Discrepancy>);

impl Findings {
    fn add(&mut self, file: &str, problem: impl Into<String>) {
        self.0.push(Discrepancy { file: file.to_string(), problem: problem.into() });
    }
}

/// The most bytes one bundle entry may decompress to.
pub(crate) const MAX_ENTRY: u64 = 256 << 20;
/// The most bytes all entries of a bundle may decompress to.
pub(crate) const MAX_TOTAL: u64 = 1 << 30;

/// Reads every entry of the zip; entries that cannot be read become findings.
fn read_entries(path: &Path, found: &mut Findings) -> Result<Option<BTreeMap<String, Vec<u8>>>, EvidenceError> {
    read_entries_within(path, found, (MAX_ENTRY, MAX_TOTAL))
}

/// [`read_entries`] within (per entry, per bundle) byte bounds.
fn read_entries_within(path: &Path, found: &mut Findings, (max_entry, max_total): (u64, u64)) -> Result<Option<BTreeMap<String, Vec<u8>>>, EvidenceError> {
    let file = std::fs::File::open(path).map_err(|e| EvidenceError::read(path, e))?;
    let shown = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            found.add(&shown, format!("not a readable zip archive ({e})"));
            return Ok(None);
        }
    };
    let mut entries = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                found.add(&format!("{shown} entry #{i}"), format!("unreadable zip entry ({e})"));
                continue;
            }
        };
        let name = entry.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("entry #{i}"));
        if entry.is_dir() {
            continue;
        }
        if entry.enclosed_name().is_none() {
            found.add(&name, "unsafe path in the zip (absolute or leaving the folder)");
        }
        // Bounded per entry and per bundle, whatever the entry claims: a zip bomb stops here.
        let room = max_entry.min(max_total.saturating_sub(total));
        let mut bytes = Vec::new();
        if let Err(e) = std::io::Read::by_ref(&mut entry).take(room + 1).read_to_end(&mut bytes) {
            found.add(&name, format!("cannot be read from the zip: damaged ({e})"));
            continue;
        }
        if bytes.len() as u64 > room {
            found.add(&name, format!(
                "larger than {} MiB once decompressed (at most {} MiB per file, {} MiB per bundle): not read further",
                room >> 20, max_entry >> 20, max_total >> 20
            ));
            continue;
        }
        total += bytes.len() as u64;
        if entries.insert(name.clone(), bytes).is_some() {
            found.add(&name, "appears twice in the zip");
        }
    }
    Ok(Some(entries))
}

/// Verifies the bundle at `path`. `Err` only when the file cannot be opened at all.
pub fn verify_bundle(path: &Path, pubkey: Option<&VerifyingKey>) -> Result<Verification, EvidenceError> {
    verify_bundle_with(path, pubkey, &[])
}

/// As `verify_bundle`, and every co-signature is checked; `cosigners` are keys the reader
/// vouches for (an auditor's published key): each must have co-signed the bundle.
pub fn verify_bundle_with(path: &Path, pubkey: Option<&VerifyingKey>, cosigners: &[VerifyingKey]) -> Result<Verification, EvidenceError> {
    let mut found = Findings(Vec::new());
    let mut result =
        Verification { discrepancies: vec![], signer: Signer::None, files_ok: 0, run_id: None, cosignatures: vec![], files_listed: 0 };
    let Some(entries) = read_entries(path, &mut found)? else {
        result.discrepancies = found.0;
        return Ok(result);
    };
    let Some(manifest_bytes) = entries.get(MANIFEST_FILE) else {
        found.add(MANIFEST_FILE, "missing: nothing to verify against");
        result.discrepancies = found.0;
        return Ok(result);
    };
    result.signer = check_signature(&entries, manifest_bytes, pubkey, &mut found);
    match serde_json::from_slice::<Manifest>(manifest_bytes) {
        Ok(manifest) => {
            check_signer_named(&manifest, &entries, &mut found);
            result.files_ok = check_files(&manifest.files, &entries, &mut found);
            result.files_listed = manifest.files.len();
            result.run_id = Some(manifest.run.run_id);
        }
        Err(e) => found.add(MANIFEST_FILE, format!("not a valid manifest ({e})")),
    }
    result.cosignatures = check_cosigners(&entries, cosigners, &mut found);
    result.discrepancies = found.0;
    Ok(result)
}

fn check_signature(
    entries: &BTreeMap<String, Vec<u8>>,
    manifest: &[u8],
    pubkey: Option<&VerifyingKey>,
    found: &mut Findings,
) -> Signer {
    let embedded = entries.get(PUB_FILE).map(|b| keys::parse_public_key(&String::from_utf8_lossy(b)));
    let Some(sig_bytes) = entries.get(SIGNATURE_FILE) else {
        if pubkey.is_some() {
            found.add(SIGNATURE_FILE, "missing: the bundle is not signed, but --pubkey asks for a signed one");
        }
        return Signer::None;
    };
    let key = match (pubkey, &embedded) {
        (Some(k), Some(Ok(e))) if e != k => {
            found.add(PUB_FILE, format!("is key {}, not the key given with --pubkey ({})", keys::fingerprint(e), keys::fingerprint(k)));
            *k
        }
        (Some(k), _) => *k,
        (None, Some(Ok(e))) => *e,
        (None, Some(Err(why))) => {
            found.add(PUB_FILE, format!("unreadable public key: {why}"));
            return Signer::None;
        }
        (None, None) => {
            found.add(PUB_FILE, "missing: no key to check manifest.sig with (pass --pubkey)");
            return Signer::None;
        }
    };
    let Ok(signature) = Signature::from_slice(sig_bytes) else {
        found.add(SIGNATURE_FILE, format!("not an Ed25519 signature ({} bytes, expected 64)", sig_bytes.len()));
        return Signer::None;
    };
    if key.verify_strict(manifest, &signature).is_err() {
        found.add(
            MANIFEST_FILE,
            format!("the signature in {SIGNATURE_FILE} does not verify with key {}: {MANIFEST_FILE} was changed, or {SIGNATURE_FILE} was made with another key", keys::fingerprint(&key)),
        );
        return Signer::None;
    }
    let fingerprint = keys::fingerprint(&key);
    if pubkey.is_some() { Signer::Authenticated { fingerprint } } else { Signer::Embedded { fingerprint } }
}

/// The manifest names its signing key: it must be the one in `mssconf.pub`.
fn check_signer_named(manifest: &Manifest, entries: &BTreeMap<String, Vec<u8>>, found: &mut Findings) {
    let embedded = entries.get(PUB_FILE).and_then(|b| keys::parse_public_key(&String::from_utf8_lossy(b)).ok());
    match (&manifest.signature, embedded) {
        (Some(info), Some(key)) if info.public_key != hex::encode(key.as_bytes()) => {
            found.add(PUB_FILE, "is not the key the manifest names as signer");
        }
        (Some(_), _) if !entries.contains_key(SIGNATURE_FILE) => {
            found.add(SIGNATURE_FILE, "missing: the manifest says the bundle is signed");
        }
        _ => {}
    }
}

fn check_cosigners(entries: &BTreeMap<String, Vec<u8>>, cosigners: &[VerifyingKey], found: &mut Findings) -> Vec<CoSignature> {
    let (cosignatures, stray) = check_cosignatures(entries, cosigners);
    for (file, problem) in stray {
        found.add(&file, problem);
    }
    for c in &cosignatures {
        if let Some(p) = &c.problem {
            found.add(&c.entry, p.clone());
        }
    }
    for k in cosigners {
        let fp = keys::fingerprint(k);
        if !cosignatures.iter().any(|c| c.fingerprint == fp && c.problem.is_none()) {
            found.add(COSIGN_DIR, format!("no valid co-signature with key {fp} given by --cosigner-pubkey"));
        }
    }
    cosignatures
}

fn check_files(listed: &[FileEntry], entries: &BTreeMap<String, Vec<u8>>, found: &mut Findings) -> usize {
    let mut ok = 0;
    for f in listed {
        match entries.get(&f.name) {
            None => found.add(&f.name, "listed in the manifest but missing from the bundle"),
            Some(bytes) => {
                let actual = FileEntry::of(&f.name, bytes);
                if actual.size != f.size {
                    found.add(&f.name, format!("size {} differs from the manifest's {}", actual.size, f.size));
                } else if actual.sha256 != f.sha256 {
                    found.add(&f.name, format!("SHA-256 {} differs from the manifest's {}", actual.sha256, f.sha256));
                } else {
                    ok += 1;
                }
            }
        }
    }
    for name in entries.keys() {
        // Co-signatures come after the manifest: `check_cosigners` accounts for them.
        let known = name == MANIFEST_FILE || name == SIGNATURE_FILE || name.starts_with(COSIGN_DIR) || listed.iter().any(|f| &f.name == name);
        if !known {
            found.add(name, "not listed in the manifest (added)");
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(files: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
        files.iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect()
    }

    /// A zip bomb (an entry decompressing far beyond its size) is cut at the bound and named.
    #[test]
    fn an_entry_decompressing_past_the_bound_is_not_read_further() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("report.json", deflate).unwrap();
        zip.write_all(&vec![0u8; 3 << 20]).unwrap();
        zip.start_file("small.txt", deflate).unwrap();
        zip.write_all(b"ok").unwrap();
        zip.finish().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 64 << 10, "the entry compresses well");
        let mut found = Findings(Vec::new());
        let entries = read_entries_within(&path, &mut found, (1 << 20, 4 << 20)).unwrap().unwrap();
        assert!(!entries.contains_key("report.json") && entries["small.txt"] == b"ok");
        assert_eq!(found.0.len(), 1, "{:?}", found.0);
        assert!(found.0[0].file == "report.json" && found.0[0].problem.contains("larger than 1 MiB once decompressed"), "{:?}", found.0);
        // The per-bundle bound: two entries each within theirs, together past it.
        let mut found = Findings(Vec::new());
        let entries = read_entries_within(&path, &mut found, (4 << 20, 3 << 20)).unwrap().unwrap();
        assert!(entries.contains_key("report.json") && !entries.contains_key("small.txt"), "{:?}", entries.keys());
        assert!(found.0.len() == 1 && found.0[0].problem.contains("3 MiB per bundle"), "{:?}", found.0);
    }

    #[test]
    fn listed_files_are_compared_and_extra_ones_named() {
        let listed = vec![FileEntry::of("a.log", b"aaa"), FileEntry::of("b.png", b"bbb"), FileEntry::of("c.eml", b"ccc")];
        let entries = map(&[("a.log", b"aaa"), ("b.png", b"bbX"), ("d.txt", b"new"), (MANIFEST_FILE, b"{}")]);
        let mut found = Findings(Vec::new());
        assert_eq!(check_files(&listed, &entries, &mut found), 1);
        let by_file: Vec<(&str, &str)> = found.0.iter().map(|d| (d.file.as_str(), d.problem.as_str())).collect();
        assert!(by_file.iter().any(|(f, p)| *f == "b.png" && p.starts_with("SHA-256")), "{by_file:?}");
        assert!(by_file.iter().any(|(f, p)| *f == "c.eml" && p.contains("missing")), "{by_file:?}");
        assert!(by_file.iter().any(|(f, p)| *f == "d.txt" && p.contains("not listed")), "{by_file:?}");
        assert_eq!(found.0.len(), 3, "manifest.json itself is not a stray file");
    }

    #[test]
    fn a_signature_needs_a_key() {
        let entries = map(&[(SIGNATURE_FILE, &[0u8; 64])]);
        let mut found = Findings(Vec::new());
        assert_eq!(check_signature(&entries, b"{}", None, &mut found), Signer::None);
        assert_eq!(found.0[0].file, PUB_FILE);
    }
}
