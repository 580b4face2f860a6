//! A generated catalogue for the scale figures (issue #8 point 4): N scenario files cloned from
//! the real catalogue under new ids, with the requirement index and fixtures the loader needs,
//! laid out like a project root (`scenarios/`, `scenarios/requirements.yaml`, `fixtures/`), so
//! `mssconf list|validate|run --root <dir>` work on it unchanged.
//!
//! Clones keep their template's text (SMTP, IMAP, TLS, HTTP steps, messages, proofs): only the
//! `id:` line and the `requirements:` line change. A scenario id is `<requirement>.<nn>` with two
//! digits, so each batch of 99 clones gets its own generated requirement `GEN/S<bbbb>.01`; the
//! clone still cites its template's requirements after it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::plan::filter::PRODUCTION_TAG;
use crate::requirement::{Confidence, Nature, Requirement, RequirementIndex};
use crate::scenario::catalogue::{self, Sources};
use crate::scenario::load::Loaded;
use crate::scenario::model::Profile;

/// Clones per generated requirement (scenario ids end in `.01` … `.99`).
const PER_REQUIREMENT: usize = 99;

/// A generated project root.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Pass as `--root`: holds `scenarios/` and `fixtures/`.
    pub root: PathBuf,
    /// The scenario files written, in id order.
    pub files: Vec<PathBuf>,
    /// Their ids, same order.
    pub ids: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the source catalogue under {} does not load ({} error(s)); first: {first}", .root.display(), .count)]
    Source { root: PathBuf, count: usize, first: String },
    #[error("the source catalogue under {} has no scenario to clone (production scenarios are left out)", .0.display())]
    NoTemplate(PathBuf),
    #[error("template {}: no `{line}` line at the start of a line (generator and scenario layout disagree)", .file.display())]
    Layout { file: PathBuf, line: &'static str },
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot encode the generated requirement index: {0}")]
    Encode(#[from] serde_json::Error),
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Write { path: path.to_path_buf(), source }
}

/// The id of clone `i` (0-based) and its generated requirement.
pub fn clone_id(i: usize) -> (String, String) {
    let requirement = format!("GEN/S{:04}.01", i / PER_REQUIREMENT);
    let id = format!("{requirement}.{:02}", i % PER_REQUIREMENT + 1);
    (id, requirement)
}

/// Writes `count` scenarios cloned round-robin from the catalogue under `source_root` into a new
/// project root `out` (emptied first when it holds an earlier generated catalogue).
pub fn generate(source_root: &Path, out: &Path, count: usize) -> Result<Generated, GenerateError> {
    generate_cycled(source_root, out, count, count)
}

/// [`generate`], the clones repeating with `period`: clone `i` copies the template of clone
/// `i % period`. So 1,000 scenarios with period 100 are exactly ten times the mix of the first
/// 100, and a run of them compares with ten runs of those 100 (the linearity figure).
pub fn generate_cycled(source_root: &Path, out: &Path, count: usize, period: usize) -> Result<Generated, GenerateError> {
    let source = catalogue::load(&Sources::under(source_root)).map_err(|errors| GenerateError::Source {
        root: source_root.to_path_buf(),
        count: errors.len(),
        first: errors.first().map(ToString::to_string).unwrap_or_default(),
    })?;
    let templates = templates(&source.scenarios);
    if templates.is_empty() {
        return Err(GenerateError::NoTemplate(source_root.to_path_buf()));
    }
    reset(out)?;
    let scenarios_dir = out.join("scenarios");
    let mut files = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let template = templates[(i % period.max(1)) % templates.len()];
        let (id, requirement) = clone_id(i);
        let text = rewrite(template, &id, &requirement)?;
        let theme = template.file.parent().and_then(Path::file_name).map_or("misc".into(), |n| n.to_string_lossy().to_string());
        let stem = template.file.file_stem().map_or("scenario".into(), |n| n.to_string_lossy().to_string());
        let dir = scenarios_dir.join(theme);
        std::fs::create_dir_all(&dir).map_err(write_err(&dir))?;
        let file = dir.join(format!("{i:05}-{stem}.yaml"));
        std::fs::write(&file, text).map_err(write_err(&file))?;
        files.push(file);
        ids.push(id);
    }
    write_index(&source.index, count, &scenarios_dir.join("requirements.yaml"))?;
    copy_dir(&source_root.join("fixtures"), &out.join("fixtures"))?;
    Ok(Generated { root: out.to_path_buf(), files, ids })
}

/// Every scenario but the production technical test (it needs a production target), in id order.
fn templates(scenarios: &[Loaded]) -> Vec<&Loaded> {
    let mut t: Vec<&Loaded> = scenarios.iter().filter(|l| !l.scenario.tags.iter().any(|t| t == PRODUCTION_TAG)).collect();
    t.sort_by(|a, b| a.scenario.id.value.cmp(&b.scenario.id.value));
    t
}

/// Removes an earlier generated catalogue; refuses to empty a folder that is not one.
fn reset(out: &Path) -> Result<(), GenerateError> {
    let index = out.join("scenarios/requirements.yaml");
    let generated = std::fs::read_to_string(&index).is_ok_and(|t| t.contains("\"GEN/S0000.01\""));
    if out.exists() && generated {
        std::fs::remove_dir_all(out).map_err(write_err(out))?;
    } else if out.join("scenarios").exists() {
        return Err(GenerateError::Write {
            path: out.to_path_buf(),
            source: std::io::Error::other("holds a catalogue that was not generated; refusing to overwrite it"),
        });
    }
    std::fs::create_dir_all(out).map_err(write_err(out))
}

