//! Reading scenario files: a YAML file (see [`crate::yaml`]) into a [`Scenario`].

use std::path::{Path, PathBuf};

use super::model::Scenario;
use crate::yaml::error::LoadError;
use crate::yaml::read::{parse_yaml, read_bounded};

/// A scenario with the file and text it came from.
#[derive(Debug)]
pub struct Loaded {
    pub file: PathBuf,
    pub source: String,
    pub scenario: Scenario,
}

/// Reads and parses one scenario file. Never panics on malformed input.
pub fn load_file(file: &Path) -> Result<Loaded, LoadError> {
    let source = read_bounded(file)?;
    let scenario = parse_yaml::<Scenario>(file, &source)?;
    Ok(Loaded { file: file.to_path_buf(), source, scenario })
}
