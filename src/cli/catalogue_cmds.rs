//! `validate`, `list`, `schema`, `coverage`: commands that read the catalogue and run nothing.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::args::{CatalogueArgs, FilterArgs, ListArgs, SchemaArgs, SchemaKind, ValidateArgs};
use crate::exit_code;
use crate::plan::filter::Filter;
use crate::scenario::catalogue::{self, Catalogue, Sources};
use crate::yaml::error::LoadError;

pub fn sources(args: &CatalogueArgs) -> Sources {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut s = Sources::under(&root);
    if !args.scenarios.is_empty() {
        s.paths = args.scenarios.clone();
    }
    s
}

pub fn print_errors(errors: &[LoadError]) {
    for e in errors {
        eprintln!("{e}");
    }
    let files: std::collections::BTreeSet<_> = errors.iter().map(|e| &e.span.file).collect();
    eprintln!("{} error(s) in {} file(s)", errors.len(), files.len());
}

/// Loads the catalogue or prints every error (configuration error: exit 2).
pub fn load_or_report(args: &CatalogueArgs) -> Result<Catalogue, i32> {
    or_report(catalogue::load(&sources(args)))
}

/// The catalogue, or every error printed (configuration error: exit 2).
fn or_report(loaded: Result<Catalogue, Vec<LoadError>>) -> Result<Catalogue, i32> {
    loaded.map_err(|errors| {
        print_errors(&errors);
        exit_code::CONFIG
    })
}

/// The catalogue for a command that runs nothing: through the parse cache of the root unless
/// `no_cache` (see [`crate::scenario::cache`]).
fn load_read_only(sources: &Sources, root: Option<&Path>, no_cache: bool) -> Result<Catalogue, Vec<LoadError>> {
    if no_cache {
        return catalogue::load(sources);
    }
    catalogue::load_cached(sources, root.unwrap_or(Path::new(".")))
}

pub fn filter(args: &FilterArgs) -> Result<Filter, i32> {
    Filter::new(args.scenario.clone(), args.tag.clone(), args.requirement.clone(), &args.profile).map_err(|e| {
        eprintln!("error: {e}");
        exit_code::CONFIG
    })
}

pub fn validate(args: &ValidateArgs) -> i32 {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut sources = Sources::under(&root);
    if !args.paths.is_empty() {
        sources.paths = args.paths.clone();
    }
    match load_read_only(&sources, args.root.as_deref(), args.no_cache) {
        Ok(c) => {
            println!("{} scenario(s) valid", c.scenarios.len());
            exit_code::OK
        }
        Err(errors) => {
            print_errors(&errors);
            exit_code::FAILED
        }
    }
}

#[derive(Serialize)]
struct ListEntry<'a> {
    id: &'a str,
    title: &'a str,
    requirements: Vec<&'a str>,
    profile: &'static str,
    tags: &'a [String],
    file: String,
}

pub fn list(args: &ListArgs) -> i32 {
    let cat = match or_report(load_read_only(&sources(&args.catalogue), args.catalogue.root.as_deref(), args.no_cache)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let filter = match filter(&args.filter) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let selected: Vec<_> = cat.scenarios.iter().filter(|l| filter.selects(&l.scenario)).collect();
    let selected = match &args.shard {
        Some(shard) => shard.keep(selected, |l| l.scenario.id.value.as_str()),
        None => selected,
    };
    let entries: Vec<ListEntry<'_>> = selected
        .into_iter()
        .map(|l| ListEntry {
            id: &l.scenario.id.value,
            title: &l.scenario.title,
            requirements: l.scenario.requirements.iter().map(|r| r.value.as_str()).collect(),
            profile: l.scenario.profile.name(),
            tags: &l.scenario.tags,
            file: display_path(&l.file),
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries).unwrap_or_default());
    } else {
        for e in &entries {
            println!("{:<8} {:<16} {}", e.profile, e.id, e.title);
        }
        eprintln!("{} scenario(s)", entries.len());
    }
    exit_code::OK
}

fn display_path(p: &Path) -> String {
    p.strip_prefix("./").unwrap_or(p).display().to_string()
}

pub fn schema_json(kind: SchemaKind) -> String {
    let schema = match kind {
        SchemaKind::Scenario => schemars::schema_for!(crate::scenario::model::Scenario),
        SchemaKind::Target => schemars::schema_for!(crate::target::model::Target),
        SchemaKind::Requirements => schemars::schema_for!(crate::requirement::RequirementIndex),
    };
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

pub fn schema(args: &SchemaArgs) -> i32 {
    print!("{}", schema_json(args.kind));
    exit_code::OK
}

pub fn coverage(args: &CatalogueArgs) -> i32 {
    let cat = match load_or_report(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let pairs: Vec<(String, Vec<String>)> = cat
        .scenarios
        .iter()
        .map(|l| (l.scenario.id.value.clone(), l.scenario.requirements.iter().map(|r| r.value.clone()).collect()))
        .collect();
    let map = cat.index.coverage(pairs.iter().map(|(id, r)| (id.as_str(), r.as_slice())));
    let (mut uncovered, mut justified) = (0, 0);
    for req in &cat.index.requirements {
        let scenarios = &map[&req.id];
        if !scenarios.is_empty() {
            println!("covered    {:<14} {} scenario(s): {}", req.id, scenarios.len(), scenarios.join(", "));
        } else if let Some(why) = &req.not_checkable {
            justified += 1;
            println!("justified  {:<14} {why}", req.id);
        } else {
            uncovered += 1;
            println!("UNCOVERED  {:<14} {}", req.id, req.text);
        }
    }
    println!(
        "{} requirement(s): {} covered, {justified} justified, {uncovered} uncovered",
        cat.index.requirements.len(),
        cat.index.requirements.len() - justified - uncovered
    );
    if uncovered > 0 { exit_code::FAILED } else { exit_code::OK }
}
