//! The fuzz corpora (`fuzz/corpus/<target>/`, and crash inputs kept in `fuzz/regressions/<target>/`)
//! replayed through the same `mssconf::fuzzing` functions the fuzz targets call: every input the
//! long fuzz runs reached must still parse without a panic, and quickly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mssconf::fuzzing::TARGETS;

use super::root;

/// Per input, in a debug build on a loaded machine; the fuzzer's own limit is 10 s in release.
const MAX_PER_INPUT: Duration = Duration::from_secs(2);

/// The files of `dir`, sorted; empty if the folder does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Replays one target's corpus (and regressions); returns the failures, each naming its file.
fn replay(name: &str, run: fn(&[u8])) -> Vec<String> {
    let corpus = inputs(&root().join("fuzz/corpus").join(name));
    if corpus.is_empty() {
        return vec![format!("fuzz/corpus/{name}/ is missing or empty: the replay would prove nothing")];
    }
    let regressions = inputs(&root().join("fuzz/regressions").join(name));
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&regressions) {
        let shown = file.strip_prefix(root()).unwrap_or(file).display().to_string();
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{shown}: cannot read: {e}"));
                continue;
            }
        };
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| run(&data));
        let took = started.elapsed();
        if let Err(panic) = outcome {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{shown}: `mssconf::fuzzing::{name}` panicked: {why}"));
        } else if took > MAX_PER_INPUT {
            failures.push(format!("{shown}: `mssconf::fuzzing::{name}` took {took:?} (limit {MAX_PER_INPUT:?})"));
        }
    }
    failures
}

#[test]
fn every_fuzz_corpus_replays_without_panic_or_hang() {
    let failures: Vec<String> = TARGETS.iter().flat_map(|(name, run)| replay(name, *run)).collect();
    assert!(failures.is_empty(), "fuzz corpus regressions:\n{}", failures.join("\n"));
}

#[test]
fn every_fuzz_target_has_its_entry_point() {
    // A target added under fuzz/fuzz_targets/ without an entry in `TARGETS` would not be replayed.
    let declared: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    for file in inputs(&root().join("fuzz/fuzz_targets")) {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        assert!(declared.contains(&stem.as_str()), "fuzz target `{stem}` is not in mssconf::fuzzing::TARGETS");
    }
}

#[test]
fn an_empty_corpus_folder_fails_the_replay() {
    assert!(!replay("no_such_target", |_| {}).is_empty());
    let panicking = replay("smtp_reply", |_| panic!("boom"));
    assert!(panicking.iter().any(|f| f.contains("fuzz/corpus/smtp_reply/") && f.contains("boom")), "{panicking:?}");
}