/// The template's text with its `id:` and `requirements: [` lines replaced.
fn rewrite(template: &Loaded, id: &str, requirement: &str) -> Result<String, GenerateError> {
    let mut out = String::with_capacity(template.source.len() + 64);
    let (mut saw_id, mut saw_requirements) = (false, false);
    for line in template.source.split_inclusive('\n') {
        if !saw_id && line.starts_with("id:") {
            saw_id = true;
            out.push_str(&format!("id: {id}\n"));
        } else if !saw_requirements && let Some(rest) = line.strip_prefix("requirements: [") {
            saw_requirements = true;
            out.push_str(&format!("requirements: [{requirement}, {rest}"));
        } else {
            out.push_str(line);
        }
    }
    let layout = |line| GenerateError::Layout { file: template.file.clone(), line };
    if !saw_id {
        return Err(layout("id:"));
    }
    if !saw_requirements {
        return Err(layout("requirements: ["));
    }
    Ok(out)
}

/// The real index plus one requirement per batch of clones, as JSON (a YAML subset).
fn write_index(real: &RequirementIndex, count: usize, file: &Path) -> Result<(), GenerateError> {
    let mut index = real.clone();
    let batches: BTreeSet<String> = (0..count).map(|i| clone_id(i).1).collect();
    index.requirements.extend(batches.into_iter().map(|id| Requirement {
        text: format!("Exigence générée pour la mesure d'échelle ({id}) : clones de scénarios réels."),
        id,
        official: vec![],
        source: "mssconf bench (catalogue généré, issue #8 point 4)".into(),
        profile: Profile::General,
        nature: Nature::Exigence,
        confidence: Confidence::I,
        not_checkable: None,
    }));
    let json = serde_json::to_vec_pretty(&index)?;
    std::fs::write(file, json).map_err(write_err(file))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), GenerateError> {
    std::fs::create_dir_all(to).map_err(write_err(to))?;
    for entry in std::fs::read_dir(from).map_err(write_err(from))? {
        let entry = entry.map_err(write_err(from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(write_err(&dst))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn ids_are_well_formed_and_batched_by_99() {
        assert_eq!(clone_id(0), ("GEN/S0000.01.01".into(), "GEN/S0000.01".into()));
        assert_eq!(clone_id(98).0, "GEN/S0000.01.99");
        assert_eq!(clone_id(99), ("GEN/S0001.01.01".into(), "GEN/S0001.01".into()));
    }

    #[test]
    fn generated_catalogue_has_n_unique_valid_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("gen");
        let g = generate(project_root(), &out, 150).unwrap();
        assert_eq!((g.files.len(), g.ids.len()), (150, 150));
        assert_eq!(g.ids.iter().collect::<BTreeSet<_>>().len(), 150, "ids are unique");
        let cat = catalogue::load(&Sources::under(&out)).unwrap_or_else(|e| panic!("{}", e[0]));
        assert_eq!(cat.scenarios.len(), 150);
        let loaded: BTreeSet<&str> = cat.scenarios.iter().map(|l| l.scenario.id.value.as_str()).collect();
        assert_eq!(loaded, g.ids.iter().map(String::as_str).collect());
        // A realistic mix: every protocol of the real catalogue is there.
        for tag in ["smtp", "imap", "tls", "http"] {
            assert!(cat.scenarios.iter().any(|l| l.scenario.tags.iter().any(|t| t == tag)), "no {tag} scenario");
        }
        assert!(cat.scenarios.iter().all(|l| !l.scenario.tags.iter().any(|t| t == PRODUCTION_TAG)));
    }

    #[test]
    fn clones_cite_their_batch_requirement_then_the_template_ones() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(project_root(), &dir.path().join("gen"), 100).unwrap();
        let cat = catalogue::load(&Sources::under(&g.root)).unwrap();
        let last = cat.scenarios.iter().find(|l| l.scenario.id.value == "GEN/S0001.01.01").unwrap();
        let reqs: Vec<&str> = last.scenario.requirements.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(reqs[0], "GEN/S0001.01");
        assert!(reqs.len() >= 2 && reqs[1].starts_with("OPE/"), "{reqs:?}");
    }

    #[test]
    fn a_cycled_catalogue_repeats_the_mix_of_its_period() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate_cycled(project_root(), &dir.path().join("gen"), 30, 10).unwrap();
        let stem = |f: &PathBuf| f.file_name().unwrap().to_string_lossy()[6..].to_string();
        for i in 10..30 {
            assert_eq!(stem(&g.files[i]), stem(&g.files[i % 10]), "clone {i}");
        }
        assert_ne!(stem(&g.files[0]), stem(&g.files[1]));
    }

    #[test]
    fn regenerating_replaces_an_earlier_catalogue_but_never_a_real_one() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("gen");
        generate(project_root(), &out, 120).unwrap();
        let g = generate(project_root(), &out, 10).unwrap();
        assert_eq!(catalogue::scenario_files(&[g.root.join("scenarios")]).unwrap().len(), 10);
        let refused = generate(project_root(), project_root(), 1).unwrap_err();
        assert!(refused.to_string().contains("not generated"), "{refused}");
    }
}
