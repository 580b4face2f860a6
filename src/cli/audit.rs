//! `mssconf audit`: set up (new audit or `--resume`), hand over to the interactive session,
//! then write the reports or tell how to resume.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use tokio::runtime::Runtime;

use super::args::{AuditArgs, CatalogueArgs, FilterArgs};
use crate::lang::Lang;
use super::catalogue_cmds::{filter, load_or_report};
use crate::audit::console::Console;
use crate::record::audit::{AuditRecord, AuditSession};
use crate::audit::screen::Style;
use crate::audit::session::{End, Session};
use crate::audit::state::{AuditOptions, AuditState, STATE_FILE, STATE_FORMAT};
use crate::exec::env::RunEnv;
use crate::exec::net::TlsMode;
use crate::exit_code;
use super::run_modes::RunModeArgs;
use crate::record::Outcome;
use crate::runner::{self, AcquiredTarget, TargetChoice};
use crate::scenario::catalogue::Catalogue;

pub fn main(args: AuditArgs) -> i32 {
    let rt = match super::runtime::start(super::runtime::Threads::Multi) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let mut console = Console::new(stdin.lock(), stdout.lock(), Style::detect());
    match audit(&rt, args, &mut console) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}

/// Where an audit starts from.
enum Opened {
    New { options: Box<AuditOptions>, run_id: String },
    Resumed(Box<AuditState>),
}

impl Opened {
    fn options(&self) -> &AuditOptions {
        match self {
            Opened::New { options, .. } => options,
            Opened::Resumed(state) => &state.options,
        }
    }
}

/// A new audit (its report folder must not hold one already), or the one saved in `--resume`.
fn open(args: &AuditArgs) -> Result<(Opened, PathBuf), String> {
    if let Some(dir) = &args.resume {
        let state = AuditState::load(dir).map_err(|e| e.to_string())?;
        return Ok((Opened::Resumed(Box::new(state)), dir.clone()));
    }
    let options = options(args)?;
    let run_id = runner::new_run_id();
    let dir = args.report_dir.clone().unwrap_or_else(|| runner::default_report_dir(&options.root, &run_id));
    if AuditState::path(&dir).exists() {
        return Err(format!(
            "{} already holds an audit ({STATE_FILE}): continue it with `mssconf audit --resume {}`, or choose another --report-dir",
            dir.display(),
            dir.display()
        ));
    }
    Ok((Opened::New { options: Box::new(options), run_id }, dir))
}

/// The options of a new audit, paths made absolute so `--resume` works from any folder.
fn options(args: &AuditArgs) -> Result<AuditOptions, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let root = abs(args.catalogue.root.as_deref().unwrap_or(Path::new(".")));
    Ok(AuditOptions {
        root,
        scenarios: args.catalogue.scenarios.iter().map(|p| abs(p)).collect(),
        scenario: args.filter.scenario.clone(),
        tag: args.filter.tag.clone(),
        requirement: args.filter.requirement.clone(),
        profile: args.filter.profile.clone(),
        target: args.target.as_deref().map(abs),
        mock_faults: args.mock_fault.clone(),
        lang: if args.lang == Lang::En { "en".into() } else { "fr".into() },
        production: args.production,
        target_sha256: args.target.as_deref().map(|p| profile_hash(&abs(p))).transpose()?,
    })
}

/// The SHA-256 of a target profile file, as the state keeps it.
fn profile_hash(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("target profile {}: {e}", path.display()))?;
    Ok(crate::util::digest::sha256_hex(&bytes))
}

/// `--resume` reads the target path from the state file: the profile there must be the one the
/// audit started with (a changed or swapped file could point the session elsewhere).
fn check_resumed_target(o: &AuditOptions) -> Result<(), String> {
    let (Some(path), Some(started)) = (&o.target, &o.target_sha256) else {
        return match &o.target {
            Some(path) => Err(format!(
                "the audit state names target {} but holds no hash of it: refusing to resume against a profile that cannot be checked",
                path.display()
            )),
            None => Ok(()),
        };
    };
    let now = profile_hash(path)?;
    if &now != started {
        return Err(format!(
            "the target profile {} changed since the audit started (sha256 {} then, {} now): refusing to resume; \
             restore it, or start a new audit",
            path.display(),
            &started[..started.len().min(16)],
            &now[..16]
        ));
    }
    Ok(())
}

fn target_choice(o: &AuditOptions) -> Result<TargetChoice, String> {
    match &o.target {
        Some(p) if !o.mock_faults.is_empty() => Err(format!("--mock-fault applies to the embedded mock only, not to {}", p.display())),
        Some(p) => Ok(TargetChoice::Profile(p.clone())),
        None => {
            let mut faults = mssconf_mock::faults::FaultSet::default();
            for f in &o.mock_faults {
                faults.insert(f.parse().map_err(|e| format!("--mock-fault: {e}"))?);
            }
            Ok(TargetChoice::EmbeddedMock(faults.into()))
        }
    }
}

