//! Writing each declared proof as a file in `proofs/` of the report folder, by kind:
//! `log` → `.log` transcript excerpt, `screenshot` → `.png` card, `eml` → the message fetched in
//! the proof's step, `file` → `.json` facts. Proofs of scenarios that did not run get no file.

use std::path::{Path, PathBuf};

use crate::lang::Lang;
use crate::evidence::card::{self, production::production_card, scenario::scenario_card};
use crate::evidence::error::EvidenceError;
use crate::evidence::guard::Guard;
use crate::evidence::logfile::{render_json, render_log};
use crate::evidence::messages::{MessageBytes, write_data};
use crate::exec::message::MessageData;
use crate::evidence::names::proof_file_name;
use crate::plan::filter::PRODUCTION_TAG;
use crate::record::{Outcome, ProofRecord, RunRecord, ScenarioRecord};

/// Folder of the proof files in a report folder.
pub const PROOFS_DIR: &str = "proofs";

/// True for a scenario of the production technical test.
pub fn is_production(s: &ScenarioRecord) -> bool {
    s.tags.iter().any(|t| t == PRODUCTION_TAG)
}

fn ran(s: &ScenarioRecord) -> bool {
    s.started.is_some() && s.outcome != Outcome::Skip
}

/// What a proof file holds: rendered bytes, or a message written from where it already is
/// (never copied: it may be 25 MB).
enum Body<'a> {
    Rendered(Vec<u8>),
    Message(&'a MessageData),
}

/// The body and extension of one proof, or `None` when there is nothing to show.
fn render<'a>(
    run: &RunRecord,
    s: &ScenarioRecord,
    proof: &ProofRecord,
    messages: &'a [MessageBytes],
    lang: Lang,
    guard: &Guard,
) -> Rendered<'a> {
    let step_ran = proof.step.is_none() || crate::evidence::logfile::step_of(run, s, proof).is_some();
    if !ran(s) || !step_ran {
        return Ok(None);
    }
    Ok(match proof.kind.as_str() {
        "log" => Some((Body::Rendered(guard.scrub(&render_log(run, s, proof, lang)).into_bytes()), "log")),
        "file" => Some((Body::Rendered(guard.scrub(&render_json(run, s, proof)).into_bytes()), "json")),
        "eml" => message_for(s, proof, messages).map(|m| (Body::Message(m), "eml")),
        "screenshot" => {
            let mut card = if is_production(s) { production_card(run, s, lang, &proof.id) } else { scenario_card(run, s, proof, lang) };
            card.map_text(|t| guard.scrub(t));
            let png = card::render_png(&card).map_err(|reason| EvidenceError::Render { proof: proof.id.clone(), reason })?;
            Some((Body::Rendered(png), "png"))
        }
        _ => None,
    })
}

/// The message an `eml` proof shows: the last message received in its step, else the last
/// received in the scenario, else the last one sent in its step.
fn message_for<'a>(s: &ScenarioRecord, proof: &ProofRecord, messages: &'a [MessageBytes]) -> Option<&'a MessageData> {
    let received = |i: usize| s.messages.get(i).is_some_and(|r| r.direction == "received");
    let in_step = |m: &MessageBytes| proof.step.is_none() || m.step == proof.step;
    let last = |keep: &dyn Fn(usize, &MessageBytes) -> bool| {
        messages.iter().enumerate().rev().find(|(i, m)| keep(*i, m)).map(|(_, m)| &m.bytes)
    };
    last(&|i, m| in_step(m) && received(i)).or_else(|| last(&|i, _| received(i))).or_else(|| last(&|_, m| in_step(m)))
}

type Rendered<'a> = Result<Option<(Body<'a>, &'static str)>, EvidenceError>;

/// Renders and writes one proof: its path relative to `dir` and its full path, or `None` when
/// there is nothing to show.
fn write_one(dir: &Path, run: &RunRecord, s: &ScenarioRecord, p: usize, messages: &[MessageBytes], lang: Lang, guard: &Guard) -> Result<Option<(String, PathBuf)>, EvidenceError> {
    let Some((body, ext)) = render(run, s, &s.proofs[p], messages, lang, guard)? else {
        return Ok(None);
    };
    let rel = format!("{PROOFS_DIR}/{}", proof_file_name(&s.proofs[p].id, ext));
    let path = match body {
        Body::Rendered(bytes) => guard.write(&dir.join(&rel), &bytes)?,
        Body::Message(m) => write_data(guard, &dir.join(&rel), m)?,
    };
    Ok(Some((rel, path)))
}

/// Writes the proofs of one scenario and sets each `ProofRecord::file`. `run` gives the run's
/// facts only (target, tool, audit): its `scenarios` are not read, so a run still going can
/// pass its header. `messages` are the scenario's message bytes.
pub fn write_scenario_proofs(
    dir: &Path,
    run: &RunRecord,
    s: &mut ScenarioRecord,
    messages: &[MessageBytes],
    lang: Lang,
    guard: &Guard,
) -> Result<Vec<PathBuf>, EvidenceError> {
    let mut written = Vec::new();
    for p in 0..s.proofs.len() {
        if let Some((rel, path)) = write_one(dir, run, s, p, messages, lang, guard)? {
            written.push(path);
            s.proofs[p].file = Some(rel);
        } else {
            s.proofs[p].not_needed = not_needed(run, s, &s.proofs[p]);
        }
    }
    Ok(written)
}

/// The note of a proof's step that did not need to run (`only_if_accepted`), if it is so.
fn not_needed(run: &RunRecord, s: &ScenarioRecord, proof: &ProofRecord) -> Option<String> {
    let (_, step) = crate::evidence::logfile::step_of(run, s, proof)?;
    step.notes.iter().find(|n| n.starts_with(crate::record::NOT_NEEDED)).cloned()
}

/// True for the scenario whose picture is `preuve-test-production.png` when it is the first of
/// its kind in the run: a production scenario that ran.
pub fn shows_production(s: &ScenarioRecord) -> bool {
    is_production(s) && ran(s)
}

/// `preuve-test-production.png` of production scenario `s`, as PNG bytes.
pub fn production_png(run: &RunRecord, s: &ScenarioRecord, lang: Lang, guard: &Guard) -> Result<Vec<u8>, EvidenceError> {
    let mut card = production_card(run, s, lang, card::production::PRODUCTION_PROOF_FILE);
    card.map_text(|t| guard.scrub(t));
    card::render_png(&card).map_err(|reason| EvidenceError::Render { proof: card::production::PRODUCTION_PROOF_FILE.into(), reason })
}

/// Writes the production picture into `dir`.
pub fn write_production_png(dir: &Path, png: &[u8], guard: &Guard) -> Result<PathBuf, EvidenceError> {
    guard.write(&dir.join(card::production::PRODUCTION_PROOF_FILE), png)
}
