//! Hostile input files (issue #9, point 3). Every malformed scenario, target profile or fixtures
//! file of `tests/cases/hostile/` is refused with exactly the messages of its `.err` sidecar,
//! through the loaders the CLI uses, each within [`TIME_LIMIT`]. Files too big or too strange to
//! commit (a 50 MB file, a line of 900 KB, a FIFO, `/dev/zero`, a huge anchor) are generated into
//! a temporary folder. The worst cases also run in a child `mssconf` whose peak RSS is measured.
//!
//! `HOSTILE_BLESS=1 cargo test --test integration hostile` rewrites the `.err` files from what
//! the loaders say (review the diff before committing).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mssconf::scenario::catalogue::{self, Sources};
use mssconf::yaml::limits::MAX_FILE_BYTES;

use super::{mssconf, root, text};

const CASES: &str = "tests/cases/hostile";
/// Per file, debug build, on a loaded 2-core machine.
const TIME_LIMIT: Duration = Duration::from_secs(2);
/// Peak RSS of a child `mssconf` refusing one of the worst files.
const RSS_LIMIT_KIB: i64 = 100 * 1024;
/// Peak RSS above the same command on a valid file.
const RSS_GROWTH_KIB: i64 = 24 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loader {
    /// `mssconf validate PATH` (the catalogue loader).
    Scenarios,
    /// `mssconf run --target PATH` (the profile loader).
    Profile,
    /// `fixtures/fixtures.yaml` (untyped JSON values).
    Fixtures,
}

/// One case: its name, the file or folder given to the loader, its `.err` file.
struct Case {
    name: String,
    input: PathBuf,
    expected: PathBuf,
}

/// The cases of one subfolder: every `<name>.err` with its `<name>.yaml` or `<name>/` beside it.
fn cases(sub: &str) -> Vec<Case> {
    let dir = Path::new(CASES).join(sub);
    let mut names: Vec<String> = std::fs::read_dir(root().join(&dir))
        .expect("hostile cases dir")
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter_map(|n| n.strip_suffix(".err").map(String::from))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let folder = dir.join(&name);
            let input = if root().join(&folder).is_dir() { folder } else { dir.join(format!("{name}.yaml")) };
            Case { expected: dir.join(format!("{name}.err")), input, name }
        })
        .collect()
}

/// The messages the loader prints for `input` (empty when it accepts the file).
fn load(loader: Loader, input: &Path) -> Vec<String> {
    let lines = |errors: Vec<mssconf::yaml::error::LoadError>| errors.iter().map(ToString::to_string).collect();
    match loader {
        Loader::Scenarios => {
            let sources = Sources { paths: vec![input.to_path_buf()], ..Sources::under(Path::new(".")) };
            catalogue::load(&sources).map(|_| Vec::new()).unwrap_or_else(lines)
        }
        Loader::Profile => mssconf::target::load::load_target(input).map(|_| Vec::new()).unwrap_or_else(lines),
        Loader::Fixtures => catalogue::load_fixtures(input).map(|_| Vec::new()).unwrap_or_else(|e| lines(vec![e])),
    }
}

/// Loads `input`, asserting it is refused within [`TIME_LIMIT`].
fn refused(loader: Loader, input: &Path) -> (Vec<String>, Duration) {
    let start = Instant::now();
    let messages = load(loader, input);
    let took = start.elapsed();
    assert!(took < TIME_LIMIT, "{}: took {took:?}", input.display());
    assert!(!messages.is_empty(), "{}: accepted", input.display());
    (messages, took)
}

