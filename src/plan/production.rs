//! Production gating: a run against a live operator platform (a profile marked
//! `environment: production`) needs `--production`, and may only run the scenarios tagged
//! `production` (the production technical test). Each mismatch is refused before any connection.

use super::filter::{Filter, PRODUCTION_TAG};
use crate::scenario::model::Scenario;
use crate::target::model::Environment;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProductionError {
    #[error(
        "target `{target}` is marked `environment: production`: refusing to run without --production \
         (production runs may only run scenarios tagged `production`)"
    )]
    FlagMissing { target: String },
    #[error("--production needs a target profile marked `environment: production`; `{target}` is a test environment")]
    NotAProductionTarget { target: String },
    #[error("--production refuses the embedded mock operator: give --target with a production profile")]
    EmbeddedMock,
    #[error(
        "in production only scenarios tagged `production` may run; the selection includes {} other(s): {}",
        .ids.len(),
        .ids.join(", ")
    )]
    NonProductionScenarios { ids: Vec<String> },
    /// The production profile's anchors are not all IGC-Santé ones (docs/target-profile.md).
    #[error("{why}")]
    Anchors { why: String },
}

/// Is this (target, flag) pair allowed at all?
pub fn check_mode(target: &str, environment: Environment, production_flag: bool, embedded_mock: bool) -> Result<(), ProductionError> {
    match (environment, production_flag) {
        (_, true) if embedded_mock => Err(ProductionError::EmbeddedMock),
        (Environment::Production, false) => Err(ProductionError::FlagMissing { target: target.to_string() }),
        (Environment::Test, true) => Err(ProductionError::NotAProductionTarget { target: target.to_string() }),
        _ => Ok(()),
    }
}

/// With `--production` and no filter at all, the selection is the production-tagged scenarios
/// (narrowing, never widening what runs).
pub fn default_filter(filter: Filter, production_flag: bool) -> Filter {
    let empty = filter.scenarios.is_empty() && filter.tags.is_empty() && filter.requirements.is_empty() && filter.profiles.is_empty();
    if production_flag && empty { Filter { tags: vec![PRODUCTION_TAG.to_string()], ..filter } } else { filter }
}

/// In production, every selected scenario must carry the `production` tag.
pub fn check_selection<'a>(production_flag: bool, selected: impl IntoIterator<Item = &'a Scenario>) -> Result<(), ProductionError> {
    if !production_flag {
        return Ok(());
    }
    let ids: Vec<String> =
        selected.into_iter().filter(|s| !s.tags.iter().any(|t| t == PRODUCTION_TAG)).map(|s| s.id.value.clone()).collect();
    if ids.is_empty() { Ok(()) } else { Err(ProductionError::NonProductionScenarios { ids }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(id: &str, tags: &str) -> Scenario {
        let yaml = format!("id: '{id}'\ntitle: t\nrequirements: []\nprofile: general\ntags: [{tags}]\nsteps: []\n");
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[test]
    fn modes() {
        use Environment::*;
        assert_eq!(check_mode("t", Test, false, true), Ok(()));
        assert_eq!(check_mode("p", Production, true, false), Ok(()));
        let e = check_mode("op-prod", Production, false, false).unwrap_err();
        assert!(e.to_string().contains("`op-prod`") && e.to_string().contains("--production"), "{e}");
        assert!(matches!(check_mode("op-test", Test, true, false), Err(ProductionError::NotAProductionTarget { .. })));
        assert_eq!(check_mode("mock", Test, true, true), Err(ProductionError::EmbeddedMock));
    }

    #[test]
    fn production_selects_only_production_scenarios() {
        let prod = scenario("OPE/PROD.01.01", "production");
        let other = scenario("OPE/TLS.01.01", "tls");
        assert_eq!(check_selection(true, [&prod]), Ok(()));
        assert_eq!(check_selection(false, [&prod, &other]), Ok(()));
        let e = check_selection(true, [&prod, &other]).unwrap_err();
        assert_eq!(e, ProductionError::NonProductionScenarios { ids: vec!["OPE/TLS.01.01".into()] });
        assert!(e.to_string().contains("1 other(s): OPE/TLS.01.01"));
    }

    #[test]
    fn an_empty_filter_narrows_to_the_production_tag() {
        let f = default_filter(Filter::default(), true);
        assert_eq!(f.tags, ["production"]);
        let given = Filter::new(vec!["OPE/TLS.*".into()], vec![], vec![], &[]).unwrap();
        assert!(default_filter(given.clone(), true).tags.is_empty(), "explicit filters are kept as given");
        assert!(default_filter(Filter::default(), false).tags.is_empty());
    }
}
