//! The audit flow: scenario after scenario, step after step, the operator at the keyboard and
//! the auditor watching. Before a step: what it will do; after it: the exchange, the checks,
//! the verdict and the attestation. The state is saved after everything the auditor does.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use super::console::Console;
use crate::record::audit::{Attestation, AuditNote, AuditSkip, STATEMENT};
use crate::record::words;
use super::screen::{self, sgr};
use super::state::{AuditState, StateError};
use crate::lang::Lang;
use crate::evidence::MessageBytes;
use crate::exec::env::RunEnv;
use crate::runner::scenario::{ScenarioResult, ScenarioRun, skipped_record};
use crate::plan::describe::{self, Context, Render};
use crate::plan::{Decision, case_name, decide};
use crate::util::paris::format_utc;
use crate::scenario::catalogue::Catalogue;
use crate::scenario::load::Loaded;
use crate::scenario::model::Step;
use crate::target::model::Target;

pub const BEFORE_PROMPT: &str = "[Entrée] exécuter · [s] sauter l'étape (motif demandé) · [n] note · [q] quitter > ";
pub const AFTER_PROMPT: &str = "[Entrée] continuer · [r] répéter l'étape · [n] note · [q] quitter > ";

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every planned scenario was handled.
    Finished,
    /// The operator quit, or input ended; progress is saved.
    Quit,
}

enum Before {
    Run,
    Skip(String),
    Quit,
}

enum After {
    Continue,
    Repeat,
    Quit,
}

pub struct Session<'a, R, W> {
    pub rt: &'a tokio::runtime::Runtime,
    pub env: Arc<RunEnv>,
    pub catalogue: &'a Catalogue,
    pub state: AuditState,
    /// The report folder, where the state is saved.
    pub dir: PathBuf,
    pub console: &'a mut Console<R, W>,
    pub auditor: String,
    /// Language of the evidence written as each scenario ends.
    pub lang: Lang,
}

impl<'a, R: BufRead, W: Write> Session<'a, R, W> {
    /// Runs the planned scenarios not finished yet, in plan order.
    pub fn run(&mut self) -> Result<End, StateError> {
        let planned = self.state.planned.clone();
        for (k, name) in planned.iter().enumerate() {
            if self.state.is_finished(name) {
                continue;
            }
            let catalogue = self.catalogue;
            let Some(loaded) = catalogue.scenarios.iter().find(|l| case_name(&l.scenario) == *name) else {
                // Checked before the session starts; a vanished scenario is not run.
                continue;
            };
            if let Decision::Skip { reason } = decide(loaded, &self.env.target) {
                self.console.blank();
                let not_run = words::verdict(crate::record::Outcome::Skip, Lang::Fr).text;
                self.console.say(&format!("Scénario {}/{} · {} : {not_run} ({reason}).", k + 1, planned.len(), loaded.scenario.id.value));
                self.state.record.scenarios.push(skipped_record(loaded, &reason));
                self.save()?;
                continue;
            }
            if !self.scenario(k + 1, planned.len(), loaded)? {
                return Ok(End::Quit);
            }
        }
        Ok(End::Finished)
    }

    fn save(&self) -> Result<(), StateError> {
        self.state.save(&self.dir)
    }

    fn session(&mut self) -> u32 {
        self.state.audit().session()
    }

    /// One scenario; false when the operator quit.
    fn scenario(&mut self, pos: usize, total: usize, loaded: &'a Loaded) -> Result<bool, StateError> {
        let name = case_name(&loaded.scenario);
        self.header(pos, total, loaded);
        self.state.current = Some(name.clone());
        let mut run = ScenarioRun::new(self.env.clone(), loaded);
        let n = run.step_count();
        let mut attempts = vec![0u32; n];
        let mut i = 0;
        while i < n {
            self.announce(&run, i);
            match self.before(&name, i)? {
                Before::Quit => {
                    if run.steps().is_empty() {
                        self.state.current = None;
                    }
                    self.save()?;
                    return Ok(false);
                }
                Before::Skip(reason) => {
                    self.skip(&mut run, &name, i, reason)?;
                    i += 1;
                    continue;
                }
                Before::Run => {}
            }
            loop {
                attempts[i] += 1;
                self.execute(&mut run, &name, i, attempts[i])?;
                if run.stopped_at() == Some(i) {
                    self.console.say(
                        "Cette étape n'a pas abouti : les étapes suivantes de ce scénario ne seront pas exécutées, \
                         sauf si une répétition (r) aboutit.",
                    );
                }
                match self.after(&name, i)? {
                    After::Repeat => continue,
                    After::Continue => break,
                    After::Quit => {
                        if run.is_over() {
                            self.finish(run)?;
                        } else {
                            self.save()?;
                        }
                        return Ok(false);
                    }
                }
            }
            if let Some(stop) = run.stopped_at() {
                if stop + 1 < n {
                    self.console.say(&format!("Étapes {} à {n} non exécutées.", stop + 2));
                }
                break;
            }
            i += 1;
        }
        self.finish(run)?;
        Ok(true)
    }