/// Each message names a file of the case with a line and column, and says what was expected.
fn assert_precise(case: &str, input: &Path, messages: &[String]) {
    let prefix = input.display().to_string();
    for m in messages {
        assert!(m.starts_with(&prefix), "{case}: `{m}` does not name the file");
        let (pos, rest) = m.split_once(": ").unwrap_or_else(|| panic!("{case}: `{m}` has no position"));
        let parts: Vec<&str> = pos.rsplitn(3, ':').collect();
        let numbers = parts.len() == 3 && parts[0].parse::<u64>().is_ok_and(|c| c > 0) && parts[1].parse::<u64>().is_ok_and(|l| l > 0);
        assert!(numbers, "{case}: `{m}` has no line:column");
        assert!(rest.contains("; expected "), "{case}: `{m}` does not say what was expected");
    }
}

fn check_against_sidecar(case: &Case, messages: &[String]) {
    let got = messages.iter().map(|m| format!("{m}\n")).collect::<String>();
    let file = root().join(&case.expected);
    if std::env::var_os("HOSTILE_BLESS").is_some() {
        std::fs::write(&file, &got).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&file).expect("err file");
    assert_eq!(got, expected, "{}: messages differ", case.name);
}

fn run_cases(sub: &str, loader: Loader) -> usize {
    let all = cases(sub);
    for case in &all {
        if std::env::var_os("HOSTILE_BLESS").is_some() {
            let messages = load(loader, &case.input);
            check_against_sidecar(case, &messages);
            continue;
        }
        let (messages, _) = refused(loader, &case.input);
        check_against_sidecar(case, &messages);
        assert_precise(&case.name, &case.input, &messages);
    }
    all.len()
}

#[test]
fn the_corpus_covers_every_kind_of_hostile_file() {
    let scenarios: Vec<String> = cases("scenarios").into_iter().map(|c| c.name).collect();
    let profiles: Vec<String> = cases("profiles").into_iter().map(|c| c.name).collect();
    assert!(scenarios.len() + profiles.len() >= 30, "{} cases", scenarios.len() + profiles.len());
    for name in [
        "unclosed-quote", "unclosed-flow-map", "bad-indentation", "tab-indentation", "invalid-utf8", "bom-inside", "nul-byte",
        "list-for-map", "negative-duration", "huge-number", "duration-with-unit", "unknown-key-top", "unknown-key-deep",
        "duplicate-id-tree", "duplicate-key", "undefined-variables", "missing-steps", "empty", "only-comment",
        "multi-document", "deep-flow-lists", "deep-flow-maps", "billion-laughs", "merge-key", "non-string-key",
    ] {
        assert!(scenarios.iter().any(|n| n == name), "missing scenario case {name}");
    }
    for name in [
        "inline-token", "inline-jwt", "inline-private-key", "port-too-large", "host-with-scheme", "unknown-auth-form",
        "missing-mailbox-address", "per-without-token", "billion-laughs-auth-form",
    ] {
        assert!(profiles.iter().any(|n| n == name), "missing profile case {name}");
    }
}

#[test]
fn every_hostile_scenario_is_refused_precisely() {
    assert!(run_cases("scenarios", Loader::Scenarios) >= 30);
}

#[test]
fn every_hostile_profile_is_refused_precisely() {
    assert!(run_cases("profiles", Loader::Profile) >= 20);
}

#[test]
fn hostile_fixtures_are_refused_precisely() {
    assert!(run_cases("fixtures", Loader::Fixtures) >= 1);
}

/// A valid scenario whose title line is padded to `len` bytes, then broken at its end.
fn long_line_scenario(len: usize) -> String {
    let pad = "x".repeat(len);
    format!("id: OPE/TLS.01.80\ntitle: \"{pad}\" trailing\nrequirements: [OPE/TLS.01]\nprofile: general\nsteps: []\n")
}

/// A valid profile header followed by `tags`-free filler comments up to `size` bytes.
fn giant_file(path: &Path, size: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let line = format!("# {}\n", "x".repeat(1021));
    let mut written = 0;
    while written < size {
        f.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
    }
    f.flush().expect("flush");
}

