//! Which scenarios a command selects. The same filter serves `run`, `list` and the
//! `cargo test --test conformance` trials, so `list` shows exactly what `run` runs.

use crate::scenario::model::{Profile, Scenario};

/// Tag of the production technical test: never selected unless asked for by tag or id.
pub const PRODUCTION_TAG: &str = "production";

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub scenarios: Vec<String>,
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
    pub profiles: Vec<Profile>,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown profile `{0}`; expected one of general, per-org, app")]
pub struct BadProfile(pub String);

impl Filter {
    pub fn new(scenarios: Vec<String>, tags: Vec<String>, requirements: Vec<String>, profiles: &[String]) -> Result<Self, BadProfile> {
        let profiles = profiles
            .iter()
            .map(|p| match p.as_str() {
                "general" => Ok(Profile::General),
                "per-org" => Ok(Profile::PerOrg),
                "app" => Ok(Profile::App),
                other => Err(BadProfile(other.to_string())),
            })
            .collect::<Result<_, _>>()?;
        Ok(Filter { scenarios, tags, requirements, profiles })
    }

    /// Every given criterion must hold; within one criterion any value may match.
    pub fn selects(&self, s: &Scenario) -> bool {
        let id = s.id.value.as_str();
        let by_id = self.scenarios.iter().any(|p| pattern_matches(p, id));
        if s.tags.iter().any(|t| t == PRODUCTION_TAG) && !by_id && !self.tags.iter().any(|t| t == PRODUCTION_TAG) {
            return false;
        }
        (self.scenarios.is_empty() || by_id)
            && (self.tags.is_empty() || self.tags.iter().any(|t| s.tags.contains(t)))
            && (self.requirements.is_empty()
                || self.requirements.iter().any(|p| s.requirements.iter().any(|r| pattern_matches(p, &r.value))))
            && (self.profiles.is_empty() || self.profiles.contains(&s.profile))
    }
}

/// Exact match, or prefix match when the pattern ends with `*`.
fn pattern_matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(id: &str, tags: &[&str], reqs: &[&str], profile: Profile) -> Scenario {
        let reqs = reqs.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", ");
        let tags = tags.join(", ");
        let yaml = format!(
            "id: '{id}'\ntitle: t\nrequirements: [{reqs}]\nprofile: {}\ntags: [{tags}]\nsteps: []\n",
            profile.name()
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[test]
    fn criteria_combine() {
        let s = scenario("OPE/TLS.02.01", &["tls", "smtp"], &["OPE/TLS.02"], Profile::General);
        assert!(Filter::default().selects(&s));
        let f = Filter::new(vec!["OPE/TLS.*".into()], vec!["smtp".into()], vec![], &[]).unwrap();
        assert!(f.selects(&s));
        let f = Filter::new(vec![], vec!["imap".into()], vec![], &[]).unwrap();
        assert!(!f.selects(&s));
        let f = Filter::new(vec![], vec![], vec!["OPE/TLS.02".into()], &["app".into()]).unwrap();
        assert!(!f.selects(&s));
        assert!(Filter::new(vec![], vec![], vec![], &["bad".into()]).is_err());
    }

    #[test]
    fn production_only_when_asked() {
        let s = scenario("OPE/PROD.01.01", &["production"], &["OPE/PROD.01"], Profile::General);
        assert!(!Filter::default().selects(&s));
        assert!(Filter::new(vec![], vec!["production".into()], vec![], &[]).unwrap().selects(&s));
        assert!(Filter::new(vec!["OPE/PROD.01.01".into()], vec![], vec![], &[]).unwrap().selects(&s));
    }
}
