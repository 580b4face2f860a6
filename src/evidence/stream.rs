//! Evidence written while the run goes on: each scenario's `.eml` files and proofs are written
//! by background threads as soon as the scenario ends, so PNG cards (tens of milliseconds each)
//! are drawn while later scenarios wait on the server, and message bytes are dropped once
//! written instead of waiting for the end of the run.
//!
//! The workers get a copy of the scenario's record (cards need its transcript) and its message
//! bytes (moved: they are needed for nothing else); [`EvidenceStream::finish`] puts the file
//! names they wrote into the run's own records.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::lang::Lang;
use crate::evidence::error::EvidenceError;
use crate::evidence::guard::Guard;
use crate::evidence::messages::{MessageBytes, write_messages};
use crate::evidence::proofs::{production_png, shows_production, write_production_png, write_scenario_proofs};
use crate::secret::SecretSet;
use crate::record::{RunRecord, ScenarioRecord};

/// One scenario to write: its place in the run's records, a copy of its record, its messages.
struct Job {
    slot: usize,
    record: ScenarioRecord,
    messages: Vec<MessageBytes>,
}

/// What was written for one scenario: the file of each message and proof (`None`: no file).
struct Done {
    slot: usize,
    message_files: Vec<Option<String>>,
    /// Per proof: its file, or why its step was not needed.
    proof_files: Vec<(Option<String>, Option<String>)>,
    written: Vec<PathBuf>,
    error: Option<EvidenceError>,
}

/// What every worker shares.
struct Shared {
    dir: PathBuf,
    /// The run's facts (target, tool, run id); its `scenarios` stay empty.
    header: RunRecord,
    lang: Lang,
    guard: Guard,
    /// The production picture of the earliest production scenario written so far (by slot):
    /// drawn by the workers too, so that the end of the run does not wait for it.
    production: Mutex<Option<(usize, Result<Vec<u8>, EvidenceError>)>>,
}

type Queue = Arc<Mutex<Receiver<Job>>>;

/// Background writers of a run's evidence.
pub struct EvidenceStream {
    shared: Arc<Shared>,
    jobs: Option<Sender<Job>>,
    queue: Queue,
    workers: Vec<JoinHandle<Vec<Done>>>,
}

impl EvidenceStream {
    /// Prepares `dir` (created; temp files of a killed earlier run removed) and starts `workers`
    /// threads (at least one). `header` is the run's record; its scenarios are ignored.
    pub fn start(dir: &Path, header: &RunRecord, lang: Lang, secrets: Option<&SecretSet>, workers: usize) -> Result<Self, EvidenceError> {
        std::fs::create_dir_all(dir).map_err(|e| EvidenceError::write(dir, e))?;
        // Half-written files of an earlier run killed in this folder go before new ones are written.
        crate::util::atomic::remove_stale_temps(dir).map_err(|e| EvidenceError::write(dir, e))?;
        let header = RunRecord { scenarios: Vec::new(), ..header.clone() };
        let shared = Arc::new(Shared { dir: dir.to_path_buf(), header, lang, guard: Guard::new(secrets.cloned()), production: Mutex::new(None) });
        let (tx, rx) = channel();
        let queue: Queue = Arc::new(Mutex::new(rx));
        let workers = (0..workers.max(1))
            .map(|_| {
                let (shared, queue) = (shared.clone(), queue.clone());
                std::thread::spawn(move || drain(&shared, &queue))
            })
            .collect();
        Ok(EvidenceStream { shared, jobs: Some(tx), queue, workers })
    }

    /// Hands over a finished scenario: a copy of its record, and its message bytes (taken).
    pub fn submit(&self, slot: usize, record: &ScenarioRecord, messages: &mut Vec<MessageBytes>) {
        let job = Job { slot, record: record.clone(), messages: std::mem::take(messages) };
        // The receiver lives as long as `self` (`queue`), so sending cannot fail; jobs left by
        // workers that died are written by `finish`.
        if let Some(tx) = &self.jobs {
            let _ = tx.send(job);
        }
    }

