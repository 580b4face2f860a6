//! Writing each declared proof as a file in `proofs/` of the report folder, by kind:
//! `log` → `.log` transcript excerpt, `screenshot` → `.png` card, `eml` → the message fetched in
//! the proof's step, `file` → `.json` facts. Proofs of scenarios that did not run get no file.

use std::path::{Path, PathBuf};

use crate::cli::args::Lang;
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
type Written = Result<Option<(String, PathBuf)>, EvidenceError>;

/// Renders and writes one proof: its path relative to `dir` and its full path, or `None` when
/// there is nothing to show.
fn write_one(dir: &Path, run: &RunRecord, i: usize, p: usize, messages: &[Vec<MessageBytes>], lang: Lang, guard: &Guard) -> Written {
    let s = &run.scenarios[i];
    let bytes = messages.get(i).map(Vec::as_slice).unwrap_or_default();
    let Some((body, ext)) = render(run, s, &s.proofs[p], bytes, lang, guard)? else {
        return Ok(None);
    };
    let rel = format!("{PROOFS_DIR}/{}", proof_file_name(&s.proofs[p].id, ext));
    let path = match body {
        Body::Rendered(bytes) => guard.write(&dir.join(&rel), &bytes)?,
        Body::Message(m) => write_data(guard, &dir.join(&rel), m)?,
    };
    Ok(Some((rel, path)))
}

/// Renders and writes every proof of `run`, spreading the work over the machine's cores (a PNG
/// card takes a noticeable fraction of a second in a debug build). Each file is written as soon
/// as it is rendered: a run of 1,000 scenarios must not hold its 1,000 cards in memory at once.
fn write_all(dir: &Path, run: &RunRecord, messages: &[Vec<MessageBytes>], lang: Lang, guard: &Guard) -> Vec<((usize, usize), Written)> {
    let jobs: Vec<(usize, usize)> =
        run.scenarios.iter().enumerate().flat_map(|(i, s)| (0..s.proofs.len()).map(move |p| (i, p))).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let chunk = jobs.len().div_ceil(workers).max(1);
    let one = |&(i, p): &(usize, usize)| ((i, p), write_one(dir, run, i, p, messages, lang, guard));
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>())).collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![((0, 0), Err(EvidenceError::Render { proof: "?".into(), reason: "a rendering thread panicked".into() }))]
                })
            })
            .collect()
    })
}

/// Writes the proofs of every scenario of `run` and sets each `ProofRecord::file`.
/// `messages[i]` holds the message bytes of `run.scenarios[i]`.
pub fn write_proofs(
    dir: &Path,
    run: &mut RunRecord,
    messages: &[Vec<MessageBytes>],
    lang: Lang,
    guard: &Guard,
) -> Result<Vec<PathBuf>, EvidenceError> {
    let mut written = Vec::new();
    for ((i, p), result) in write_all(dir, run, messages, lang, guard) {
        let Some((rel, path)) = result? else {
            continue;
        };
        written.push(path);
        run.scenarios[i].proofs[p].file = Some(rel);
    }
    Ok(written)
}

/// Writes `preuve-test-production.png` for the first production scenario that ran, if any.
pub fn write_production_proof(dir: &Path, run: &RunRecord, lang: Lang, guard: &Guard) -> Result<Option<PathBuf>, EvidenceError> {
    let Some(s) = run.scenarios.iter().find(|s| is_production(s) && ran(s)) else {
        return Ok(None);
    };
    let mut card = production_card(run, s, lang, card::production::PRODUCTION_PROOF_FILE);
    card.map_text(|t| guard.scrub(t));
    let png = card::render_png(&card)
        .map_err(|reason| EvidenceError::Render { proof: card::production::PRODUCTION_PROOF_FILE.into(), reason })?;
    guard.write(&dir.join(card::production::PRODUCTION_PROOF_FILE), &png).map(Some)
}
