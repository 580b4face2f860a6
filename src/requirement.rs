//! The requirement index (`scenarios/requirements.yaml`): our requirement ids mapped to the
//! official ones, with text, source, profile, nature and confidence.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::yaml::error::LoadError;
use crate::yaml::read::{parse_yaml, read_bounded};

/// REM profiles: "Général", "Profil BAL PER/ORG", "Profil BAL APP".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    General,
    PerOrg,
    App,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::General => "general",
            Profile::PerOrg => "per-org",
            Profile::App => "app",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementIndex {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Our id, REM style `XXX/YYY.nn` (e.g. `OPE/TLS.01`).
    pub id: String,
    /// Short statement, in French.
    pub text: String,
    /// Official ids it maps to (Ref #2 `ECO.*`, Ségur `SC.MSS/CONF.*`).
    #[serde(default)]
    pub official: Vec<String>,
    /// Where the requirement comes from (reference section and source).
    pub source: String,
    pub profile: Profile,
    pub nature: Nature,
    /// Confidence mark of the reference: V, V2, I or U.
    pub confidence: Confidence,
    /// Why no scenario can check it from outside the operator (shown by `mssconf coverage`).
    #[serde(default)]
    pub not_checkable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Nature {
    Exigence,
    Preconisation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Confidence {
    V,
    V2,
    I,
    U,
}

impl RequirementIndex {
    pub fn load(file: &Path) -> Result<Self, LoadError> {
        let source = read_bounded(file)?;
        parse_yaml(file, &source)
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| r.id.as_str())
    }

    /// Requirement id → ids of the scenarios citing it.
    pub fn coverage<'a>(&self, scenarios: impl IntoIterator<Item = (&'a str, &'a [String])>) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = self.ids().map(|id| (id.to_string(), Vec::new())).collect();
        for (scenario, reqs) in scenarios {
            for r in reqs {
                if let Some(list) = map.get_mut(r) {
                    list.push(scenario.to_string());
                }
            }
        }
        map
    }
}
