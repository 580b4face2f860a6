//! `mssconf bench`: performance figures measured side by side with a baseline in the same run.
//!
//! Each figure module measures one concern and returns [`Measured`] lines; this module only
//! orders them and formats them as `<figure>: <value> <unit> (baseline <name>: <value> <unit>,
//! ratio <r>)`. Ratios come from the same run because the machine is shared and noisy.

pub mod big_message;
pub mod child;
pub mod delivery;
pub mod generate;
pub mod harness_share;
pub mod load;
pub mod pacing_cost;
pub mod scale;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::load::number::number;

/// What every figure module receives.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Smaller counts, whole bench under 60 s.
    pub quick: bool,
    /// Project root (holds `scenarios/`, `fixtures/`).
    pub root: PathBuf,
    /// Target profile of the Postfix+Dovecot peer; `None`: peer figures are skipped with a reason.
    pub peer: Option<PathBuf>,
    /// Scratch folder for generated catalogues, child-process reports, plots.
    pub work_dir: PathBuf,
    /// The `mssconf` executable, for figures measured in a child process (peak RSS).
    pub exe: PathBuf,
    /// Figure groups to measure (`GROUPS` names); empty: all.
    pub only: Vec<String>,
}

/// Figure groups, in the order of issue #8.
pub const GROUPS: [&str; 6] = ["harness", "delivery", "load", "scale", "big-message", "pacing"];

impl BenchConfig {
    fn wants(&self, group: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|g| g == group)
    }
}

/// A baseline measured in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub baseline: Baseline,
}

/// A figure line: measured, or skipped with the reason (never silently absent).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Measured {
    Figure(Figure),
    Skipped { name: String, reason: String },
}

impl Figure {
    pub fn new(name: &str, value: f64, unit: &str, baseline: (&str, f64, &str)) -> Measured {
        Measured::Figure(Figure {
            name: name.to_string(),
            value,
            unit: unit.to_string(),
            baseline: Baseline {
                name: baseline.0.to_string(),
                value: baseline.1,
                unit: baseline.2.to_string(),
            },
        })
    }

    /// value / baseline value; `None` when the baseline is zero.
    pub fn ratio(&self) -> Option<f64> {
        (self.baseline.value != 0.0).then(|| self.value / self.baseline.value)
    }
}

impl Measured {
    pub fn skipped(name: &str, reason: impl Into<String>) -> Measured {
        Measured::Skipped {
            name: name.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measured::Skipped { name, reason } => write!(f, "{name}: skipped ({reason})"),
            Measured::Figure(fig) => {
                let b = &fig.baseline;
                let ratio = fig.ratio().map_or("n/a".to_string(), number);
                write!(
                    f,
                    "{}: {} {} (baseline {}: {} {}, ratio {ratio})",
                    fig.name,
                    number(fig.value),
                    fig.unit,
                    b.name,
                    number(b.value),
                    b.unit
                )
            }
        }
    }
}

/// Every figure, in the order of issue #8; each line is printed as soon as it is measured.
pub async fn run_all(cfg: &BenchConfig, mut emit: impl FnMut(&Measured)) -> Vec<Measured> {
    let mut all = Vec::new();
    let mut take = |lines: Vec<Measured>| {
        for line in lines {
            emit(&line);
            all.push(line);
        }
    };
    if cfg.wants("harness") {
        take(harness_share::measure(cfg).await);
    }
    if cfg.wants("delivery") {
        take(delivery::measure(cfg).await);
    }
    if cfg.wants("load") {
        take(load::measure(cfg).await);
    }
    if cfg.wants("scale") {
        take(scale::measure(cfg).await);
    }
    if cfg.wants("big-message") {
        take(big_message::measure(cfg).await);
    }
    if cfg.wants("pacing") {
        take(pacing_cost::measure(cfg).await);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_figure_with_baseline_and_ratio() {
        let line = Figure::new("load throughput", 950.0, "msg/s", ("smtp-source", 1000.0, "msg/s"));
        assert_eq!(
            line.to_string(),
            "load throughput: 950 msg/s (baseline smtp-source: 1000 msg/s, ratio 0.95)"
        );
    }

    #[test]
    fn zero_baseline_has_no_ratio() {
        let line = Figure::new("x", 1.0, "ms", ("b", 0.0, "ms"));
        assert!(line.to_string().ends_with("ratio n/a)"), "{line}");
    }

    #[test]
    fn skipped_line_says_why() {
        let line = Measured::skipped("delivery detection", "peer not running");
        assert_eq!(line.to_string(), "delivery detection: skipped (peer not running)");
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.012345), "0.0123");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(1234.6), "1235");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.0), "2");
    }
}
