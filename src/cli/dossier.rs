//! `mssconf dossier --dossier FILE [--target PROFILE] [--out DIR] [--lang en]`: checks the solde
//! dossier and writes `dossier-checklist.html` and `dossier-checklist.json`. Exit 0 when every
//! item is present (checked or not checkable), 1 when one is missing or fails its check, 2 when
//! the dossier file, the profile or a key cannot be read. Nothing is sent anywhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::lang::Lang;
use crate::dossier::link::LinkPolicy;
use crate::dossier::model::load_dossier;
use crate::dossier::render::{HTML_FILE, JSON_FILE, to_html, to_json};
use crate::evidence::bundle::keys;
use crate::exit_code;
use crate::util::atomic::write_atomic;
use crate::target::allow::HostAllowList;

#[derive(Debug, Args)]
pub struct DossierArgs {
    /// The dossier file (YAML; see docs/dossier.md).
    #[arg(long, value_name = "FILE")]
    pub dossier: PathBuf,
    /// Target profile: the documentation link is contacted only on a host it declares, trusting
    /// its trust anchors besides the system roots. Without it the link is not contacted.
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Folder for the checklist (default: the dossier file's folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Language of the checklist.
    #[arg(long, value_enum, default_value_t = Lang::Fr)]
    pub lang: Lang,
}

pub fn main(args: DossierArgs) -> i32 {
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}

fn run(args: &DossierArgs) -> Result<i32, String> {
    let dossier = load_dossier(&args.dossier).map_err(|e| e.to_string())?;
    let policy = link_policy(args.target.as_deref())?;
    let pubkey = dossier.production_pubkey.as_deref().map(keys::read_public_key).transpose().map_err(|e| e.to_string())?;
    let rt = super::runtime::build(super::runtime::Threads::Current)?;
    let list = rt.block_on(crate::dossier::assess(&dossier, &policy, pubkey.as_ref()));
    let out = args.out.clone().unwrap_or_else(|| args.dossier.parent().map(Path::to_path_buf).unwrap_or_default());
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let now = chrono::Utc::now();
    let json = serde_json::to_vec_pretty(&to_json(&list, args.lang, now)).map_err(|e| e.to_string())?;
    for (name, bytes) in [(JSON_FILE, json), (HTML_FILE, to_html(&list, args.lang, now).into_bytes())] {
        let path = out.join(name);
        write_atomic(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for i in &list.items {
        println!("{:<30} {:<28} {}", i.id.label(Lang::En), i.status.label(args.lang), i.note.get(args.lang));
    }
    println!("{}", out.join(HTML_FILE).display());
    Ok(if list.complete() { exit_code::OK } else { exit_code::FAILED })
}

fn link_policy(target: Option<&Path>) -> Result<LinkPolicy, String> {
    let Some(file) = target else {
        return Ok(LinkPolicy { hosts: None, trust_anchors_pem: vec![], timeout: Duration::from_secs(10) });
    };
    let t = crate::target::load::load_target(file)
        .map_err(|errs| errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
    let mut anchors = Vec::new();
    for p in &t.trust_anchors {
        anchors.push(std::fs::read(p).map_err(|e| format!("cannot read trust anchor {}: {e}", p.display()))?);
    }
    Ok(LinkPolicy {
        hosts: Some(HostAllowList::of(&t)),
        trust_anchors_pem: anchors,
        timeout: Duration::from_millis(t.timeouts.reply.max(1000)),
    })
}