    fn header(&mut self, pos: usize, total: usize, loaded: &Loaded) {
        let s = &loaded.scenario;
        let rule = "─".repeat(self.console.style.width);
        self.console.blank();
        self.console.lines(std::slice::from_ref(&rule));
        let head = format!("Scénario {pos}/{total} · {} · profil {}", s.id.value, s.profile.name());
        let painted = self.console.style.paint(sgr::TITLE, &head);
        self.console.lines(&[painted]);
        self.console.say(&s.title);
        if let Some(d) = &s.description {
            self.console.say(d.trim());
        }
        let reqs: Vec<&str> = s.requirements.iter().map(|r| r.value.as_str()).collect();
        self.console.say(&format!("Exigences : {}", reqs.join(", ")));
        self.console.lines(&[rule]);
    }

    /// What step `i` will do, in plain French.
    fn announce(&mut self, run: &ScenarioRun<'_>, i: usize) {
        let step = &run.scenario().steps[i];
        let render = |t: &str| run.state().render(t).unwrap_or_else(|_| t.to_string());
        let lines = step_lines(step, &self.env.target, &render);
        self.console.blank();
        let head = format!("Étape {}/{} : {}", i + 1, run.step_count(), step.title.value);
        let head = self.console.style.wrap(&head, "", "  ");
        let painted: Vec<String> = head.iter().map(|l| self.console.style.paint(sgr::TITLE, l)).collect();
        self.console.lines(&painted);
        self.console.say("Ce qui va être fait :");
        for (k, line) in lines.iter().enumerate() {
            self.console.item(&format!("  {}. ", k + 1), line);
        }
    }

    fn before(&mut self, scenario: &str, i: usize) -> Result<Before, StateError> {
        loop {
            let Some(answer) = self.console.ask(BEFORE_PROMPT) else { return Ok(Before::Quit) };
            match answer.to_lowercase().as_str() {
                "" => return Ok(Before::Run),
                "s" => {
                    return Ok(match self.ask_reason() {
                        Some(reason) => Before::Skip(reason),
                        None => Before::Quit,
                    });
                }
                "n" => {
                    if !self.note(scenario, i)? {
                        return Ok(Before::Quit);
                    }
                }
                "q" => return Ok(Before::Quit),
                _ => self.console.say("Réponse non comprise : Entrée seule pour exécuter, ou s, n, q puis Entrée."),
            }
        }
    }

    fn after(&mut self, scenario: &str, i: usize) -> Result<After, StateError> {
        loop {
            let Some(answer) = self.console.ask(AFTER_PROMPT) else { return Ok(After::Quit) };
            match answer.to_lowercase().as_str() {
                "" => return Ok(After::Continue),
                "r" => return Ok(After::Repeat),
                "n" => {
                    if !self.note(scenario, i)? {
                        return Ok(After::Quit);
                    }
                }
                "q" => return Ok(After::Quit),
                _ => self.console.say("Réponse non comprise : Entrée seule pour continuer, ou r, n, q puis Entrée."),
            }
        }
    }

    fn ask_reason(&mut self) -> Option<String> {
        loop {
            let reason = self.console.ask("Motif de l'omission (obligatoire) > ")?;
            if !reason.is_empty() {
                return Some(reason);
            }
        }
    }

    /// Asks for a note; false when input ended.
    fn note(&mut self, scenario: &str, i: usize) -> Result<bool, StateError> {
        let Some(text) = self.console.ask("Note (une ligne ; Entrée seule pour annuler) > ") else { return Ok(false) };
        if text.is_empty() {
            self.console.say("Pas de note.");
            return Ok(true);
        }
        let (auditor, session) = (self.auditor.clone(), self.session());
        let note = AuditNote { scenario: Some(scenario.to_string()), step: Some(i), at: Utc::now(), auditor, session, text };
        self.state.audit().notes.push(note);
        self.save()?;
        self.console.say("Note enregistrée.");
        Ok(true)
    }

    fn skip(&mut self, run: &mut ScenarioRun<'_>, scenario: &str, i: usize, reason: String) -> Result<(), StateError> {
        let rec = run.skip_step(i, &reason);
        let (auditor, session) = (self.auditor.clone(), self.session());
        let skip = AuditSkip {
            scenario: scenario.to_string(),
            step: i,
            step_title: rec.title,
            at: Utc::now(),
            auditor,
            session,
            reason,
            superseded: false,
        };
        self.state.audit().skips.push(skip);
        self.save()?;
        let skipped = self.console.style.paint(screen::outcome_sgr(rec.outcome), "PASSÉE");
        self.console.say(&format!("Étape {}/{} {skipped} (non exécutée), motif enregistré.", i + 1, run.step_count()));
        Ok(())
    }

