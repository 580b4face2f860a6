//! The import structure of `src/` (and of the mock's `mock-server/src/`), read from the code.
//!
//! Every `crate::…`, `super::…` and `self::…` path of a file (in `use` trees and inline) is
//! resolved to the file of the deepest module it names; test-only code (`#[cfg(test)]` modules
//! and the files they load) is left out. Three rules:
//! - the top-level modules of `src/` form a DAG (no module reaches itself through others);
//! - no file-level circle. A folder's `mod.rs` using its own children is how a folder is put
//!   together, so those arrows are not counted; every other arrow is;
//! - at most [`MAX_AGAINST`] imports run against the pipeline ([`RANKS`]): a module importing
//!   one of a later rank. An import is one (file, imported file) pair.
//!
//! `cargo test --test integration architecture -- --nocapture` prints the counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

use super::root;

/// Rank of each top-level module of `src/`: data flows from low to high. Foundation types
/// first, then the pipeline scenario → plan → exec → verdict → (record) → evidence → report, then the
/// front ends that drive it. A module without a rank fails the test, so a new one is placed.
const RANKS: &[(&str, u32)] = &[
    // Foundation: small shared types, no IO.
    ("lang", 0),
    ("secret", 0),
    ("util", 0),
    ("yaml", 0),
    ("cipher", 0),
    ("requirement", 0),
    // What is tested, against what.
    ("scenario", 1),
    ("target", 1),
    ("fixtures", 1),
    ("plan", 2),
    // Acting and observing, then judging.
    ("exec", 3),
    ("verdict", 4),
    ("record", 5),
    ("evidence", 6),
    ("report", 7),
    // Drivers: run the pipeline, or reuse parts of it.
    ("runner", 8),
    ("dossier", 8),
    ("load", 8),
    ("audit", 8),
    ("bench", 9),
    ("preflight", 9),
    ("cli", 10),
    ("exit_code", 10),
    ("fuzzing", 11),
];
/// Imports allowed against the pipeline (each one a known, documented exception).
const MAX_AGAINST: usize = 6;

#[test]
fn architecture_top_level_modules_form_a_dag() {
    let g = Graph::read(&root().join("src"));
    let top = g.top_level_edges();
    let cycles = top_level_cycles(&top);
    println!("top-level modules in a circle: {}", cycles.iter().map(|c| c.len()).max().unwrap_or(0));
    assert!(cycles.is_empty(), "top-level modules in a circle: {cycles:?}\n{}", g.explain_top(&cycles));
}

#[test]
fn architecture_no_file_level_circle() {
    let mut found = Vec::new();
    for dir in ["src", "mock-server/src"] {
        let circles = Graph::read(&root().join(dir)).file_cycles();
        println!("{dir}: {} file-level circle(s)", circles.len());
        found.extend(circles.into_iter().map(|c| format!("{dir}: {}", c.join(" "))));
    }
    assert!(found.is_empty(), "file-level circles:\n{}", found.join("\n"));
}

#[test]
fn architecture_few_imports_against_the_pipeline() {
    let g = Graph::read(&root().join("src"));
    let ranks: BTreeMap<&str, u32> = RANKS.iter().copied().collect();
    let mut against = Vec::new();
    for (from, to) in &g.edges {
        let (a, b) = (g.top(from), g.top(to));
        let rank = |m: &str| *ranks.get(m).unwrap_or_else(|| panic!("top-level module `{m}` has no rank in RANKS"));
        if a != b && a != "lib" && b != "lib" && rank(&a) < rank(&b) {
            against.push(format!("{from} -> {to}"));
        }
    }
    println!("imports against the pipeline: {}", against.len());
    for a in &against {
        println!("  {a}");
    }
    assert!(against.len() <= MAX_AGAINST, "{} imports against the pipeline (at most {MAX_AGAINST}):\n{}", against.len(), against.join("\n"));
}

