//! Co-signatures: an auditor (or anyone holding their own key, `mssconf keygen`) signs a bundle
//! after the operator. Each co-signature is two entries under `cosignatures/`:
//!
//! - `<fp>.json`: a statement naming the signer's public key, an optional name and role, the time,
//!   and what it covers: the SHA-256 of `manifest.json` (which lists the hash of every file) and
//!   of `manifest.sig` when the operator signed;
//! - `<fp>.sig`: the Ed25519 signature over the exact bytes of `<fp>.json`.
//!
//! (`<fp>`: the 16 hex digits of the key's fingerprint.) Co-signatures are not listed in the
//! manifest (they come after it); every entry under `cosignatures/` must belong to a valid pair.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys;
use super::manifest::{MANIFEST_FILE, SIGNATURE_FILE};

pub const COSIGN_DIR: &str = "cosignatures/";
pub const FORMAT: &str = "mssconf-cosignature/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub format: String,
    /// Hex of the 32-byte Ed25519 public key of the co-signer.
    pub public_key: String,
    /// Who signs, as they typed it (« Jeanne Martin, auditrice »), and in which role.
    #[serde(default)]
    pub signer: Option<String>,
    pub role: String,
    pub signed_at: DateTime<Utc>,
    /// File name → lower-case hex SHA-256 of the files this signature vouches for.
    pub covers: BTreeMap<String, String>,
    /// The co-signer's own attestation, in their words (« Constat : les étapes 1 à 3 ont été
    /// exécutées devant moi… »), signed with their key like the rest of the statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
}

/// A co-signature found in a bundle, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoSignature {
    pub entry: String,
    pub fingerprint: String,
    pub signer: Option<String>,
    pub role: String,
    pub signed_at: DateTime<Utc>,
    pub covers: Vec<String>,
    /// The co-signer's attestation text, when they wrote one.
    pub attestation: Option<String>,
    /// The key is one the reader gave (`--cosigner-pubkey`).
    pub authenticated: bool,
    /// `None` when valid; else what is wrong.
    pub problem: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key_id(key: &VerifyingKey) -> String {
    keys::fingerprint(key).trim_start_matches("sha256:").to_string()
}

/// The two entries (statement, signature) co-signing a bundle whose entries are `entries`.
pub fn cosign_entries(
    entries: &BTreeMap<String, Vec<u8>>,
    key: &SigningKey,
    signer: Option<&str>,
    role: &str,
    at: DateTime<Utc>,
) -> Result<[(String, Vec<u8>); 2], String> {
    cosign_entries_attesting(entries, key, signer, role, at, None)
}

/// [`cosign_entries`] with the co-signer's attestation text in the signed statement.
pub fn cosign_entries_attesting(
    entries: &BTreeMap<String, Vec<u8>>,
    key: &SigningKey,
    signer: Option<&str>,
    role: &str,
    at: DateTime<Utc>,
    attestation: Option<&str>,
) -> Result<[(String, Vec<u8>); 2], String> {
    let public = key.verifying_key();
    let base = format!("{COSIGN_DIR}{}", key_id(&public));
    if entries.contains_key(&format!("{base}.json")) {
        return Err(format!("the bundle is already co-signed with key {}", keys::fingerprint(&public)));
    }
    let covers: BTreeMap<String, String> =
        [MANIFEST_FILE, SIGNATURE_FILE].iter().filter_map(|n| entries.get(*n).map(|b| (n.to_string(), sha256_hex(b)))).collect();
    if !covers.contains_key(MANIFEST_FILE) {
        return Err(format!("no {MANIFEST_FILE}: not a bundle"));
    }
    let statement = Statement {
        format: FORMAT.into(),
        public_key: hex::encode(public.as_bytes()),
        signer: signer.map(str::to_string),
        role: role.into(),
        signed_at: at,
        covers,
        attestation: attestation.map(str::trim).filter(|a| !a.is_empty()).map(str::to_string),
    };
    let mut json = serde_json::to_vec_pretty(&statement).map_err(|e| e.to_string())?;
    json.push(b'\n');
    let sig = key.sign(&json).to_bytes().to_vec();
    Ok([(format!("{base}.json"), json), (format!("{base}.sig"), sig)])
}

/// Checks every co-signature of the bundle. `trusted`: keys the reader vouches for.
pub fn check_cosignatures(entries: &BTreeMap<String, Vec<u8>>, trusted: &[VerifyingKey]) -> (Vec<CoSignature>, Vec<(String, String)>) {
    let mut found = Vec::new();
    let mut stray = Vec::new();
    for name in entries.keys().filter(|n| n.starts_with(COSIGN_DIR)) {
        let pair = name.strip_suffix(".json").map(|b| format!("{b}.sig")).or_else(|| name.strip_suffix(".sig").map(|b| format!("{b}.json")));
        match pair {
            Some(other) if entries.contains_key(&other) => {}
            Some(other) => stray.push((name.clone(), format!("co-signature entry without its pair {other}"))),
            None => stray.push((name.clone(), "not a co-signature entry (added)".into())),
        }
    }
    for (name, json) in entries.iter().filter(|(n, _)| n.starts_with(COSIGN_DIR) && n.ends_with(".json")) {
        let Some(sig) = entries.get(&format!("{}.sig", name.trim_end_matches(".json"))) else { continue };
        match check_one(name, json, sig, entries, trusted) {
            Ok(c) => found.push(c),
            Err(why) => stray.push((name.clone(), why)),
        }
    }
    (found, stray)
}

