//! The parse cache of the read-only catalogue commands (`list`, `validate`): each scenario
//! file's parsed form, keyed by the SHA-256 of its text, so an unchanged file is not parsed again.
//! YAML parsing is nearly all of their time on a large catalogue (0.2–0.3 ms a file here).
//!
//! It is only a speed-up, never a source of truth:
//! - a cache that is missing, unreadable, corrupt, or written by another build of mssconf is
//!   ignored and rewritten (the stamp names the version and the executable's size and mtime);
//! - positions are not kept: the loader reads everything again from the sources whenever there
//!   is an error to report, so messages point at the same lines as without a cache;
//! - `run` and `audit` never read it: the steps executed always come from the YAML text itself.
//!
//! It lives in `<root>/.mssconf_cache/` (with a `.gitignore` of `*`, like other tools' caches),
//! holds only files that still exist, and is written only when something changed.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::Scenario;

/// The cache folder under a project root.
pub const DIR_NAME: &str = ".mssconf_cache";
const FILE_NAME: &str = "parse-cache.json";
/// A larger cache file is not read (1,000 scenarios make 3.6 MB).
const MAX_CACHE_BYTES: u64 = 256 * 1024 * 1024;
/// Environment variable that turns the cache off (any non-empty value but `0`).
pub const NO_CACHE_ENV: &str = "MSSCONF_NO_CACHE";

/// The SHA-256 of a scenario file's text, hex.
pub fn digest(source: &str) -> String {
    crate::util::digest::sha256_hex(source.as_bytes())
}

#[derive(Deserialize)]
struct Entry {
    path: String,
    sha256: String,
    scenario: Scenario,
}

#[derive(Serialize)]
struct EntryRef<'a> {
    path: &'a str,
    sha256: &'a str,
    scenario: &'a Scenario,
}

/// A parsed file ready to be cached: its path as the loader saw it, its digest, its scenario.
pub struct Fresh<'a> {
    pub file: &'a Path,
    pub sha256: &'a str,
    pub scenario: &'a Scenario,
}

/// The cache of one project root, as read at the start of a command.
pub struct ParseCache {
    file: PathBuf,
    stamp: String,
    entries: HashMap<String, Entry>,
    /// Entries taken out by [`ParseCache::take`] (they are written back from the catalogue).
    taken: usize,
}

impl ParseCache {
    /// Opens the cache under `root`; `None` when it is turned off ([`NO_CACHE_ENV`]) or this
    /// build cannot be identified. A missing or unusable file gives an empty cache.
    pub fn open(root: &Path) -> Option<ParseCache> {
        if std::env::var(NO_CACHE_ENV).is_ok_and(|v| !v.is_empty() && v != "0") {
            return None;
        }
        Some(Self::open_stamped(root, build_stamp()?))
    }

    fn open_stamped(root: &Path, stamp: String) -> ParseCache {
        let file = root.join(DIR_NAME).join(FILE_NAME);
        let entries = read_entries(&file, &stamp).unwrap_or_default();
        ParseCache { file, stamp, entries, taken: 0 }
    }

    /// The cached scenario of `file` when its text still has this digest (taken out of the cache).
    pub fn take(&mut self, file: &Path, sha256: &str) -> Option<Scenario> {
        let key = file.to_string_lossy();
        if self.entries.get(key.as_ref()).is_some_and(|e| e.sha256 == sha256) {
            self.taken += 1;
            return self.entries.remove(key.as_ref()).map(|e| e.scenario);
        }
        None
    }