/// A scenario with one anchored scalar of `len` bytes replayed `copies` times into `tags`.
fn huge_anchor_scenario(len: usize, copies: usize) -> String {
    let aliases = vec!["*big"; copies].join(", ");
    format!(
        "id: OPE/TLS.01.80\ntitle: t\nrequirements: [OPE/TLS.01]\nprofile: general\nsteps: []\ntags: [&big \"{}\", {aliases}]\n",
        "y".repeat(len)
    )
}

/// Generated cases: (name, input, exact expected message).
fn generated(dir: &Path) -> Vec<(&'static str, PathBuf, String)> {
    let p = |n: &str| dir.join(n);
    let mut out = Vec::new();

    let big = p("fifty-megabytes.yaml");
    giant_file(&big, 50 * 1024 * 1024);
    let size = std::fs::metadata(&big).expect("meta").len();
    out.push(("50 MB file", big.clone(), format!("{}:1:1: file is {size} bytes; expected at most {MAX_FILE_BYTES} bytes", big.display())));

    let over = p("just-over-the-cap.yaml");
    std::fs::write(&over, long_line_scenario(MAX_FILE_BYTES as usize)).expect("write");
    let size = std::fs::metadata(&over).expect("meta").len();
    out.push(("1 MiB + a few bytes", over.clone(), format!("{}:1:1: file is {size} bytes; expected at most {MAX_FILE_BYTES} bytes", over.display())));

    let long = p("long-line.yaml");
    std::fs::write(&long, long_line_scenario(900_000)).expect("write");
    out.push((
        "900 KB line broken at its end",
        long.clone(),
        format!("{}:2:900011: unexpected content after a quoted value; expected a line break, a comment or `,` `]` `}}` after the closing quote", long.display()),
    ));

    let anchor = p("huge-anchor.yaml");
    std::fs::write(&anchor, huge_anchor_scenario(200_000, 90)).expect("write");
    out.push(("huge anchor replayed 90 times", anchor.clone(), String::new()));

    let zero = p("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    out.push(("/dev/zero", zero.clone(), format!("{}:1:1: not a regular file; expected a YAML file", zero.display())));

    let fifo = p("fifo.yaml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    out.push(("FIFO (would block a reader forever)", fifo.clone(), format!("{}:1:1: not a regular file; expected a YAML file", fifo.display())));
    out
}

#[test]
fn generated_giant_and_strange_files_are_refused_in_bounded_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (what, input, expected) in generated(dir.path()) {
        // Size and file-type checks come first, whatever the loader; the others are scenarios.
        let loaders: &[Loader] = if what.contains("line") || what.contains("anchor") { &[Loader::Scenarios] } else { &[Loader::Scenarios, Loader::Profile] };
        for &loader in loaders {
            let (messages, took) = refused(loader, &input);
            eprintln!("{what} ({loader:?}): {took:?}: {}", messages.join(" | "));
            if expected.is_empty() {
                // Budget messages name the limit; the exact wording is checked in the unit tests.
                assert_eq!(messages.len(), 1, "{what}: {messages:?}");
                assert!(messages[0].contains("; expected "), "{what}: {messages:?}");
            } else {
                assert_eq!(messages, vec![expected.clone()], "{what} ({loader:?})");
            }
            assert_precise(what, &input, &messages);
        }
    }
}

/// Output of a child `mssconf` and its peak resident set size in KiB.
struct Measured {
    code: Option<i32>,
    stderr: String,
    max_rss_kib: i64,
    took: Duration,
}

/// Carries the probe's `mssconf` arguments (separated by U+001F) and its stderr file.
const PROBE_ARGS: &str = "HOSTILE_RSS_PROBE_ARGS";
const PROBE_STDERR: &str = "HOSTILE_RSS_PROBE_STDERR";

/// Runs `mssconf args` and measures its peak RSS. Linux charges a child with the peak RSS of
/// the process it was spawned from (the spawn shares that memory until `exec`), and this test
/// process holds hundreds of MB: so the measuring parent is a fresh, small copy of this test
/// binary running only [`rss_probe`].
fn measure(args: &[&str]) -> Measured {
    let err = tempfile::NamedTempFile::new().expect("stderr file");
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "hostile::rss_probe", "--ignored", "--nocapture", "--test-threads=1"])
        .current_dir(root())
        .env(PROBE_ARGS, args.join("\u{1f}"))
        .env(PROBE_STDERR, err.path())
        .output()
        .expect("probe runs");
    let stdout = text(&out.stdout);
    let line = stdout.lines().find_map(|l| l.split_once("RSS_PROBE ").map(|(_, rest)| rest)).unwrap_or_else(|| panic!("probe said: {stdout}{}", text(&out.stderr)));
    let fields: Vec<i64> = line.split(' ').map(|f| f.parse().expect("probe number")).collect();
    Measured {
        code: (fields[0] >= 0).then_some(fields[0] as i32),
        stderr: std::fs::read_to_string(err.path()).expect("stderr"),
        max_rss_kib: fields[1],
        took: Duration::from_micros(fields[2] as u64),
    }
}

