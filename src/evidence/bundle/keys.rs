//! Ed25519 keys for signing bundles, stored as PEM files that OpenSSL reads too:
//! `mssconf.key` is PKCS#8 (`-----BEGIN PRIVATE KEY-----`, mode 0600), `mssconf.pub` is
//! SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). A bare 64-hex-digit key is accepted on
//! input as well. For Ed25519 both DER forms are a fixed prefix followed by the 32 key bytes.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::evidence::error::EvidenceError;

pub const KEY_FILE: &str = "mssconf.key";
pub const PUB_FILE: &str = "mssconf.pub";

/// PKCS#8 v1 `PrivateKeyInfo` for Ed25519 up to the 32-byte seed (RFC 8410 §7).
const PKCS8_PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// `SubjectPublicKeyInfo` for Ed25519 up to the 32-byte key (RFC 8410 §4).
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", body.join("\n"))
}

/// The 32 key bytes of a PEM block with `label` whose DER starts with `prefix`, or of a bare
/// 64-hex-digit key.
fn key_bytes(text: &str, label: &str, prefix: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
    let text = text.trim();
    let der = if let Some(rest) = text.strip_prefix(&format!("-----BEGIN {label}-----")) {
        let body = rest.split(&format!("-----END {label}-----")).next().unwrap_or_default();
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        Zeroizing::new(STANDARD.decode(b64).map_err(|e| format!("the PEM body is not base64 ({e})"))?)
    } else if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut der = prefix.to_vec();
        der.extend(hex::decode(text).map_err(|e| e.to_string())?);
        Zeroizing::new(der)
    } else {
        return Err(format!("expected a PEM `{label}` block or 64 hex digits"));
    };
    if der.len() != prefix.len() + 32 || !der.starts_with(prefix) {
        return Err(format!("the `{label}` is not an Ed25519 key"));
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&der[prefix.len()..]);
    Ok(out)
}

pub fn public_key_pem(key: &VerifyingKey) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    pem("PUBLIC KEY", &der)
}

fn private_key_pem(key: &SigningKey) -> Zeroizing<String> {
    let mut der = Zeroizing::new(PKCS8_PREFIX.to_vec());
    der.extend_from_slice(&key.to_bytes());
    Zeroizing::new(pem("PRIVATE KEY", &der))
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = key_bytes(text, "PUBLIC KEY", &SPKI_PREFIX)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

/// `sha256:` + the first 16 hex digits of the SHA-256 of the 32 public key bytes.
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!("sha256:{}", &hex::encode(Sha256::digest(key.as_bytes()))[..16])
}

/// Reads a signing key, refusing a file that group or others may read.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, EvidenceError> {
    check_private(path)?;
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| EvidenceError::read(path, e))?);
    let seed = key_bytes(&text, "PRIVATE KEY", &PKCS8_PREFIX).map_err(|r| EvidenceError::key(path, r))?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn read_public_key(path: &Path) -> Result<VerifyingKey, EvidenceError> {
    let text = fs::read_to_string(path).map_err(|e| EvidenceError::read(path, e))?;
    parse_public_key(&text).map_err(|r| EvidenceError::key(path, r))
}

fn check_private(path: &Path) -> Result<(), EvidenceError> {
    crate::target::private_file::check(path).map_err(|reason| EvidenceError::key(path, reason))
}

/// Creates `dir/mssconf.key` (mode 0600) and `dir/mssconf.pub`; refuses to overwrite either.
pub fn generate(dir: &Path) -> Result<(PathBuf, PathBuf), EvidenceError> {
    let (key_path, pub_path) = (dir.join(KEY_FILE), dir.join(PUB_FILE));
    for p in [&key_path, &pub_path] {
        if p.exists() {
            return Err(EvidenceError::key(p, "already exists; not overwritten (move it away first)"));
        }
    }
    fs::create_dir_all(dir).map_err(|e| EvidenceError::write(dir, e))?;
    // A keygen killed mid-write leaves a temporary private key behind: never let it linger.
    crate::util::atomic::remove_stale_temps_here(dir).map_err(|e| EvidenceError::write(dir, e))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| EvidenceError::key(&key_path, format!("no randomness from the OS: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    write_new(&key_path, private_key_pem(&key).as_bytes(), 0o600)?;
    write_new(&pub_path, public_key_pem(&key.verifying_key()).as_bytes(), 0o644)?;
    Ok((key_path, pub_path))
}

/// Writes a new file atomically without ever replacing one: the bytes go to a temporary file
/// created with `mode`, which is then hard-linked to `path` (fails if `path` exists).
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), EvidenceError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    // Named like `report::atomic`'s temporary files, so its sweep of dead writers' files finds it.
    let tmp = dir.join(format!(".{name}.tmp-{}-0", std::process::id()));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    result.map_err(|e| EvidenceError::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_keygen_temporary_key_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        // Process 0 is never a user process: its files count as a dead writer's.
        let left = dir.path().join(".mssconf.key.tmp-0-0");
        let other = dir.path().join("notes.txt");
        fs::write(&left, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        fs::write(&other, "kept").unwrap();
        generate(dir.path()).unwrap();
        assert!(!left.exists(), "the dead writer's temporary key is still there");
        assert!(other.exists());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn generated_keys_read_back_and_match() {
        let dir = tempfile::tempdir().unwrap();
        let (k, p) = generate(dir.path()).unwrap();
        let signing = read_signing_key(&k).unwrap();
        let public = read_public_key(&p).unwrap();
        assert_eq!(signing.verifying_key(), public);
        let text = fs::read_to_string(&k).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&k).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = generate(dir.path()).unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left");
    }

    #[cfg(unix)]
    #[test]
    fn an_open_key_file_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (k, _) = generate(dir.path()).unwrap();
        fs::set_permissions(&k, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_signing_key(&k).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn hex_and_pem_forms_and_bad_input() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = key.verifying_key();
        assert_eq!(parse_public_key(&public_key_pem(&public)).unwrap(), public);
        assert_eq!(parse_public_key(&hex::encode(public.as_bytes())).unwrap(), public);
        assert!(parse_public_key("hello").is_err());
        assert!(parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
        let seed = key_bytes(&private_key_pem(&key), "PRIVATE KEY", &PKCS8_PREFIX).unwrap();
        assert_eq!(*seed, [7u8; 32]);
        assert!(fingerprint(&public).starts_with("sha256:"));
    }
}
