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

/// Options bounding what a YAML document may cost (alias bombs, deep nesting).
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::Options::default()
}

/// Reads and parses one scenario file. Never panics on malformed input.
pub fn load_file(file: &Path) -> Result<Loaded, LoadError> {
    let source = read_bounded(file)?;
    let scenario = parse_yaml::<Scenario>(file, &source)?;
    Ok(Loaded { file: file.to_path_buf(), source, scenario })
}

/// Reads a text file of at most [`MAX_FILE_BYTES`].
pub fn read_bounded(file: &Path) -> Result<String, LoadError> {
    let at = Span::new(file, 0, 0);
    let meta = std::fs::metadata(file)
        .map_err(|e| LoadError::new(at.clone(), LoadErrorKind::Io, format!("cannot read file: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::new(
            at,
            LoadErrorKind::TooLarge,
            format!("file is {} bytes", meta.len()),
        )
        .expected(format!("at most {MAX_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| LoadError::new(at.clone(), LoadErrorKind::Io, format!("cannot read file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        LoadError::new(at, LoadErrorKind::Syntax, format!("file is not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
            .expected("UTF-8 text")
    })
}

/// Parses YAML into `T`, turning serde-saphyr's error into a positioned [`LoadError`].
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &Path, source: &str) -> Result<T, LoadError> {
    let parsed = std::panic::catch_unwind(|| serde_saphyr::from_str_with_options::<T>(source, yaml_options()));
    match parsed {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(convert_error(file, &e)),
        Err(_) => Err(LoadError::new(Span::new(file, 0, 0), LoadErrorKind::Syntax, "the YAML parser failed on this file")),
    }
}

fn convert_error(file: &Path, e: &serde_saphyr::Error) -> LoadError {
    let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
    let text = e.without_snippet().to_string();
    // serde-saphyr prefixes "error: line N column M: "; we print our own position.
    let text = text.lines().next().unwrap_or_default().trim();
    let text = strip_position_prefix(text);
    let text = strip_position_suffix(text);
    // "expected sequence start" alone says nothing about what was found.
    let owned;
    let text = if let Some(rest) = text.strip_prefix("expected ") {
        owned = format!("wrong type or syntax, expected {rest}");
        owned.as_str()
    } else {
        text
    };
    let kind = if text.contains("budget") || text.contains("limit") || text.contains("depth") {
        LoadErrorKind::TooLarge
    } else {
        LoadErrorKind::Syntax
    };
    let (message, expected) = match text.split_once(", expected ").or_else(|| text.split_once("; expected ")) {
        Some((m, exp)) => (m.to_string(), Some(exp.to_string())),
        None => match scalar_type(text) {
            Some(what) => (format!("wrong type ({text})"), Some(what.to_string())),
            None => (format!("YAML: {text}"), None),
        },
    };
    let mut err = LoadError::new(Span::new(file, line, column), kind, message);
    err.expected = expected;
    err
}

fn strip_position_prefix(text: &str) -> &str {
    let t = text.strip_prefix("error: ").unwrap_or(text);
    if t.starts_with("line ")
        && let Some(idx) = t.find(": ")
    {
        return &t[idx + 2..];
    }
    t
}

/// serde-saphyr says `invalid u64` for a scalar of the wrong type: name what was expected.
fn scalar_type(text: &str) -> Option<&'static str> {
    let ty = text.strip_prefix("invalid ")?;
    Some(match ty.trim() {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "bool" | "boolean" => "true or false",
        "char" => "a single character",
        _ => return None,
    })
}

fn strip_position_suffix(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(idx) if text[idx..].contains(", column ") => &text[..idx],
        _ => text,
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
    fn garbage_never_panics() {
        for src in ["", "[", "{{{{", "- - - -", "id: [", "\u{0}\u{1}", "a: &a [*a]", "? : :"] {
            let _ = parse_yaml::<Scenario>(Path::new("x.yaml"), src);
        }
    }
}