/// The measuring parent of [`measure`]: spawns `mssconf`, reaps it with `wait4` and prints
/// `RSS_PROBE <exit code> <peak RSS KiB> <µs>`. Does nothing when not run by [`measure`].
#[test]
#[ignore = "helper process of worst_cases_stay_within_memory_and_time_in_a_child_process"]
fn rss_probe() {
    let (Some(args), Some(err_path)) = (std::env::var_os(PROBE_ARGS), std::env::var_os(PROBE_STDERR)) else {
        return;
    };
    let args: Vec<String> = args.to_string_lossy().split('\u{1f}').map(String::from).collect();
    let err = std::fs::File::create(err_path).expect("stderr file");
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(&args)
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env_remove("MSSCONF_MOCK_BEHAVIOURS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("mssconf runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in for our own child, which
    // std never waits for (the `Child` is forgotten below, not waited).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    std::mem::forget(child);
    let took = start.elapsed();
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    println!("RSS_PROBE {code} {} {}", usage.ru_maxrss, took.as_micros());
}

#[test]
fn worst_cases_stay_within_memory_and_time_in_a_child_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = generated(dir.path());
    let path_of = |what: &str| made.iter().find(|g| g.0 == what).map(|g| g.1.display().to_string()).expect("generated case");
    let baseline = measure(&["validate", "tests/cases/hostile/scenarios/duplicate-id-tree/one/a.yaml"]);
    assert_eq!(baseline.code, Some(0), "{}", baseline.stderr);
    eprintln!("baseline (valid file): {} KiB, {:?}", baseline.max_rss_kib, baseline.took);
    let fixtures_root = fixtures_bomb_root(dir.path());
    let root_arg = fixtures_root.display().to_string();
    let mut runs: Vec<(Vec<String>, String)> = [
        path_of("50 MB file"),
        path_of("huge anchor replayed 90 times"),
        path_of("/dev/zero"),
        path_of("FIFO (would block a reader forever)"),
        format!("{CASES}/scenarios/deep-flow-lists.yaml"),
        format!("{CASES}/scenarios/deep-flow-maps.yaml"),
        format!("{CASES}/scenarios/billion-laughs.yaml"),
    ]
    .into_iter()
    .map(|input| (vec!["validate".to_string(), input.clone()], input))
    .collect();
    runs.push((vec!["validate".into(), "--root".into(), root_arg], fixtures_root.join("fixtures/fixtures.yaml").display().to_string()));
    for (args, named) in &runs {
        let m = measure(&args.iter().map(String::as_str).collect::<Vec<_>>());
        eprintln!("mssconf {}: {} KiB, {:?}", args.join(" "), m.max_rss_kib, m.took);
        assert_eq!(m.code, Some(1), "{named}: {}", m.stderr);
        assert!(m.stderr.contains(named.as_str()), "{named}: {}", m.stderr);
        assert_rss_bounded(named, &m, &baseline);
        assert!(m.took < TIME_LIMIT * 3, "{named}: {:?}", m.took);
    }
    let profile_baseline = measure(&["run", "--dry-run", "--target", "targets/example-operator.yaml"]);
    eprintln!("run --dry-run of the example profile: {} KiB, {:?}", profile_baseline.max_rss_kib, profile_baseline.took);
    for profile in ["billion-laughs-auth-form", "deep-nesting-auth-form"] {
        let profile = format!("{CASES}/profiles/{profile}.yaml");
        let m = measure(&["run", "--dry-run", "--target", &profile]);
        eprintln!("run --dry-run --target {profile}: {} KiB, {:?}", m.max_rss_kib, m.took);
        assert_eq!(m.code, Some(2), "{}", m.stderr);
        assert!(m.stderr.contains(&profile), "{}", m.stderr);
        assert_rss_bounded(&profile, &m, &profile_baseline);
    }
}