/// One allow-list of cipher suites: the mock keeps a copy (it shares no code with the harness's
/// protocol layer), which must say the same.
#[test]
fn architecture_the_mock_and_the_harness_allow_the_same_suites() {
    assert_eq!(mssconf::cipher::ALLOW_LIST, mssconf_mock::profile::CIPHER_ALLOW_LIST);
}

/// Files (relative paths) and the arrows between them.
struct Graph {
    /// Module path (`exec::smtp::wire`) → file (`exec/smtp/wire.rs`).
    modules: BTreeMap<String, String>,
    edges: BTreeSet<(String, String)>,
}

impl Graph {
    fn read(src: &Path) -> Graph {
        let mut files = Vec::new();
        walk(src, &mut files);
        let mut modules = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for f in &files {
            let rel = f.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(f).unwrap();
            modules.insert(module_of(&rel), rel.clone());
            texts.insert(rel, text);
        }
        let tests = test_files(&texts, &modules);
        let mut g = Graph { modules, edges: BTreeSet::new() };
        for (rel, text) in &texts {
            if tests.contains(rel) || rel == "main.rs" {
                continue;
            }
            let here = module_of(rel);
            for path in paths(&strip_tests(&strip_comments(text))) {
                if let Some(to) = g.resolve(&here, rel.ends_with("mod.rs") || rel == "lib.rs", &path) {
                    if &to != rel && !tests.contains(&to) {
                        g.edges.insert((rel.clone(), to));
                    }
                }
            }
        }
        g
    }

    /// The file of the deepest module named by `path`, seen from module `here`.
    fn resolve(&self, here: &str, is_dir_module: bool, path: &[String]) -> Option<String> {
        let mut base: Vec<&str> = if here.is_empty() { vec![] } else { here.split("::").collect() };
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => base.clear(),
            Some("self") => {}
            Some("super") => {
                // `super` of `a/b.rs` (module a::b) is a; of `a/mod.rs` (module a) is the crate root.
                let _ = is_dir_module;
                base.pop();
            }
            _ => return None,
        }
        rest = &rest[1..];
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        let mut best = self.modules.get(&base.join("::")).cloned();
        let mut cur: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for seg in rest {
            cur.push(seg.clone());
            match self.modules.get(&cur.join("::")) {
                Some(f) => best = Some(f.clone()),
                None => break,
            }
        }
        best
    }

    /// First segment of a file's module path (`exec` for `exec/smtp/wire.rs`; `lib` for lib.rs).
    fn top(&self, file: &str) -> String {
        let m = module_of(file);
        m.split("::").next().filter(|s| !s.is_empty()).unwrap_or("lib").to_string()
    }

    fn top_level_edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in &self.edges {
            let (ta, tb) = (self.top(a), self.top(b));
            if ta != tb && ta != "lib" && tb != "lib" {
                top.entry(ta).or_default().insert(tb);
            }
        }
        top
    }

    fn explain_top(&self, cycles: &[Vec<String>]) -> String {
        let members: BTreeSet<&String> = cycles.iter().flatten().collect();
        let mut out = String::new();
        for (a, b) in &self.edges {
            let (ta, tb) = (self.top(a), self.top(b));
            if ta != tb && members.contains(&ta) && members.contains(&tb) {
                out += &format!("  {a} -> {b}\n");
            }
        }
        out
    }

    /// Strongly connected groups of files, without a folder's `mod.rs` → its own children.
    fn file_cycles(&self) -> Vec<Vec<String>> {
        let mut adj: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in &self.edges {
            let folder = a.strip_suffix("mod.rs").filter(|_| a.ends_with("/mod.rs"));
            let own_child = a == "lib.rs" || folder.is_some_and(|f| b.starts_with(f));
            if !own_child {
                adj.entry(a.clone()).or_default().insert(b.clone());
            }
        }
        components(&adj)
    }
}

fn top_level_cycles(top: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    components(top)
}