    /// Waits for every scenario submitted (this thread helps), records the files written into
    /// `records` (indexed by the `slot` given to [`submit`](Self::submit)) and writes the
    /// production picture. Every scenario is attempted; the first error is returned.
    pub fn finish(mut self, records: &mut [ScenarioRecord]) -> Result<Vec<PathBuf>, EvidenceError> {
        drop(self.jobs.take());
        let mut done = drain(&self.shared, &self.queue);
        for worker in self.workers.drain(..) {
            match worker.join() {
                Ok(d) => done.extend(d),
                Err(_) => done.push(Done::panicked()),
            }
        }
        // Plan order, whatever order the threads finished in: the files listed and the error
        // reported are the same from one run to the next.
        done.sort_by_key(|d| d.slot);
        let mut written = Vec::new();
        let mut first_error = None;
        for d in done {
            if let Some(r) = records.get_mut(d.slot) {
                apply(r, &d);
            }
            written.extend(d.written);
            if first_error.is_none() {
                first_error = d.error;
            }
        }
        let production = self.shared.production.lock().ok().and_then(|mut p| p.take());
        match production.map(|(_, png)| png.and_then(|png| write_production_png(&self.shared.dir, &png, &self.shared.guard))) {
            Some(Ok(path)) => written.push(path),
            Some(Err(e)) => first_error = first_error.or(Some(e)),
            None => {}
        }
        // Evidence files are written without a flush each; one flush makes them all durable.
        if let Err(e) = crate::util::atomic::sync_filesystem(&self.shared.dir) {
            first_error = first_error.or(Some(EvidenceError::write(&self.shared.dir, e)));
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}

/// Runs jobs until the queue is closed and empty.
fn drain(shared: &Shared, queue: &Queue) -> Vec<Done> {
    let mut done = Vec::new();
    loop {
        // The lock is held only to take a job, not while writing it.
        let job = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return done,
        };
        match job {
            Ok(job) => done.push(write_job(shared, job)),
            Err(_) => return done,
        }
    }
}

/// Writes one scenario's messages and proofs.
fn write_job(shared: &Shared, job: Job) -> Done {
    let Job { slot, mut record, messages } = job;
    let mut written = Vec::new();
    let result = write_messages(&shared.dir, &mut record, &messages, &shared.guard).and_then(|files| {
        written.extend(files);
        write_scenario_proofs(&shared.dir, &shared.header, &mut record, &messages, shared.lang, &shared.guard)
    });
    if shows_production(&record) {
        offer_production(shared, slot, &record);
    }
    let error = match result {
        Ok(files) => {
            written.extend(files);
            None
        }
        Err(e) => Some(e),
    };
    Done {
        slot,
        message_files: record.messages.iter().map(|m| m.file.clone()).collect(),
        proof_files: record.proofs.iter().map(|p| (p.file.clone(), p.not_needed.clone())).collect(),
        written,
        error,
    }
}

/// Draws the production picture of `record` unless an earlier scenario's is already drawn.
fn offer_production(shared: &Shared, slot: usize, record: &ScenarioRecord) {
    let earlier = |p: &Option<(usize, _)>| p.as_ref().is_some_and(|(s, _)| *s < slot);
    if shared.production.lock().map_or(true, |p| earlier(&p)) {
        return;
    }
    let png = production_png(&shared.header, record, shared.lang, &shared.guard);
    if let Ok(mut p) = shared.production.lock()
        && !earlier(&p)
    {
        *p = Some((slot, png));
    }
}

impl Done {
    fn panicked() -> Done {
        let error = EvidenceError::Render { proof: "?".into(), reason: "an evidence thread panicked".into() };
        Done { slot: usize::MAX, message_files: vec![], proof_files: vec![], written: vec![], error: Some(error) }
    }
}

fn apply(record: &mut ScenarioRecord, done: &Done) {
    for (m, file) in record.messages.iter_mut().zip(&done.message_files) {
        m.file = file.clone();
    }
    for (p, (file, not_needed)) in record.proofs.iter_mut().zip(&done.proof_files) {
        p.file = file.clone();
        p.not_needed = not_needed.clone();
    }
}

/// Worker threads for a run: one per core, up to 4. A run mostly waits on the server, so the
/// workers rarely compete with it; fewer let the cards of quick scenarios at the end of a
/// catalogue pile up (measured: 10 scenarios behind with one worker on 2 cores).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}



#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testdata::{message_bytes, run_with, scenario_with_session};

    fn second(id: &str) -> ScenarioRecord {
        let mut s = scenario_with_session();
        s.id = id.into();
        for p in &mut s.proofs {
            p.id = p.id.replace("OPE/PROD.01.01", id);
        }
        s
    }

    #[test]
    fn scenarios_submitted_while_running_get_their_files_at_finish() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_with(vec![]);
        let stream = EvidenceStream::start(dir.path(), &run, Lang::Fr, None, 2).unwrap();
        let mut records = vec![second("OPE/PROD.01.02"), scenario_with_session()];
        // Submitted out of order, as scenarios end; the second slot holds the earlier scenario.
        for slot in [1, 0] {
            let mut bytes = message_bytes();
            stream.submit(slot, &records[slot], &mut bytes);
            assert!(bytes.is_empty(), "the message bytes are taken, not copied");
        }
        let written = stream.finish(&mut records).unwrap();
        for s in &records {
            assert!(s.messages.iter().all(|m| m.file.as_deref().is_some_and(|f| dir.path().join(f).is_file())), "{:?}", s.messages);
            assert!(s.proofs.iter().all(|p| p.file.as_deref().is_some_and(|f| dir.path().join(f).is_file())), "{:?}", s.proofs);
        }
        assert_ne!(records[0].proofs[0].file, records[1].proofs[0].file);
        assert!(written.iter().all(|f| f.is_file()));
        assert_eq!(written.len(), 2 * (2 + 4) + 1, "{written:?}");
    }

    #[test]
    fn the_production_picture_is_the_first_production_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let stream = EvidenceStream::start(dir.path(), &run_with(vec![]), Lang::Fr, None, 1).unwrap();
        let mut failed = scenario_with_session();
        failed.outcome = crate::record::Outcome::Fail;
        let mut records = vec![failed, scenario_with_session()];
        // The later scenario ends first: its picture must be replaced by the earlier one's.
        stream.submit(1, &records[1], &mut message_bytes());
        stream.submit(0, &records[0], &mut message_bytes());
        stream.finish(&mut records).unwrap();
        let png = std::fs::read(dir.path().join(crate::evidence::card::production::PRODUCTION_PROOF_FILE)).unwrap();
        let expected = production_png(&run_with(vec![]), &records[0], Lang::Fr, &Guard::new(None)).unwrap();
        assert_eq!(png, expected, "the picture of slot 0 (failed), not of slot 1");
    }

    #[test]
    fn nothing_submitted_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let stream = EvidenceStream::start(&dir.path().join("new"), &run_with(vec![]), Lang::Fr, None, 1).unwrap();
        assert!(stream.finish(&mut []).unwrap().is_empty());
        assert!(dir.path().join("new").is_dir());
    }
}
