//! Golden cases: each `tests/cases/validate/<case>.yaml` (or folder) is refused by
//! `mssconf validate` with exit 1 and exactly the messages of `<case>.err`.

use super::{mssconf, root, text};

fn cases() -> Vec<String> {
    let dir = root().join("tests/cases/validate");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("cases dir")
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| n.ends_with(".err"))
        .map(|n| n.trim_end_matches(".err").to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn every_defect_kind_has_a_case() {
    let names = cases();
    for kind in ["syntax", "unknown-key", "wrong-type", "unknown-step-kind", "undefined-variable", "duplicate-id", "unknown-requirement"] {
        assert!(names.iter().any(|n| n == kind), "missing validate case for {kind}");
    }
}

#[test]
fn each_case_reports_its_defects_with_positions() {
    for name in cases() {
        let base = format!("tests/cases/validate/{name}");
        let input = if root().join(&base).is_dir() { base.clone() } else { format!("{base}.yaml") };
        let out = mssconf(&["validate", &input]);
        let expected = std::fs::read_to_string(root().join(format!("{base}.err"))).expect("err file");
        assert_eq!(out.status.code(), Some(1), "{name}: exit code");
        assert_eq!(text(&out.stderr), expected, "{name}: messages differ");
        for line in expected.lines().filter(|l| !l.contains("error(s) in")) {
            let pos = line.split(": ").next().unwrap_or("");
            let parts: Vec<&str> = pos.rsplitn(3, ':').collect();
            assert!(parts.len() == 3 && parts[0].parse::<u32>().is_ok() && parts[1].parse::<u32>().is_ok(), "{name}: `{line}` has no file:line:column");
        }
    }
}

#[test]
fn the_catalogue_is_valid() {
    let out = mssconf(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("scenario(s) valid"));
}

#[test]
fn every_catalogue_file_declares_the_schema() {
    let files = mssconf::scenario::catalogue::scenario_files(&[root().join("scenarios")]).expect("catalogue");
    assert!(!files.is_empty());
    for f in files {
        let first = std::fs::read_to_string(&f).expect("read").lines().next().unwrap_or("").to_string();
        assert!(first.starts_with("# yaml-language-server: $schema="), "{} lacks the schema line", f.display());
    }
}
