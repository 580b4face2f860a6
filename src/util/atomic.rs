//! Crash-safe file writes: a reader never sees a half-written report or proof.
//!
//! The bytes go to a temporary file in the destination folder (same filesystem, so the final
//! `rename` is atomic), which is flushed to disk before being renamed over the final name. The
//! folder itself is then synced so the rename survives a power loss.
//!
//! A process killed between the two leaves its temporary file behind, under a name no reader
//! takes for evidence (`.<final name>.tmp-<pid>-<n>`); [`remove_stale_temps`] clears those of dead
//! processes when the next run or bundle writes into the same folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Distinguishes temporary files of concurrent writers within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: the file is either absent/old or complete and new.
///
/// The parent folder must exist. On error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] for content produced piece by piece: `fill` writes into the temporary file
/// (a streamed message, say), which is then synced and renamed to `path`.
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    write_atomic_as(path, fill, true)
}

/// [`write_atomic_with`] without the two disk flushes (file and folder): just as atomic for a
/// reader and against a killed process, durable against a power loss only once
/// [`sync_filesystem`] has run. For the many evidence files of a run, flushed once at its end:
/// one flush per file cost 1–5 ms each (two `fsync`s), most of the evidence time.
pub fn write_atomic_deferred_with(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    write_atomic_as(path, fill, false)
}

/// Flushes to disk everything written on the filesystem holding `dir` (Linux `syncfs`; a full
/// `sync` elsewhere on Unix).
pub fn sync_filesystem(dir: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let folder = File::open(dir)?;
        // SAFETY: syncfs takes an open descriptor, valid for the duration of the call.
        if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        let _ = dir;
        // SAFETY: sync takes no arguments and cannot fail.
        unsafe { libc::sync() };
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn write_atomic_as(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>, flush: bool) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display()))
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id()));
    let result = write_then_rename(&tmp, path, fill, flush);
    if result.is_err() {
        // Best effort: the write already failed, a leftover temp file must not add to it.
        let _ = fs::remove_file(&tmp);
        return result;
    }
    if flush { sync_dir(&dir) } else { Ok(()) }
}

/// A temporary file older than this is stale even where the writer's liveness cannot be checked.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Removes the temporary files that writers killed mid-write left in `dir` and its sub-folders
/// (two levels: `proofs/`, `messages/<scenario>/`). Files of live processes are left alone.
/// Returns how many were removed; a missing `dir` removes nothing.
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    remove_stale_in(dir, 2)
}

/// [`remove_stale_temps`] in `dir` only, for folders that may hold anything below (key folders).
pub fn remove_stale_temps_here(dir: &Path) -> io::Result<usize> {
    remove_stale_in(dir, 0)
}

fn remove_stale_in(dir: &Path, depth: u32) -> io::Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() && depth > 0 {
            removed += remove_stale_in(&entry.path(), depth - 1)?;
        } else if kind.is_file()
            && let Some(pid) = temp_writer(&entry.file_name().to_string_lossy())
            && is_stale(pid, &entry)
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The process id in a temporary name of [`write_atomic`], `None` for any other name.
fn temp_writer(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp-")?;
    let (pid, n) = tail.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

fn is_stale(pid: u32, entry: &fs::DirEntry) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc_root = Path::new("/proc/self");
    if cfg!(target_os = "linux") && proc_root.exists() {
        return !Path::new("/proc").join(pid.to_string()).exists();
    }
    let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| SystemTime::now().duration_since(t).ok());
    age.is_some_and(|a| a > STALE_AFTER)
}

fn write_then_rename(tmp: &Path, path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>, flush: bool) -> io::Result<()> {
    // `create_new`: never follow or clobber something already sitting at the temp name.
    let mut file = OpenOptions::new().write(true).create_new(true).open(tmp)?;
    fill(&mut file)?;
    if flush {
        file.sync_all()?;
    }
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
    fn deferred_writes_are_atomic_too_and_the_filesystem_flushes() {
        let dir = scratch("deferred");
        let path = dir.join("card.png");
        write_atomic_deferred_with(&path, |f| f.write_all(b"one")).unwrap();
        write_atomic_deferred_with(&path, |f| f.write_all(b"two")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let failed = write_atomic_deferred_with(&path, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"two", "a failed write leaves the old file");
        assert_eq!(entries(&dir), ["card.png"], "no temp file left");
        sync_filesystem(&dir).unwrap();
        assert!(sync_filesystem(&dir.join("missing")).is_err());
        fs::remove_dir_all(&dir).unwrap();
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
    fn stale_temps_of_dead_writers_are_removed() {
        let dir = scratch("stale");
        fs::create_dir_all(dir.join("proofs")).unwrap();
        // pid 0 is never a live writer of ours; our own pid is.
        let dead = dir.join("proofs/.OPE_X.01.01.02.png.tmp-0-3");
        let live = dir.join(format!(".report.json.tmp-{}-1", std::process::id()));
        for (p, b) in [(&dead, &b"half"[..]), (&live, b"busy"), (&dir.join("report.json"), b"{}")] {
            fs::write(p, b).unwrap();
        }
        fs::write(dir.join(".hidden-note"), b"not ours").unwrap();
        assert_eq!(remove_stale_temps(&dir).unwrap(), usize::from(cfg!(target_os = "linux")));
        assert!(live.exists() && dir.join("report.json").exists() && dir.join(".hidden-note").exists());
        assert_eq!(remove_stale_temps(&dir.join("nope")).unwrap(), 0);
        assert_eq!(temp_writer(".junit.xml.tmp-123-4"), Some(123));
        assert_eq!(temp_writer("junit.xml"), None);
        assert_eq!(temp_writer(".a.tmp-x-1"), None);
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