/// Tarjan's strongly connected components of more than one node.
fn components(adj: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        adj: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(next) = t.adj.get(v) {
            for w in next {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let l = t.low[w].min(t.low[v]);
                    t.low.insert(v, l);
                } else if t.on.contains(w) {
                    let l = t.index[w].min(t.low[v]);
                    t.low.insert(v, l);
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut group = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                t.out.push(group);
            }
        }
    }
    let mut t = T { adj, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), out: vec![] };
    for v in adj.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `exec/smtp/wire.rs` → `exec::smtp::wire`; `exec/mod.rs` → `exec`; `lib.rs` → ``.
fn module_of(rel: &str) -> String {
    let no_ext = rel.strip_suffix(".rs").unwrap_or(rel);
    let parts: Vec<&str> = no_ext.split('/').collect();
    let parts = match parts.last() {
        Some(&"mod") | Some(&"lib") => &parts[..parts.len() - 1],
        _ => &parts[..],
    };
    parts.join("::")
}

/// Files loaded only under `#[cfg(test)]` (`mod tests;`, `#[path = "…"] mod …;`), with every
/// file of a test-only folder.
fn test_files(texts: &BTreeMap<String, String>, modules: &BTreeMap<String, String>) -> BTreeSet<String> {
    let decl = Regex::new(r#"#\[cfg\(test\)\]\s*(?:#\[path\s*=\s*"([^"]+)"\]\s*)?(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;"#).unwrap();
    let mut out = BTreeSet::new();
    for (rel, text) in texts {
        let here = module_of(rel);
        let dir = match rel.rsplit_once('/') {
            Some((d, _)) => format!("{d}/"),
            None => String::new(),
        };
        for c in decl.captures_iter(text) {
            if let Some(p) = c.get(1) {
                out.insert(format!("{dir}{}", p.as_str()));
                continue;
            }
            let name = &c[2];
            let child = if here.is_empty() { name.to_string() } else { format!("{here}::{name}") };
            for (m, f) in modules {
                if m == &child || m.starts_with(&format!("{child}::")) {
                    out.insert(f.clone());
                }
            }
        }
    }
    out
}

fn strip_comments(text: &str) -> String {
    let line = Regex::new(r#"(?m)(^|[^:"])//.*$"#).unwrap();
    line.replace_all(text, "$1").into_owned()
}

/// Removes inline `#[cfg(test)] mod name { … }` blocks (braces counted).
fn strip_tests(text: &str) -> String {
    let start = Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{").unwrap();
    let mut out = text.to_string();
    while let Some(m) = start.find(&out) {
        let mut depth = 1usize;
        let mut end = out.len();
        for (i, ch) in out[m.end()..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = m.end() + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(m.start()..end, "");
    }
    out
}

/// Every `crate::`/`super::`/`self::` path of a text, `use` trees expanded.
fn paths(text: &str) -> Vec<Vec<String>> {
    let uses = Regex::new(r"(?s)\buse\s+((?:crate|super|self)\b[^;]*);").unwrap();
    let inline = Regex::new(r"\b(?:crate|super|self)(?:::(?:\w+))+").unwrap();
    let mut out = Vec::new();
    for c in uses.captures_iter(text) {
        let tree = Regex::new(r"\s+").unwrap().replace_all(&c[1], " ");
        let tree = Regex::new(r"\s*([{},]|::)\s*").unwrap().replace_all(&tree, "$1");
        for p in expand(tree.trim()) {
            out.push(p);
        }
    }
    for m in inline.find_iter(text) {
        out.push(m.as_str().split("::").map(str::to_string).collect());
    }
    out
}

/// `a::{b, c::{d, e as f}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path.split("::").filter(|s| !s.is_empty() && *s != "*").map(str::to_string).collect()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[from..]);
    let mut out = Vec::new();
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        for mut sub in expand(p) {
            if sub.first().is_some_and(|s| s == "self") {
                sub.remove(0);
            }
            let mut full: Vec<String> = prefix.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
            full.append(&mut sub);
            out.push(full);
        }
    }
    out
}
