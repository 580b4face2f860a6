//! Load and validation errors, each pointing at `file:line:column`.

use std::fmt;
use std::path::PathBuf;

/// A 1-based position in a source file (line 0 = unknown).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl Span {
    pub fn new(file: impl Into<PathBuf>, line: u64, column: u64) -> Self {
        Span { file: file.into(), line, column }
    }

    pub fn of<T>(file: &std::path::Path, v: &serde_saphyr::Spanned<T>) -> Self {
        Span::new(file, v.referenced.line(), v.referenced.column())
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line.max(1), self.column.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io,
    /// YAML syntax, unknown key, wrong type, unknown variant.
    Syntax,
    /// A step with no protocol key or with several.
    StepKind,
    /// `${…}` naming nothing known.
    UndefinedVariable,
    /// Two scenarios with one id, or two proofs with one number.
    Duplicate,
    /// A requirement id absent from the requirement index.
    UnknownRequirement,
    /// A malformed id, an unknown endpoint or mailbox role, a bad expectation pattern…
    Invalid,
    /// Resource limits (file size, nesting, aliases) exceeded.
    TooLarge,
}

/// One defect in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub span: Span,
    pub kind: LoadErrorKind,
    /// What is wrong.
    pub message: String,
    /// What was expected instead (printed after `expected`).
    pub expected: Option<String>,
}

impl LoadError {
    pub fn new(span: Span, kind: LoadErrorKind, message: impl Into<String>) -> Self {
        LoadError { span, kind, message: message.into(), expected: None }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
}

impl fmt::Display for LoadError {
    /// `file:line:column: what is wrong; expected what`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span, self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "; expected {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The Levenshtein-closest candidate within a small distance, for "did you mean" hints.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column() {
        let e = LoadError::new(Span::new("a.yaml", 3, 7), LoadErrorKind::Invalid, "bad code `6xx`")
            .expected("a reply code like 250 or a class like 5xx");
        assert_eq!(e.to_string(), "a.yaml:3:7: bad code `6xx`; expected a reply code like 250 or a class like 5xx");
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("per3", ["per1", "app1", "org1"]), Some("per1"));
        assert_eq!(did_you_mean("zzzzzzzz", ["per1"]), None);
    }
}
