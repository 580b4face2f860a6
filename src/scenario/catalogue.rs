//! The catalogue: every scenario file under the given paths, validated together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{LoadError, LoadErrorKind, Span};
use super::load::{Loaded, load_file, parse_yaml, read_bounded};
use super::validate::{Context, validate};
use crate::requirement::RequirementIndex;

/// File names under `scenarios/` that are not scenarios.
const NOT_SCENARIOS: [&str; 2] = ["requirements.yaml", "requirements.yml"];

#[derive(Debug)]
pub struct Catalogue {
    pub scenarios: Vec<Loaded>,
    pub index: RequirementIndex,
    pub fixtures: Value,
}

/// Where the catalogue, its index and the fixtures are.
#[derive(Debug, Clone)]
pub struct Sources {
    pub paths: Vec<PathBuf>,
    pub index: PathBuf,
    pub fixtures: PathBuf,
}

impl Sources {
    /// `scenarios/`, `scenarios/requirements.yaml` and `fixtures/fixtures.yaml` under `root`.
    pub fn under(root: &Path) -> Self {
        Sources {
            paths: vec![root.join("scenarios")],
            index: root.join("scenarios/requirements.yaml"),
            fixtures: root.join("fixtures/fixtures.yaml"),
        }
    }
}

/// Every `.yaml`/`.yml` file under `paths` (files given directly are taken as they are), sorted.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(LoadError::new(Span::new(p, 0, 0), LoadErrorKind::Io, "no such file or directory"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LoadError::new(Span::new(dir, 0, 0), LoadErrorKind::Io, format!("cannot list directory: {e}")))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            walk(&path, out)?;
        } else if (name.ends_with(".yaml") || name.ends_with(".yml")) && !NOT_SCENARIOS.contains(&name.as_str()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads the fixtures file as a JSON value (`${fixtures.…}`).
pub fn load_fixtures(file: &Path) -> Result<Value, LoadError> {
    let source = read_bounded(file)?;
    parse_yaml(file, &source)
}

/// Loads and validates everything. Errors of all files are returned together.
pub fn load(sources: &Sources) -> Result<Catalogue, Vec<LoadError>> {
    let index = RequirementIndex::load(&sources.index).map_err(|e| vec![e])?;
    let fixtures = load_fixtures(&sources.fixtures).map_err(|e| vec![e])?;
    let files = scenario_files(&sources.paths).map_err(|e| vec![e])?;
    let target_vars = crate::target::reference_vars();
    let ctx = Context { index: &index, target_vars: &target_vars, fixtures: &fixtures };
    let mut errors = Vec::new();
    let mut scenarios = Vec::new();
    for result in load_all(&files, &ctx) {
        match result {
            Err(e) => errors.push(e),
            Ok((loaded, problems)) => {
                errors.extend(problems);
                scenarios.push(loaded);
            }
        }
    }
    errors.extend(duplicate_ids(&scenarios));
    if errors.is_empty() {
        Ok(Catalogue { scenarios, index, fixtures })
    } else {
        Err(errors)
    }
}

type Checked = Result<(Loaded, Vec<LoadError>), LoadError>;

/// Loads and validates `files` over the machine's cores (YAML parsing is most of `list` and
/// `validate` on a large catalogue); results come back in the order of `files`.
fn load_all(files: &[PathBuf], ctx: &Context<'_>) -> Vec<Checked> {
    let one = |file: &PathBuf| -> Checked {
        let loaded = load_file(file)?;
        let problems = validate(&loaded, ctx);
        Ok((loaded, problems))
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    if workers == 1 || files.len() < 16 {
        return files.iter().map(one).collect();
    }
    let chunk = files.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>())).collect();
        // A panicking parser thread is a bug; the same files are then read again on this thread
        // so its errors (or the panic) surface as they would without threads.
        handles.into_iter().zip(files.chunks(chunk)).flat_map(|(h, part)| h.join().unwrap_or_else(|_| part.iter().map(one).collect())).collect()
    })
}

fn duplicate_ids(scenarios: &[Loaded]) -> Vec<LoadError> {
    let mut first: BTreeMap<&str, Span> = BTreeMap::new();
    let mut errors = Vec::new();
    for l in scenarios {
        let span = Span::of(&l.file, &l.scenario.id);
        match first.get(l.scenario.id.value.as_str()) {
            Some(prev) => errors.push(
                LoadError::new(span, LoadErrorKind::Duplicate, format!("scenario id `{}` is already used at {prev}", l.scenario.id.value))
                    .expected("a unique scenario id"),
            ),
            None => {
                first.insert(&l.scenario.id.value, span);
            }
        }
    }
    errors
}
