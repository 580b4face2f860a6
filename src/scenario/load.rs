//! Reading scenario files: bounded size, parsed with serde-saphyr, errors positioned.

use std::path::{Path, PathBuf};

use super::error::{LoadError, LoadErrorKind, Span};
use super::model::Scenario;

/// Files larger than this are refused before parsing (a scenario is a few KB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A scenario with the file and text it came from.
#[derive(Debug)]
pub struct Loaded {
    pub file: PathBuf,
    pub source: String,
    pub scenario: Scenario,
}

/// Options bounding what a YAML document may cost (alias bombs, deep nesting, huge anchors).
/// A scenario or profile is a few KB with no anchor: these limits are far above any real file
/// and far below what a hostile one of [`MAX_FILE_BYTES`] could make the parser allocate.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(yaml_budget());
    options.alias_limits = yaml_alias_limits();
    // `!include x` would otherwise be read as the text "x": refuse tags, none is meaningful here.
    options.reject_unsupported_tags = true;
    // The snippet is not shown (we print our own position): do not build it.
    options.with_snippet = false;
    // Comments are never read into our types: do not collect their text (saves parse time on
    // large catalogues; comments are still checked as YAML syntax).
    options.emit_comments = false;
    options
}

/// Alias replay limits of [`yaml_options`] (also named in the error messages).
pub fn yaml_alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = 20_000;
    limits.max_replay_stack_depth = 16;
    limits.max_alias_expansions_per_anchor = 1_000;
    limits
}

/// Parser budget of [`yaml_options`] (also named in the error messages).
pub fn yaml_budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = 1;
    budget.max_depth = 32;
    budget.flow_nesting_limit = 32;
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_merge_keys = 100;
    // Counts replayed scalars too: an anchor copied by aliases cannot grow past 4 × the file cap.
    budget.max_total_scalar_bytes = 4 * MAX_FILE_BYTES as usize;
    budget.max_recorded_anchor_bytes = 4 * MAX_FILE_BYTES as usize;
    budget.max_recorded_anchor_events = 20_000;
    budget
}

/// Reads and parses one scenario file. Never panics on malformed input.
pub fn load_file(file: &Path) -> Result<Loaded, LoadError> {
    let source = read_bounded(file)?;
    let scenario = parse_yaml::<Scenario>(file, &source)?;
    Ok(Loaded { file: file.to_path_buf(), source, scenario })
}

/// Reads a text file of at most [`MAX_FILE_BYTES`]. Larger files, devices and FIFOs are refused
/// before anything is read: never more than the cap is held in memory, and nothing blocks.
pub fn read_bounded(file: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let at = Span::new(file, 1, 1);
    let io = |e: std::io::Error| LoadError::new(at.clone(), LoadErrorKind::Io, format!("cannot read file: {e}")).expected("a readable file");
    let meta = std::fs::metadata(file).map_err(io)?;
    if !meta.is_file() {
        return Err(LoadError::new(at, LoadErrorKind::Io, "not a regular file").expected("a YAML file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(at, &format!("file is {} bytes", meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the size check and the read: read one byte more than the cap.
    std::fs::File::open(file).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(at, &format!("file is more than {MAX_FILE_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(file, e))
}

fn too_large(at: Span, what: &str) -> LoadError {
    LoadError::new(at, LoadErrorKind::TooLarge, what).expected(format!("at most {MAX_FILE_BYTES} bytes"))
}

/// Points at the first byte that is not UTF-8, by line and column (in characters).
fn not_utf8(file: &Path, e: std::string::FromUtf8Error) -> LoadError {
    let bytes = e.as_bytes();
    let valid = e.utf8_error().valid_up_to();
    let text = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    let line = text.matches('\n').count() as u64 + 1;
    let column = text.rsplit('\n').next().unwrap_or_default().chars().count() as u64 + 1;
    LoadError::new(Span::new(file, line, column), LoadErrorKind::Syntax, format!("byte 0x{:02X} is not UTF-8", bytes[valid]))
        .expected("UTF-8 text")
}

/// Parses YAML into `T`, turning serde-saphyr's error into a positioned [`LoadError`].
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &Path, source: &str) -> Result<T, LoadError> {
    let parsed = std::panic::catch_unwind(|| serde_saphyr::from_str_with_options::<T>(source, yaml_options()));
    match parsed {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(super::yaml_error::convert(file, source, &e)),
        Err(_) => Err(LoadError::new(Span::new(file, 1, 1), LoadErrorKind::Syntax, "the YAML parser failed on this file")
            .expected("a YAML file the parser can read (please report this file)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> LoadError {
        parse_yaml::<Scenario>(Path::new("s.yaml"), src).unwrap_err()
    }

    #[test]
    fn unknown_key_has_position_and_expected_list() {
        let e = err("id: A/B.01.01\ntitle: t\nrequirements: []\nprofile: general\nstepz: []\n");
        assert_eq!((e.span.line, e.kind), (5, LoadErrorKind::Syntax));
        assert!(e.message.contains("stepz"), "{e}");
        assert!(e.expected.as_deref().unwrap_or("").contains("steps"), "{e}");
        assert!(!e.to_string().contains("at line"), "{e}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let e = err("id: A/B.01.01\ntitle: t\nrequirements: X\nprofile: general\nsteps: []\n");
        assert_eq!(e.span.line, 3);
        assert!(e.to_string().contains("expected"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_pointed_at() {
        let bytes = b"id: x\ntitle: \"caf\xe9\"\n".to_vec();
        let e = not_utf8(Path::new("s.yaml"), String::from_utf8(bytes).unwrap_err());
        assert_eq!(e.to_string(), "s.yaml:2:12: byte 0xE9 is not UTF-8; expected UTF-8 text");
    }

    #[test]
    fn devices_are_refused_without_reading() {
        let e = read_bounded(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "/dev/zero:1:1: not a regular file; expected a YAML file");
    }

    #[test]
    fn alias_bombs_hit_a_named_limit() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f"].iter().enumerate() {
            let prev = ["a", "b", "c", "d", "e"][i];
            src += &format!("{name}: &{name} [{}]\n", vec![format!("*{prev}"); 10].join(", "));
        }
        let e = parse_yaml::<serde_json::Value>(Path::new("f.yaml"), &src).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooLarge, "{e}");
        assert!(e.to_string().contains("20000"), "{e}");
    }

    #[test]
    fn garbage_never_panics() {
        for src in ["", "[", "{{{{", "- - - -", "id: [", "\u{0}\u{1}", "a: &a [*a]", "? : :"] {
            let _ = parse_yaml::<Scenario>(Path::new("x.yaml"), src);
        }
    }
}
