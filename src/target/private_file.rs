//! Files a profile points at that hold secrets (token files, passwords, client private keys):
//! they must be private to their owner, as ssh does for its keys. A file readable by group or
//! others is refused before it is read, with the command that fixes it; so is one larger than
//! any secret ([`MAX_BYTES`]).

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use super::model::{SecretSource, Target};

/// The most bytes a secret file may hold. A token, a password or a PEM key is a few kilobytes;
/// the bound stops a profile pointing at a log or a device from being read whole.
pub const MAX_BYTES: u64 = 1 << 20;

/// Refuses `path` if group or others have any permission on it.
#[cfg(unix)]
pub fn check(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} holds a secret but is open to group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Every secret file the profile names that exists and is open to group or others, each with
/// its fix. Missing files are left to the step that needs them (a dry run needs none).
pub fn lax_files(target: &Target) -> Vec<String> {
    let file = |s: &Option<SecretSource>| match s {
        Some(SecretSource::File(p)) => Some(p.clone()),
        _ => None,
    };
    let mut paths: Vec<std::path::PathBuf> = target
        .mailboxes
        .values()
        .flat_map(|m| [file(&m.password)])
        .chain([file(&target.negative.expired_token), file(&target.negative.revoked_token)])
        .flatten()
        .collect();
    paths.extend(target.mailboxes.values().filter_map(|m| m.token.as_ref()).flat_map(|t| t.secret_files()));
    let keys = target.mailboxes.values().filter_map(|m| m.certificate.as_ref());
    let negative = [&target.negative.expired_client_cert, &target.negative.foreign_client_cert];
    let keys = keys.chain(negative.into_iter().flatten()).map(|c| c.key.clone());
    paths.extend(keys);
    paths.sort();
    paths.dedup();
    paths.into_iter().filter(|p| p.exists()).filter_map(|p| check(&p).err()).collect()
}

/// Reads a secret file after [`check`], at most [`MAX_BYTES`]; the bytes are wiped when dropped.
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    check(path)?;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Sized up front: a buffer that grows leaves copies of the secret behind, unwiped.
    let size = file.metadata().map(|m| m.len().min(MAX_BYTES) as usize + 1).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(size));
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("{} is larger than {MAX_BYTES} bytes: not a secret file", path.display()));
    }
    Ok(bytes)
}

/// Reads a secret file as trimmed text (tokens, passwords).
pub fn read_text(path: &Path) -> Result<Zeroizing<String>, String> {
    let bytes = read(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
    Ok(Zeroizing::new(text.trim().to_string()))
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn file(mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org1.token");
        fs::write(&path, "fictitious-token-value\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn owner_only_file_is_read_and_trimmed() {
        let (_d, path) = file(0o600);
        assert_eq!(read_text(&path).unwrap().as_str(), "fictitious-token-value");
        let (_d, path) = file(0o400);
        assert!(read(&path).is_ok());
    }

    #[test]
    fn group_or_world_access_is_refused_with_the_fix() {
        for mode in [0o640, 0o604, 0o660, 0o644, 0o610] {
            let (_d, path) = file(mode);
            let err = read(&path).unwrap_err();
            assert!(err.contains(&format!("mode {mode:o}")), "{err}");
            assert!(err.contains(&format!("chmod 600 {}", path.display())), "{err}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = read(Path::new("/nonexistent/mssconf/key.pem")).unwrap_err();
        assert!(err.contains("/nonexistent/mssconf/key.pem"), "{err}");
    }
}
