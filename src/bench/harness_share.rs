//! Placeholder until the figure lands (issue #8).

use super::{BenchConfig, Measured};

pub async fn measure(_cfg: &BenchConfig) -> Vec<Measured> {
    vec![Measured::skipped("harness_share", "not measured yet")]
}
