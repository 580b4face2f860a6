//! Crash-safe file writes: a reader never sees a half-written report or proof.
//!
//! The bytes go to a temporary file in the destination folder (same filesystem, so the final
//! `rename` is atomic), which is flushed to disk before being renamed over the final name. The
//! folder itself is then synced so the rename survives a power loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writers within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: the file is either absent/old or complete and new.
///
/// The parent folder must exist. On error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display()))
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id()));
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        // Best effort: the write already failed, a leftover temp file must not add to it.
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(&dir)
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    // `create_new`: never follow or clobber something already sitting at the temp name.
    let mut file = OpenOptions::new().write(true).create_new(true).open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)
}

/// Persists the directory entry of the rename (a no-op where folders cannot be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, File::open);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mssconf-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = scratch("ok");
        let file = dir.join("report.json");
        write_atomic(&file, b"first").unwrap();
        write_atomic(&file, b"second").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"second");
        assert_eq!(entries(&dir), vec!["report.json".to_string()]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_rename_cleans_up_the_temp_file() {
        let dir = scratch("fail");
        // A non-empty folder sits at the final name: rename over it fails.
        let blocker = dir.join("junit.xml");
        fs::create_dir(&blocker).unwrap();
        fs::write(blocker.join("keep"), b"x").unwrap();
        assert!(write_atomic(&blocker, b"data").is_err());
        assert_eq!(entries(&dir), vec!["junit.xml".to_string()]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_folder_is_an_error() {
        let dir = scratch("missing");
        assert!(write_atomic(&dir.join("nope/report.html"), b"x").is_err());
        assert!(write_atomic(Path::new("/"), b"x").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