fn audit<R: BufRead, W: Write>(rt: &Runtime, args: AuditArgs, console: &mut Console<R, W>) -> Result<i32, String> {
    let (opened, dir) = open(&args)?;
    if let Opened::Resumed(state) = &opened
        && state.record.audit.as_ref().is_some_and(|a| a.complete)
    {
        console.say(&format!("Cet audit est terminé ; son rapport : {}.", dir.join(crate::report::HTML_FILE).display()));
        return Ok(exit_code::OK);
    }
    let options = opened.options().clone();
    if let Opened::Resumed(_) = &opened {
        check_resumed_target(&options)?;
        if let Some(p) = &options.target {
            console.say(&format!("Reprise contre le profil cible {} (inchangé depuis le début de l'audit).", p.display()));
        }
    }
    let Ok(catalogue) = load_or_report(&catalogue_args(&options)) else { return Ok(exit_code::CONFIG) };
    let Ok(selected) = filter(&filter_args(&options)) else { return Ok(exit_code::CONFIG) };
    let selected = crate::plan::production::default_filter(selected, options.production);
    let choice = target_choice(&options)?;
    let modes = RunModeArgs { production: options.production, ..Default::default() };
    super::selection::check_choice(&choice, &modes).map_err(|e| e.to_string())?;
    console.say("mssconf — mode audit : les scénarios s'exécutent pas à pas, sous le regard d'un auditeur.");
    let last = match &opened {
        Opened::Resumed(state) => state.record.audit.as_ref(),
        Opened::New { .. } => None,
    };
    let auditor = ask_auditor(console, args.auditor.as_deref(), last)?;
    let acquired = rt.block_on(runner::acquire(&choice)).map_err(|e| e.to_string())?;
    // The same selection and production gate as `run`, before anything is contacted; a resumed
    // audit is checked again (its profile may have changed since).
    let planned: Vec<String> = match super::selection::select_audit(&catalogue, &selected, &acquired.target, acquired.mock.is_some(), &modes) {
        Ok(p) => p.iter().map(|c| c.name.clone()).collect(),
        Err(e) => {
            rt.block_on(release(acquired));
            return Err(e.to_string());
        }
    };
    let mut state = match opened {
        Opened::Resumed(state) => *state,
        Opened::New { options, run_id } => {
            let mut record = runner::new_record(&run_id, &acquired.target, acquired.mock.is_some(), options.selection());
            record.audit = Some(AuditRecord::new(&auditor));
            AuditState { format: STATE_FORMAT, options: *options, planned, record, current: None, evidence_failures: vec![] }
        }
    };
    let env = RunEnv::new(acquired.target.clone(), catalogue.fixtures.clone(), options.root.join("fixtures"), state.record.run_id.clone())
        .map_err(|e| e.to_string())?;
    check_planned(&state, &catalogue)?;
    begin_session(&mut state, &auditor, &acquired, console);
    state.save(&dir).map_err(|e| e.to_string())?;
    introduce(console, &state, &acquired, &dir);
    let lang = options.lang();
    let mut session = Session { rt, env, catalogue: &catalogue, state, dir, console, auditor, lang };
    let code = match session.run() {
        Ok(end) => conclude(&mut session, end, &catalogue),
        Err(e) => Err(e.to_string()),
    };
    rt.block_on(release(acquired));
    code
}

/// The auditor's name: `--auditor`, else asked (on resume, Enter keeps the last session's).
fn ask_auditor<R: BufRead, W: Write>(console: &mut Console<R, W>, given: Option<&str>, audit: Option<&AuditRecord>) -> Result<String, String> {
    if let Some(name) = given.map(str::trim).filter(|n| !n.is_empty()) {
        return Ok(name.to_string());
    }
    let last = audit.and_then(|a| a.sessions.last().map(|s| s.auditor.clone()).or_else(|| Some(a.auditor.clone()))).filter(|n| !n.is_empty());
    loop {
        let prompt = match &last {
            Some(l) => format!("Nom de l'auditeur ou de l'auditrice (Entrée : {l}) > "),
            None => "Nom de l'auditeur ou de l'auditrice > ".to_string(),
        };
        let answer = console.ask(&prompt).ok_or("no auditor name given (input ended): the audit did not start")?;
        match (answer.is_empty(), &last) {
            (false, _) => return Ok(answer),
            (true, Some(l)) => return Ok(l.clone()),
            (true, None) => console.say("Le nom est obligatoire : il figure sur chaque attestation."),
        }
    }
}

