//! One judged expectation: what was expected, what was seen, whether it holds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What is checked, e.g. `reply code`, `capability STARTTLS`.
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub passed: bool,
    /// An observation or a préconisation (an `observe:` expectation, or a scenario whose
    /// nature is not `exigence`): reported when it does not hold, never a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
    /// Where the expectation is written: `scenarios/auth/x.yaml:42:11`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Check {
    pub fn new(what: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>, passed: bool) -> Self {
        Check { what: what.into(), expected: expected.into(), actual: actual.into(), passed, advisory: false, at: None }
    }

    /// A failed check that makes its step fail (an advisory one never does).
    pub fn fails(&self) -> bool {
        !self.passed && !self.advisory
    }

    /// An advisory check that does not hold: reported, not a failure.
    pub fn unmet_advice(&self) -> bool {
        !self.passed && self.advisory
    }

    /// `reply code: expected 250, got 535`, after the expectation's position when known
    /// (`scenarios/x.yaml:42:11: reply code: …`).
    pub fn summary(&self) -> String {
        let at = self.at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default();
        format!("{at}{}: expected {}, got {}", self.what, self.expected, self.actual)
    }
}

/// Accumulates checks.
#[derive(Debug, Default)]
pub struct Checks(pub Vec<Check>);

impl Checks {
    pub fn push(&mut self, what: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>, passed: bool) {
        self.0.push(Check::new(what, expected, actual, passed));
    }

    /// A case-insensitive substring check.
    pub fn contains(&mut self, what: &str, haystack: &str, needle: &str) {
        let ok = haystack.to_lowercase().contains(&needle.to_lowercase());
        self.push(what, format!("contains {needle:?}"), abbreviate(haystack, 160), ok);
    }

    pub fn into_vec(self) -> Vec<Check> {
        self.0
    }

    /// Adds `checks` as advisory ones (an `observe:` expectation).
    pub fn advise(&mut self, checks: Vec<Check>) {
        self.0.extend(checks.into_iter().map(|c| Check { advisory: true, ..c }));
    }
}

/// Shortens long texts for reports (on a char boundary).
pub fn abbreviate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}
