//! The catalogue: every scenario file under the given paths, validated together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cache::{self, ParseCache};
use crate::util::par::par_map;
use crate::yaml::error::{LoadError, LoadErrorKind, Span};
use super::load::{Loaded, load_file};
use crate::yaml::read::{parse_yaml, read_bounded};
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
    par_map(files, |file| {
        let loaded = load_file(file)?;
        let problems = validate(&loaded, ctx);
        Ok((loaded, problems))
    })
}

/// [`load`] through the parse cache under `root` (for `list` and `validate`, see
/// [`super::cache`]): unchanged files are not parsed again. Whenever anything is wrong (a file
/// unreadable or invalid, a duplicate id) the whole catalogue is loaded again without the
/// cache, so every error is reported exactly as [`load`] reports it, positions included.
pub fn load_cached(sources: &Sources, root: &Path) -> Result<Catalogue, Vec<LoadError>> {
    let Some(mut cache) = ParseCache::open(root) else { return load(sources) };
    let (Ok(index), Ok(fixtures), Ok(files)) =
        (RequirementIndex::load(&sources.index), load_fixtures(&sources.fixtures), scenario_files(&sources.paths))
    else {
        return load(sources);
    };
    let Some(read) = read_through(&files, &mut cache) else { return load(sources) };
    let (scenarios, digests): (Vec<Loaded>, Vec<String>) = read.into_iter().unzip();
    let target_vars = crate::target::reference_vars();
    let ctx = Context { index: &index, target_vars: &target_vars, fixtures: &fixtures };
    if par_map(&scenarios, |l| validate(l, &ctx).is_empty()).contains(&false) || !duplicate_ids(&scenarios).is_empty() {
        return load(sources);
    }
    let fresh: Vec<_> =
        scenarios.iter().zip(&digests).map(|(l, d)| cache::Fresh { file: &l.file, sha256: d, scenario: &l.scenario }).collect();
    cache.save(&fresh);
    Ok(Catalogue { scenarios, index, fixtures })
}

/// Every file read, with its digest; its scenario taken from `cache` when the digest matches,
/// parsed (over the cores) otherwise. `None` when a file cannot be read or parsed.
fn read_through(files: &[PathBuf], cache: &mut ParseCache) -> Option<Vec<(Loaded, String)>> {
    let texts: Vec<(String, String)> =
        par_map(files, |f| read_bounded(f).map(|t| (cache::digest(&t), t))).into_iter().collect::<Result<_, _>>().ok()?;
    let hits: Vec<_> = files.iter().zip(&texts).map(|(f, (digest, _))| cache.take(f, digest)).collect();
    let misses: Vec<usize> = (0..files.len()).filter(|&i| hits[i].is_none()).collect();
    let mut parsed = par_map(&misses, |&i| parse_yaml(&files[i], &texts[i].1).ok()).into_iter();
    let mut read = Vec::with_capacity(files.len());
    for ((file, (digest, source)), hit) in files.iter().zip(texts).zip(hits) {
        let scenario = match hit {
            Some(scenario) => scenario,
            None => parsed.next().flatten()?,
        };
        read.push((Loaded { file: file.clone(), source, scenario }, digest));
    }
    Some(read)
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