    /// Writes the cache when `fresh` holds anything it did not: `fresh` is every file of this
    /// command; entries of other files are kept while those files exist. Failures are silent
    /// (the next command parses again): a cache must never make a command fail.
    pub fn save(mut self, fresh: &[Fresh<'_>]) {
        let current: std::collections::HashSet<_> = fresh.iter().map(|f| f.file.to_string_lossy()).collect();
        let before = self.entries.len();
        self.entries.retain(|path, _| !current.contains(path.as_str()) && Path::new(path).is_file());
        if self.taken == fresh.len() && self.entries.len() == before {
            return;
        }
        let _ = self.write(fresh);
    }

    fn write(&self, fresh: &[Fresh<'_>]) -> std::io::Result<()> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        if !dir.is_dir() {
            std::fs::create_dir(dir)?;
            std::fs::write(dir.join(".gitignore"), "# Written by mssconf: a parse cache, safe to delete.\n*\n")?;
        }
        let paths: Vec<_> = fresh.iter().map(|f| f.file.to_string_lossy()).collect();
        let all = fresh.iter().zip(&paths).map(|(f, p)| EntryRef { path: p, sha256: f.sha256, scenario: f.scenario });
        let kept = self.entries.values().map(|e| EntryRef { path: &e.path, sha256: &e.sha256, scenario: &e.scenario });
        let entries: Vec<_> = all.chain(kept).collect();
        // One entry a line, encoded over every core: read back the same way, and a damaged line
        // costs only itself.
        let lines = crate::util::par::par_map(&entries, serde_json::to_string);
        crate::util::atomic::write_atomic_deferred_with(&self.file, |out| {
            let mut out = std::io::BufWriter::new(out);
            writeln!(out, "{}", self.stamp)?;
            for line in lines {
                out.write_all(line?.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()
        })
    }
}

/// Entries of a cache file written by this very build (lines that do not read are left out);
/// `None` for anything else.
fn read_entries(file: &Path, stamp: &str) -> Option<HashMap<String, Entry>> {
    if std::fs::metadata(file).ok()?.len() > MAX_CACHE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let (first, rest) = text.split_once('\n')?;
    if first != stamp {
        return None;
    }
    let lines: Vec<&str> = rest.lines().collect();
    let entries = crate::util::par::par_map(&lines, |line| serde_json::from_str::<Entry>(line).ok());
    Some(entries.into_iter().flatten().map(|e| (e.path.clone(), e)).collect())
}

/// Names this build: a cache written by another one may hold another model of the scenario.
fn build_stamp() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("mssconf parse cache 1, {} {} {}", env!("CARGO_PKG_VERSION"), meta.len(), mtime.as_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::catalogue::{Sources, load};

    fn shipped() -> Vec<crate::scenario::load::Loaded> {
        load(&Sources::under(Path::new(env!("CARGO_MANIFEST_DIR")))).unwrap().scenarios
    }

    /// Every shipped scenario comes back from the cache as it was parsed (positions aside):
    /// a field the cache dropped or changed shows as a difference in the serialized form.
    #[test]
    fn every_shipped_scenario_round_trips() {
        let loaded = shipped();
        assert!(loaded.len() > 40);
        let dir = tempfile::tempdir().unwrap();
        let fresh: Vec<_> = loaded.iter().map(|l| (l, digest(&l.source))).collect();
        let fresh_refs: Vec<_> = fresh.iter().map(|(l, d)| Fresh { file: &l.file, sha256: d, scenario: &l.scenario }).collect();
        ParseCache::open_stamped(dir.path(), "stamp".into()).save(&fresh_refs);
        let mut cache = ParseCache::open_stamped(dir.path(), "stamp".into());
        for (l, d) in &fresh {
            let back = cache.take(&l.file, d).unwrap_or_else(|| panic!("{} not cached", l.file.display()));
            assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&l.scenario).unwrap(), "{}", l.file.display());
        }
    }

    #[test]
    fn a_changed_text_another_build_or_a_corrupt_file_is_a_miss() {
        let l = shipped().remove(0);
        let dir = tempfile::tempdir().unwrap();
        let d = digest(&l.source);
        ParseCache::open_stamped(dir.path(), "build A".into()).save(&[Fresh { file: &l.file, sha256: &d, scenario: &l.scenario }]);
        assert!(dir.path().join(DIR_NAME).join(".gitignore").is_file());
        assert!(ParseCache::open_stamped(dir.path(), "build A".into()).take(&l.file, &digest(&(l.source.clone() + "\n"))).is_none());
        assert!(ParseCache::open_stamped(dir.path(), "build B".into()).take(&l.file, &d).is_none());
        assert!(ParseCache::open_stamped(dir.path(), "build A".into()).take(&l.file, &d).is_some());
        let file = dir.path().join(DIR_NAME).join(FILE_NAME);
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, &text[..text.len() / 2]).unwrap();
        assert!(ParseCache::open_stamped(dir.path(), "build A".into()).take(&l.file, &d).is_none());
    }

    #[test]
    fn entries_of_deleted_files_are_dropped_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let l = shipped().remove(0);
        let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        std::fs::write(&a, &l.source).unwrap();
        std::fs::write(&b, &l.source).unwrap();
        let d = digest(&l.source);
        let both = [Fresh { file: &a, sha256: &d, scenario: &l.scenario }, Fresh { file: &b, sha256: &d, scenario: &l.scenario }];
        ParseCache::open_stamped(dir.path(), "s".into()).save(&both);
        // A command on `a` alone keeps `b`'s entry; once `b` is gone, the next write drops it.
        let mut cache = ParseCache::open_stamped(dir.path(), "s".into());
        assert!(cache.take(&a, &d).is_some());
        cache.save(&both[..1]);
        assert!(ParseCache::open_stamped(dir.path(), "s".into()).take(&b, &d).is_some());
        std::fs::remove_file(&b).unwrap();
        let mut cache = ParseCache::open_stamped(dir.path(), "s".into());
        assert!(cache.take(&a, &d).is_some());
        cache.save(&both[..1]);
        assert!(ParseCache::open_stamped(dir.path(), "s".into()).take(&b, &d).is_none());
    }

    #[test]
    fn a_damaged_line_costs_only_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let l = shipped().remove(0);
        let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        let d = digest(&l.source);
        let both = [Fresh { file: &a, sha256: &d, scenario: &l.scenario }, Fresh { file: &b, sha256: &d, scenario: &l.scenario }];
        ParseCache::open_stamped(dir.path(), "s".into()).save(&both);
        let file = dir.path().join(DIR_NAME).join(FILE_NAME);
        let text = std::fs::read_to_string(&file).unwrap();
        let damaged: Vec<String> =
            text.lines().map(|line| if line.contains("a.yaml") { line.replace("\"scenario\"", "\"scenari\"") } else { line.into() }).collect();
        std::fs::write(&file, damaged.join("\n")).unwrap();
        let mut cache = ParseCache::open_stamped(dir.path(), "s".into());
        assert!(cache.take(&a, &d).is_none());
        assert!(cache.take(&b, &d).is_some());
    }
}