/// Under [`RSS_LIMIT_KIB`], and within [`RSS_GROWTH_KIB`] of the same command on a valid file
/// (before the loader limits, the alias bombs took about 45 MiB more than that).
fn assert_rss_bounded(what: &str, m: &Measured, baseline: &Measured) {
    assert!(m.max_rss_kib < RSS_LIMIT_KIB, "{what}: peak RSS {} KiB", m.max_rss_kib);
    let growth = m.max_rss_kib - baseline.max_rss_kib;
    assert!(growth < RSS_GROWTH_KIB, "{what}: peak RSS {} KiB, {growth} KiB above the valid file's", m.max_rss_kib);
}

/// A catalogue root whose `fixtures/fixtures.yaml` is an alias bomb (fixtures are untyped, so
/// no type mismatch stops the expansion: only the parser's limits do).
fn fixtures_bomb_root(dir: &Path) -> PathBuf {
    let r = dir.join("fixtures-bomb-root");
    std::fs::create_dir_all(r.join("scenarios")).expect("mkdir");
    std::fs::create_dir_all(r.join("fixtures")).expect("mkdir");
    let copy = |from: &str, to: &str| std::fs::copy(root().join(from), r.join(to)).map(|_| ()).expect("copy");
    copy("scenarios/requirements.yaml", "scenarios/requirements.yaml");
    copy(&format!("{CASES}/scenarios/duplicate-id-tree/one/a.yaml"), "scenarios/a.yaml");
    copy(&format!("{CASES}/fixtures/billion-laughs.yaml"), "fixtures/fixtures.yaml");
    r
}

#[test]
fn the_cli_prints_the_same_messages() {
    for name in ["unclosed-quote", "invalid-utf8", "duplicate-id-tree", "billion-laughs", "undefined-variables"] {
        let case = cases("scenarios").into_iter().find(|c| c.name == name).expect("case");
        let out = mssconf(&["validate", &case.input.display().to_string()]);
        let expected = std::fs::read_to_string(root().join(&case.expected)).expect("err file");
        let files: std::collections::BTreeSet<&str> = expected.lines().filter_map(|l| l.split(':').next()).collect();
        let summary = format!("{} error(s) in {} file(s)\n", expected.lines().count(), files.len());
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(text(&out.stderr), expected + &summary, "{name}");
    }
    for name in ["inline-token", "port-too-large", "unknown-auth-form", "per-without-token"] {
        let case = cases("profiles").into_iter().find(|c| c.name == name).expect("case");
        let input = case.input.display().to_string();
        let out = mssconf(&["run", "--dry-run", "--target", &input]);
        let expected = std::fs::read_to_string(root().join(&case.expected)).expect("err file");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with(&format!("error: target profile {input}:\n")), "{name}: {stderr}");
        for line in expected.lines() {
            assert!(stderr.contains(&format!("  {line}\n")), "{name}: `{line}` missing from {stderr}");
        }
    }
}