/// Every scenario a resumed audit planned must still be in the catalogue.
fn check_planned(state: &AuditState, catalogue: &Catalogue) -> Result<(), String> {
    let missing: Vec<&str> = state
        .planned
        .iter()
        .filter(|n| !state.is_finished(n) && !catalogue.scenarios.iter().any(|l| crate::plan::case_name(&l.scenario) == **n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("the catalogue no longer holds scenario(s) this audit planned: {}", missing.join(", ")))
}

/// Opens a session in the audit record; a scenario left unfinished starts again.
fn begin_session<R: BufRead, W: Write>(state: &mut AuditState, auditor: &str, acquired: &AcquiredTarget, console: &mut Console<R, W>) {
    let endpoints = runner::summary(&acquired.target, acquired.mock.is_some()).endpoints;
    let audit = state.audit();
    let number = audit.session() + 1;
    audit.sessions.push(AuditSession { number, auditor: auditor.to_string(), started: Utc::now(), ended: None, endpoints });
    if let Some(name) = state.current.take() {
        let n = state.audit().restart(&name, auditor, Utc::now());
        console.say(&format!(
            "Reprise : le scénario {name} était en cours ; il recommence à sa première étape. \
             Les {n} attestation(s) ou passage(s) antérieurs restent au rapport, marqués « remplacés »."
        ));
    }
}

fn introduce<R: BufRead, W: Write>(console: &mut Console<R, W>, state: &AuditState, acquired: &AcquiredTarget, dir: &Path) {
    let t = &acquired.target;
    let left = state.planned.iter().filter(|n| !state.is_finished(n)).count();
    console.blank();
    let mock = if acquired.mock.is_some() { " — opérateur simulé intégré (mock), pas un vrai service" } else { "" };
    console.say(&format!("Cible : {} (opérateur {}, service {} {}){mock}", t.name, t.operator, t.service, t.version));
    for (name, e) in &t.endpoints {
        let mode = if e.tls == TlsMode::Starttls { "STARTTLS" } else { "TLS implicite" };
        console.say(&format!("  {name} : {e} ({mode})"));
    }
    console.say(&format!("Dossier du rapport : {}", dir.display()));
    console.say(&format!("Scénarios : {} prévus, {left} restant(s).", state.planned.len()));
    console.say(
        "Touches (puis Entrée) : Entrée seule = exécuter / continuer · r = répéter l'étape · s = passer l'étape \
         (motif demandé) · n = note · q = quitter (progression enregistrée).",
    );
}

/// Closes the session: reports when the audit is complete, how to resume otherwise.
fn conclude<R: BufRead, W: Write>(session: &mut Session<'_, R, W>, end: End, catalogue: &Catalogue) -> Result<i32, String> {
    let now = Utc::now();
    if let Some(s) = session.state.audit().sessions.last_mut() {
        s.ended = Some(now);
    }
    let dir = session.dir.clone();
    if end == End::Quit {
        session.state.save(&dir).map_err(|e| e.to_string())?;
        session.console.blank();
        session.console.say(&format!("Audit interrompu ; progression enregistrée dans {}.", AuditState::path(&dir).display()));
        session.console.say(&format!("Pour reprendre : mssconf audit --resume {}", dir.display()));
        return Ok(exit_code::OK);
    }
    session.state.audit().complete = true;
    session.state.record.finished = Some(now);
    session.state.save(&dir).map_err(|e| e.to_string())?;
    let record = &session.state.record;
    let files = crate::report::write_all(record, &catalogue.index, &dir, session.lang).map_err(|e| e.to_string())?;
    session.console.blank();
    session.console.say(&format!(
        "Audit terminé : {} scénario(s) : {} conforme(s), {} non conforme(s), {} en erreur, {} non exécuté(s).",
        record.scenarios.len(),
        record.count(Outcome::Pass),
        record.count(Outcome::Fail),
        record.count(Outcome::Error),
        record.count(Outcome::Skip) + record.count(Outcome::Interrupted)
    ));
    for f in files {
        session.console.say(&format!("Rapport écrit : {}", f.display()));
    }
    let failures = &session.state.evidence_failures;
    if !failures.is_empty() {
        session.console.say(&format!("Preuves incomplètes pour : {} (voir les messages de la session où elles ont manqué).", failures.join(", ")));
    }
    Ok(exit_code::of_run(&record, !failures.is_empty()))
}

async fn release(acquired: AcquiredTarget) {
    let embedded = acquired.mock.is_some();
    if let Some(m) = acquired.mock {
        m.shutdown().await;
    }
    if embedded {
        let _ = std::fs::remove_file(&acquired.profile_path);
    }
}

/// The catalogue an audit reads, as `run` would take it from the command line.
fn catalogue_args(o: &AuditOptions) -> CatalogueArgs {
    CatalogueArgs { scenarios: o.scenarios.clone(), root: Some(o.root.clone()) }
}

/// The filters of an audit, as `run` would take them from the command line.
fn filter_args(o: &AuditOptions) -> FilterArgs {
    FilterArgs { scenario: o.scenario.clone(), tag: o.tag.clone(), requirement: o.requirement.clone(), profile: o.profile.clone() }
}
