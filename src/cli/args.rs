//! Command-line arguments (clap). Resolution into configs happens in the command modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lang::Lang;

#[derive(Debug, Parser)]
#[command(name = "mssconf", version, about = "Conformance harness for MSSanté operators' API LPS")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a target (default: the embedded mock operator).
    Run(RunArgs),
    /// List the scenarios `run` would run with the same filters.
    List(ListArgs),
    /// Check scenario files; prints `file:line:column: problem; expected …`.
    Validate(ValidateArgs),
    /// Print the JSON Schema of scenario files (or of target profiles / the requirement index).
    Schema(SchemaArgs),
    /// Show which requirements have no scenario.
    Coverage(CatalogueArgs),
    /// Serve the mock operator in the foreground.
    Mock(MockArgs),
    /// Pack a run's evidence into one zip for the agency (`bundle --run DIR`), or check one
    /// (`bundle verify FILE.zip`).
    Bundle(BundleArgs),
    /// Run the production technical test: its picture `preuve-test-production.png` and a bundle.
    Proof(ProofArgs),
    /// Create an Ed25519 key pair for signing bundles (`mssconf.key`, `mssconf.pub`).
    Keygen(KeygenArgs),
    /// Run scenarios step by step in front of an auditor (interactive; see docs/audit.md).
    Audit(AuditArgs),
    /// Check the solde dossier (guide PDF, documentation link, contacts, numbers, production
    /// proof) and write its checklist; nothing is sent (docs/dossier.md).
    Dossier(super::dossier::DossierArgs),
    /// Compare two runs' report.json: new failures, fixes, new flaky scenarios, timing changes.
    Diff(super::diff::DiffArgs),
    /// Measure performance figures, each beside a baseline from the same run (docs/performance.md).
    Bench(super::bench::BenchArgs),
    /// Load / soak a loopback operator: N authenticated sessions, every message verified over IMAP.
    Load(super::load::LoadArgs),
    /// Check a target profile before an audit, sending nothing: endpoints, TLS chains, files,
    /// tokens and logins, mailboxes; one line per check (docs/audit.md).
    #[command(alias = "doctor")]
    Preflight(super::preflight::PreflightArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CatalogueArgs {
    /// Scenario files or folders (default: `scenarios/`).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Project root holding `scenarios/` and `fixtures/` (default: current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Scenario id (exact, or a prefix ending in `*`); repeatable.
    #[arg(long = "scenario", value_name = "ID")]
    pub scenario: Vec<String>,
    /// Tag; repeatable (any matches).
    #[arg(long = "tag", value_name = "TAG")]
    pub tag: Vec<String>,
    /// Requirement id (exact, or a prefix ending in `*`); repeatable.
    #[arg(long = "requirement", value_name = "ID")]
    pub requirement: Vec<String>,
    /// REM profile: general, per-org, app; repeatable.
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profile: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Target profile (default: start the embedded mock operator).
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Scenarios run in parallel.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Report directory (default: `reports/<timestamp>/`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Language of the HTML report.
    #[arg(long, value_enum, default_value_t = Lang::Fr)]
    pub lang: Lang,
    /// Fault to switch on in the embedded mock (repeatable; see `mssconf mock --list-faults`).
    #[arg(long = "mock-fault", value_name = "NAME")]
    pub mock_fault: Vec<String>,
    /// Conformant behaviour of the embedded mock (repeatable, one per family; see `mssconf mock
    /// --list-behaviours`).
    #[arg(long = "mock-behaviour", value_name = "NAME")]
    pub mock_behaviour: Vec<String>,
    #[command(flatten)]
    pub modes: super::run_modes::RunModeArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Target profile (default: start the embedded mock operator).
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Report directory (default: `reports/<timestamp>/`); the audit state is saved there.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Language of the HTML report (the console speaks French).
    #[arg(long, value_enum, default_value_t = Lang::Fr)]
    pub lang: Lang,
    /// Fault to switch on in the embedded mock (repeatable).
    #[arg(long = "mock-fault", value_name = "NAME")]
    pub mock_fault: Vec<String>,
    /// The auditor's name (asked at start otherwise).
    #[arg(long, value_name = "NAME")]
    pub auditor: Option<String>,
    /// Audit a target marked `environment: production`; only scenarios tagged `production`
    /// may be selected (by default, exactly those), as with `run --production`.
    #[arg(long)]
    pub production: bool,
    /// Continue the interrupted audit saved in this report directory (same scenarios, target
    /// and options as when it started).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["scenarios", "root", "scenario", "tag", "requirement", "profile", "target", "report_dir", "mock_fault", "lang", "production"])]
    pub resume: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print a JSON array of `{id, title, requirements, profile, tags, file}`.
    #[arg(long)]
    pub json: bool,
    /// Only shard K of N of the selection, as `run --shard K/N` would run it.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::plan::shard::Shard>,
    /// Parse every file, without reading or writing the parse cache (`<root>/.mssconf_cache`).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders to check (default: `scenarios/`).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Parse every file, without reading or writing the parse cache (`<root>/.mssconf_cache`).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(long, value_enum, default_value_t = SchemaKind::Scenario)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    Scenario,
    Target,
    Requirements,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Switch a deviation on (repeatable).
    #[arg(long = "fault", value_name = "NAME")]
    pub fault: Vec<String>,
    /// Print the faults, one per line, and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Switch a conformant behaviour on (repeatable, one per family).
    #[arg(long = "behaviour", value_name = "NAME")]
    pub behaviour: Vec<String>,
    /// Print the conformant behaviours, one per line (defaults marked), and exit.
    #[arg(long)]
    pub list_behaviours: bool,
    /// Write the target profile of this mock instance to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_target: Option<PathBuf>,
    /// Folder for the generated test PKI (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    pub pki_dir: Option<PathBuf>,
    /// Log each session's lines (secrets redacted) on stderr.
    #[arg(long)]
    pub log_wire: bool,
    /// Largest message accepted (SMTP SIZE, IMAP APPEND), in bytes (default 10 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
    /// Lifetime of the access tokens the mock's token endpoint hands out, in seconds (grants:
    /// 300 by default; the issuer's `lifetime=` is capped at it), to see renewal during a run.
    /// (Not `--token-…`: no option is named after a secret.)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..=31_622_400))]
    pub lifetime: Option<i64>,
    #[arg(long, default_value_t = 0)]
    pub smtp_port: u16,
    #[arg(long, default_value_t = 0)]
    pub smtps_port: u16,
    #[arg(long, default_value_t = 0)]
    pub imap_port: u16,
    #[arg(long, default_value_t = 0)]
    pub imaps_port: u16,
    #[arg(long, default_value_t = 0)]
    pub http_port: u16,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub action: Option<BundleAction>,
    /// Report folder of the run to pack (`reports/<run id>`).
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Sign the manifest with this Ed25519 key (`mssconf keygen`; must be mode 0600).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// Folder for the zip (default: the run folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The deposit number (`numéroenvoi` of the ANS naming rule): the zip is
    /// `<Operator>_<Service>_<Version>_<DDMMYY>_<N>.zip`. Without it, the first number free in
    /// the folder is used (and said).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub envoi: Option<u32>,
    /// YAML map `proof id: official REM proof number`: proof files are named by the official
    /// number (`MSS 5.1.1` → `MSS_5.1.1.png`) without touching scenarios (docs/dossier.md).
    #[arg(long, value_name = "FILE")]
    pub proof_numbers: Option<PathBuf>,
    /// Attach a real screen capture to a proof number (`2.1.1=capture.png`; repeatable): it goes
    /// into the zip named by the number, hashed in the manifest, listed in index.csv as `capture`.
    #[arg(long = "attach", value_name = "PROOF=FILE")]
    pub attach: Vec<crate::evidence::bundle::attach::Attachment>,
}

#[derive(Debug, Subcommand)]
pub enum BundleAction {
    /// Check every hash, that no file is missing or added, and the signature. Exit 0 when all
    /// hold, 1 otherwise, 2 on usage errors.
    Verify(VerifyArgs),
    /// Add your own signature (an auditor's, `mssconf keygen`) to a bundle that verifies; it
    /// covers manifest.json (every file's hash) and the operator's manifest.sig.
    Cosign(CosignArgs),
}

#[derive(Debug, Args)]
pub struct CosignArgs {
    /// The bundle zip (rewritten in place unless --out is given).
    pub file: PathBuf,
    /// The co-signer's own Ed25519 key (mode 0600); it never leaves the co-signer's machine.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The co-signer's name as recorded in the co-signature (« Jeanne Martin, auditrice »).
    #[arg(long, value_name = "TEXT")]
    pub signer: Option<String>,
    /// The co-signer's own attestation, signed with their key (« Constat : … »); `@FILE` reads it
    /// from a file. The auditor writes it, not the operator on their behalf (docs/audit.md).
    #[arg(long, value_name = "TEXT|@FILE")]
    pub attestation: Option<String>,
    /// Write the co-signed bundle here instead of replacing FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle zip.
    pub file: PathBuf,
    /// The signer's public key (`mssconf.pub`): the signature must verify with it (exit 0).
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Accept a signature that verifies only with the key inside the bundle (the signer is
    /// then not authenticated: anyone can re-sign); said in the verdict.
    #[arg(long)]
    pub trust_embedded_key: bool,
    /// Accept an unsigned bundle (hashes protect against damage only); said in the verdict.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// A co-signer's public key (an auditor's); repeatable. Each must have co-signed the bundle.
    #[arg(long = "cosigner-pubkey", value_name = "FILE")]
    pub cosigner_pubkey: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProofArgs {
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    /// Only `production`-tagged scenarios may be selected.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The target is marked `environment: production` (required for one, refused otherwise).
    #[arg(long)]
    pub production: bool,
    /// Target profile of the production environment (default: the embedded mock, for a trial).
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Report directory (default: `reports/<timestamp>/`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Sign the bundle with this Ed25519 key.
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// The deposit number of the bundle (see `mssconf bundle --envoi`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub envoi: Option<u32>,
    /// Language of the picture and the HTML report.
    #[arg(long, value_enum, default_value_t = Lang::Fr)]
    pub lang: Lang,
    /// Fault to switch on in the embedded mock (to see a failing proof).
    #[arg(long = "mock-fault", value_name = "NAME")]
    pub mock_fault: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Folder for `mssconf.key` (mode 0600) and `mssconf.pub`; existing files are never replaced.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
