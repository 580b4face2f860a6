//! `mssconf diff OLD NEW`: compares two runs' `report.json` (or their report folders). Exit 1 on
//! a regression (a scenario passing in OLD fails or errors in NEW, or newly flaky), 0 otherwise,
//! 2 when a file cannot be read.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::exit_code;
use crate::record::RunRecord;
use crate::report::diff::RunDiff;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run: its report.json or its report folder.
    pub old: PathBuf,
    /// The later run: its report.json or its report folder.
    pub new: PathBuf,
    /// Print the comparison as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: &DiffArgs) -> i32 {
    let (old, new) = match (read(&args.old), read(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let diff = RunDiff::compare(&old, &new);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&diff).unwrap_or_default());
    } else {
        print!("{}", diff.render_text());
    }
    if diff.regressions() > 0 { exit_code::FAILED } else { exit_code::OK }
}

/// A `report.json`, given directly or as the folder holding it.
pub fn read(path: &Path) -> Result<RunRecord, String> {
    let file = if path.is_dir() { path.join(crate::report::JSON_FILE) } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not an mssconf report.json: {e}", file.display()))
}