fn check_one(
    name: &str,
    json: &[u8],
    sig: &[u8],
    entries: &BTreeMap<String, Vec<u8>>,
    trusted: &[VerifyingKey],
) -> Result<CoSignature, String> {
    let st: Statement = serde_json::from_slice(json).map_err(|e| format!("not a co-signature statement ({e})"))?;
    let key = keys::parse_public_key(&st.public_key).map_err(|e| format!("co-signer key: {e}"))?;
    let mut c = CoSignature {
        entry: name.to_string(),
        fingerprint: keys::fingerprint(&key),
        signer: st.signer.clone(),
        role: st.role.clone(),
        signed_at: st.signed_at,
        covers: st.covers.keys().cloned().collect(),
        attestation: st.attestation.clone(),
        authenticated: trusted.contains(&key),
        problem: None,
    };
    let valid = Signature::from_slice(sig).ok().is_some_and(|s| key.verify_strict(json, &s).is_ok());
    if !valid {
        c.problem = Some(format!("the co-signature does not verify with key {}: the statement or its signature was changed", c.fingerprint));
        return Ok(c);
    }
    if !st.covers.contains_key(MANIFEST_FILE) {
        c.problem = Some(format!("covers no {MANIFEST_FILE}"));
    }
    for (file, hash) in &st.covers {
        match entries.get(file) {
            None => c.problem = Some(format!("covers {file}, which is missing")),
            Some(b) if &sha256_hex(b) != hash => c.problem = Some(format!("covers {file} as it was when co-signed; it has changed since")),
            Some(_) => {}
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> BTreeMap<String, Vec<u8>> {
        [(MANIFEST_FILE, b"{\"files\":[]}\n".to_vec()), (SIGNATURE_FILE, vec![1u8; 64])].into_iter().map(|(n, b)| (n.to_string(), b)).collect()
    }

    #[test]
    fn a_cosignature_verifies_and_names_what_it_covers() {
        let mut entries = bundle();
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let at = "2026-12-07T06:00:00Z".parse().unwrap();
        for (n, b) in cosign_entries(&entries, &key, Some("Jeanne Martin"), "auditor", at).unwrap() {
            entries.insert(n, b);
        }
        let (found, stray) = check_cosignatures(&entries, &[key.verifying_key()]);
        assert!(stray.is_empty(), "{stray:?}");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].problem, None);
        assert!(found[0].authenticated);
        assert_eq!(found[0].covers, [MANIFEST_FILE, SIGNATURE_FILE]);
        assert!(cosign_entries(&entries, &key, None, "auditor", at).unwrap_err().contains("already co-signed"));

        // The operator's signature replaced after the co-signature: named.
        let mut changed = entries.clone();
        changed.insert(SIGNATURE_FILE.into(), vec![2u8; 64]);
        let (found, _) = check_cosignatures(&changed, &[]);
        assert!(found[0].problem.as_deref().unwrap().contains("manifest.sig as it was"), "{found:?}");
        assert!(!found[0].authenticated);

        // The statement edited (another name typed in): the signature no longer holds.
        let json_name = entries.keys().find(|n| n.ends_with(".json") && n.starts_with(COSIGN_DIR)).unwrap().clone();
        let mut edited = entries.clone();
        let text = String::from_utf8(edited[&json_name].clone()).unwrap().replace("Jeanne Martin", "Jean Martin");
        edited.insert(json_name.clone(), text.into_bytes());
        let (found, _) = check_cosignatures(&edited, &[]);
        assert!(found[0].problem.as_deref().unwrap().contains("does not verify"), "{found:?}");

        // The auditor's attestation is signed with the statement: edited, it no longer verifies.
        let mut attested = bundle();
        for (n, b) in cosign_entries_attesting(&attested, &key, Some("Jeanne Martin"), "auditor", at, Some("Constat : étapes exécutées devant moi.")).unwrap() {
            attested.insert(n, b);
        }
        let (found, _) = check_cosignatures(&attested, &[key.verifying_key()]);
        assert_eq!((found[0].attestation.as_deref(), found[0].problem.as_deref()), (Some("Constat : étapes exécutées devant moi."), None));
        let text = String::from_utf8(attested[&json_name].clone()).unwrap().replace("devant moi", "en mon absence");
        attested.insert(json_name.clone(), text.into_bytes());
        let (found, _) = check_cosignatures(&attested, &[]);
        assert!(found[0].problem.as_deref().unwrap().contains("does not verify"), "{found:?}");

        // A lone entry under cosignatures/ is named.
        let mut lone = entries.clone();
        lone.remove(&json_name);
        let (_, stray) = check_cosignatures(&lone, &[]);
        assert!(stray[0].1.contains("without its pair"), "{stray:?}");
    }
}
