//! The parse cache of `list` and `validate` (`<root>/.mssconf_cache`): unchanged files are read
//! from it, a changed file is parsed again, errors read exactly as without it, and `--no-cache`
//! neither reads nor writes it. Its speed is the bench's business (`mssconf bench`).

use std::path::Path;
use std::process::Output;

use mssconf::bench::generate::generate;
use serde_json::Value;

use super::{mssconf, root, text};

fn cache_file(at: &Path) -> std::path::PathBuf {
    at.join(".mssconf_cache/parse-cache.json")
}

fn titles(out: &Output) -> Vec<(String, String)> {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).expect("list --json");
    listed.iter().map(|e| (e["id"].as_str().unwrap_or("").into(), e["title"].as_str().unwrap_or("").into())).collect()
}

#[test]
fn unchanged_files_come_from_the_cache_and_changed_ones_are_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(root(), &dir.path().join("catalogue"), 20).expect("catalogue generated");
    let at = g.root.to_str().unwrap();

    let out = mssconf(&["validate", "--root", at]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::metadata(cache_file(&g.root)).expect("cache written").modified().unwrap();
    let first = titles(&mssconf(&["list", "--root", at, "--json"]));
    assert_eq!(first, titles(&mssconf(&["list", "--root", at, "--json", "--no-cache"])));
    assert_eq!(std::fs::metadata(cache_file(&g.root)).unwrap().modified().unwrap(), written, "nothing changed: not rewritten");

    // A new title in one file shows at once, the others are unchanged.
    let file = &g.files[3];
    let source = std::fs::read_to_string(file).unwrap();
    let line = source.lines().find(|l| l.starts_with("title:")).unwrap().to_string();
    std::fs::write(file, source.replace(&line, "title: \"Titre modifié\"")).unwrap();
    let second = titles(&mssconf(&["list", "--root", at, "--json"]));
    let changed: Vec<_> = first.iter().zip(&second).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1.1, "Titre modifié");
}

#[test]
fn errors_read_the_same_with_a_warm_cache() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(root(), &dir.path().join("catalogue"), 20).expect("catalogue generated");
    let at = g.root.to_str().unwrap();
    assert_eq!(mssconf(&["validate", "--root", at]).status.code(), Some(0));
    // A copy sorted after its original: the duplicate id is reported on the copy and cites the
    // original's position, which the cache does not keep.
    let original = &g.files[0];
    let copy = original.with_file_name("zz-copy.yaml");
    std::fs::copy(original, &copy).unwrap();
    let warm = mssconf(&["validate", "--root", at]);
    let cold = mssconf(&["validate", "--root", at, "--no-cache"]);
    assert_eq!(warm.status.code(), Some(1), "{}", text(&warm.stderr));
    assert!(text(&warm.stderr).contains("is already used at"), "{}", text(&warm.stderr));
    assert_eq!(text(&warm.stderr), text(&cold.stderr));
}

#[test]
fn no_cache_neither_reads_nor_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(root(), &dir.path().join("catalogue"), 20).expect("catalogue generated");
    let at = g.root.to_str().unwrap();
    assert_eq!(mssconf(&["validate", "--root", at, "--no-cache"]).status.code(), Some(0));
    assert_eq!(mssconf(&["list", "--root", at, "--no-cache"]).status.code(), Some(0));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(["validate", "--root", at])
        .env("MSSCONF_NO_CACHE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!g.root.join(".mssconf_cache").exists());
    assert_eq!(mssconf(&["validate", "--root", at]).status.code(), Some(0));
    assert!(cache_file(&g.root).is_file());
}
