//! Reading a YAML file: bounded size, parsed with serde-saphyr, errors positioned.

use std::path::Path;

use super::error::{LoadError, LoadErrorKind, Span};
use super::limits::{MAX_FILE_BYTES, yaml_options};

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
        Ok(Err(e)) => Err(super::diagnose::convert(file, source, &e)),
        Err(_) => Err(LoadError::new(Span::new(file, 1, 1), LoadErrorKind::Syntax, "the YAML parser failed on this file")
            .expected("a YAML file the parser can read (please report this file)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Scenario;

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
