//! The `mssconf` command line: parse, dispatch, return an exit code.

pub mod args;
pub mod audit;
pub mod bench;
pub mod bundle;
pub mod catalogue_cmds;
pub mod diff;
pub mod dossier;
pub mod dry_run;
pub mod keygen;
pub mod load;
pub mod mock;
pub mod preflight;
pub mod progress;
pub mod proof;
pub mod run;
pub mod run_modes;
pub mod runtime;
pub mod selection;

use clap::Parser;

use args::{Cli, Command};

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(a) => catalogue_cmds::validate(&a),
        Command::List(a) => catalogue_cmds::list(&a),
        Command::Schema(a) => catalogue_cmds::schema(&a),
        Command::Coverage(a) => catalogue_cmds::coverage(&a),
        Command::Run(a) => run::main(a),
        Command::Mock(a) => mock::main(a),
        Command::Bundle(a) => bundle::main(a),
        Command::Proof(a) => proof::main(a),
        Command::Keygen(a) => keygen::main(a),
        Command::Audit(a) => audit::main(a),
        Command::Diff(a) => diff::main(&a),
        Command::Dossier(a) => dossier::main(a),
        Command::Bench(a) => bench::main(a),
        Command::Load(a) => load::main(a),
        Command::Preflight(a) => preflight::main(a),
    }
}