    /// Runs step `i`, shows what happened, records the attestation.
    fn execute(&mut self, run: &mut ScenarioRun<'_>, scenario: &str, i: usize, attempt: u32) -> Result<(), StateError> {
        let messages_before = run.state().messages.len();
        self.console.say("Exécution…");
        // Nothing is contacted before the auditor's first go-ahead: the service identity is
        // recorded then, once per audit.
        if self.state.record.service_identity.is_none() {
            let planned = self.catalogue.scenarios.iter().filter(|l| self.state.planned.contains(&case_name(&l.scenario)));
            let used = crate::runner::identity::endpoints_used(planned.map(|l| &l.scenario));
            let observed = self.rt.block_on(crate::runner::identity::observe(&self.env, &used));
            self.state.record.service_identity = Some(crate::verdict::identity::compare(&self.env.target, observed));
        }
        let rec = self.rt.block_on(run.run_step(i));
        let style = self.console.style;
        let lines: Vec<_> =
            run.state().transcript.lines_from(rec.transcript_from).into_iter().take(rec.transcript_to - rec.transcript_from).collect();
        self.console.say("Échange (C: envoyé par mssconf · S: réponse du serveur · * constat de mssconf) :");
        if lines.is_empty() {
            self.console.say("  (aucun échange réseau)");
        }
        self.console.lines(&screen::transcript(&style, &lines));
        for (m, _) in &run.state().messages[messages_before..] {
            self.console.item("  ", &screen::message(m));
        }
        self.console.say("Vérifications (attendu / obtenu) :");
        if rec.checks.is_empty() {
            self.console.say("  (aucune vérification)");
        }
        for c in &rec.checks {
            self.console.lines(&screen::check(&style, c));
        }
        if let Some(e) = &rec.error {
            let category = rec.error_category.as_deref().unwrap_or("?");
            self.console.item("", &format!("Erreur ({category}) : {}", screen::safe(&crate::verdict::french::reason(e, crate::lang::Lang::Fr))));
        }
        let again = if attempt > 1 { format!(" ({} {attempt})", words::FR.attempt) } else { String::new() };
        self.console.lines(&[format!("Verdict de l'étape {}/{}{again} : {}", i + 1, run.step_count(), style.verdict(rec.outcome))]);
        let observed_at = Utc::now();
        let (auditor, session) = (self.auditor.clone(), self.session());
        let attestation = Attestation {
            scenario: scenario.to_string(),
            step: i,
            step_title: rec.title.clone(),
            attempt,
            outcome: rec.outcome,
            observed_at,
            auditor: auditor.clone(),
            statement: STATEMENT.into(),
            session,
            record_step: Some(run.steps().len() - 1),
            superseded: false,
        };
        self.state.audit().attestations.push(attestation);
        self.save()?;
        self.console.say(&format!("Constat : {STATEMENT} par {auditor}, {}.", format_utc(observed_at)));
        Ok(())
    }

    fn finish(&mut self, run: ScenarioRun<'_>) -> Result<(), StateError> {
        let ScenarioResult { mut record, messages } = run.into_result();
        self.write_evidence(&mut record, messages);
        let verdict = self.console.style.verdict(record.outcome);
        self.console.blank();
        self.console.lines(&[format!("Fin du scénario {} : {verdict}", record.id)]);
        if let Some(reason) = &record.reason {
            self.console.item("", &format!("{} : {}", words::FR.reason, screen::safe(&record.reason_in(reason, Lang::Fr))));
        }
        // Observations and préconisations not followed: said, never a non-conformity.
        for advice in &record.advisories {
            let advice = record.reason_in(advice, Lang::Fr);
            self.console.item("", &format!("Avis (non suivi, sans non-conformité) : {}", screen::safe(&advice)));
        }
        self.state.record.scenarios.push(record);
        self.state.current = None;
        self.save()
    }

    /// Writes the scenario's messages and proofs now: the bytes sent live only in this process,
    /// and a later session may be on another day. A failure is said and remembered, not fatal.
    fn write_evidence(&mut self, record: &mut crate::record::ScenarioRecord, messages: Vec<MessageBytes>) {
        let written = crate::evidence::write_scenario_evidence(&self.state.record, record, messages, &self.dir, self.lang, Some(&self.env.secrets));
        match written {
            Ok(files) if !files.is_empty() => self.console.say(&format!("Preuves écrites : {} fichier(s).", files.len())),
            Ok(_) => {}
            Err(e) => {
                self.state.evidence_failures.push(record.name.clone());
                self.console.item("", &format!("Preuves non écrites : {}", screen::safe(&e.to_string())));
            }
        }
    }
}

/// What a step will do, in plain French: the plan's description of the step, rendered for the
/// auditor (the dry run renders the same description in English).
pub fn step_lines(step: &Step, target: &Target, render: Render<'_>) -> Vec<String> {
    let cx = Context { target, render, checks: None, exec: None };
    describe::fr::lines(&describe::step(step, &cx))
}
