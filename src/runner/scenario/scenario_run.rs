//! One scenario run step by step: `run_scenario` drives it straight through; audit mode drives
//! it one step at a time under an auditor's eyes (a step may be run again, or skipped).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{collect_proofs, first_problem, run_step, step_record};
use crate::exec::env::RunEnv;
use crate::exec::error::{Category, ExecError};
use crate::exec::timing::{Split, WaitMeter};
use crate::exec::transcript::Transcript;
use crate::record::{Outcome, ScenarioRecord, StepRecord};
use crate::scenario::spans::{StepSpans, expectation_spans};
use crate::scenario::interpolate::Vars;
use crate::scenario::load::Loaded;
use crate::scenario::model::Scenario;
use crate::plan::settle::settle;

use super::{ScenarioResult, ScenarioState, StepOutput, blank_record};
use crate::evidence::MessageBytes;

/// A scenario being run. Steps keep their state (captured values, sent messages, transcript)
/// between calls; every attempt of a step is kept in the record, the latest one decides.
pub struct ScenarioRun<'a> {
    env: Arc<RunEnv>,
    loaded: &'a Loaded,
    /// The scenario with its expectations settled (`plan::settle`), or why they cannot be: then
    /// every step ends in error, nothing is sent.
    settled: Result<Arc<Scenario>, String>,
    record: ScenarioRecord,
    st: ScenarioState,
    clock: Instant,
    /// Time spent inside steps: the scenario timeout bounds this, not an auditor's pauses.
    busy: Duration,
    /// Per step: the outcome of its latest attempt and the first problem seen (`None`: not run).
    latest: Vec<Option<(Outcome, Option<String>)>>,
    proofs_taken: Vec<bool>,
    /// Per step: the observations and préconisations its latest attempt saw not followed.
    advice: Vec<Vec<String>>,
    /// The step each message of `st.messages` was seen in (for the `eml` proofs).
    message_steps: Vec<Option<usize>>,
    /// Where each step's expectations are written in the scenario file.
    spans: Vec<StepSpans>,
}

impl<'a> ScenarioRun<'a> {
    pub fn new(env: Arc<RunEnv>, loaded: &'a Loaded) -> Self {
        let mut record = blank_record(loaded);
        record.started = Some(Utc::now());
        let vars = Vars::at_start(env.target_vars.clone(), env.fixtures.clone());
        let settled = settle(&loaded.scenario, &vars).map(Arc::new).map_err(|e| e.to_string());
        let mut st = ScenarioState::new(vars, Transcript::within(env.secrets.clone(), env.transcripts.clone()));
        st.file = record.file.strip_prefix("./").unwrap_or(&record.file).to_string();
        let n = loaded.scenario.steps.len();
        ScenarioRun {
            env,
            loaded,
            settled,
            record,
            st,
            clock: Instant::now(),
            busy: Duration::ZERO,
            latest: vec![None; n],
            proofs_taken: vec![false; n],
            advice: vec![Vec::new(); n],
            message_steps: Vec::new(),
            spans: expectation_spans(&loaded.source),
        }
    }

    pub fn loaded(&self) -> &'a Loaded {
        self.loaded
    }

    /// The scenario as it runs: expectations settled (the loaded one when they cannot be).
    pub fn scenario(&self) -> &Scenario {
        self.settled.as_deref().unwrap_or(&self.loaded.scenario)
    }

    pub fn step_count(&self) -> usize {
        self.latest.len()
    }

    /// Variables, messages and transcript so far (to describe the next step, or show this one).
    pub fn state(&self) -> &ScenarioState {
        &self.st
    }

    /// Step records so far, attempts and skips included, in the order they happened.
    pub fn steps(&self) -> &[StepRecord] {
        &self.record.steps
    }

    /// Runs step `i` (again, if it already ran) within its timeout and what is left of the
    /// scenario's; returns its record, also kept for the scenario.
    pub async fn run_step(&mut self, i: usize) -> StepRecord {
        let scenario = match self.settled.clone() {
            Ok(s) => s,
            Err(why) => {
                let out = StepOutput { error: Some(ExecError::harness(why)), ..Default::default() };
                return self.keep(i, blank_step(i), &out);
            }
        };
        let Some(step) = scenario.steps.get(i) else {
            let out = StepOutput { error: Some(ExecError::harness(format!("no step {i} in this scenario"))), ..Default::default() };
            return self.keep(i, blank_step(i), &out);
        };
        let left = Duration::from_millis(self.env.target.timeouts.scenario).saturating_sub(self.busy);
        let step_budget = Duration::from_millis(step.timeout_ms.unwrap_or(self.env.target.timeouts.step)).min(left);
        let from = self.st.transcript.len();
        self.st.spans = self.spans.get(i).cloned().unwrap_or_default();
        let step_clock = Instant::now();
        let meter = WaitMeter::new();
        let mut out = if let Some(why) = self.not_needed(step) {
            self.st.transcript.note(&why);
            StepOutput { notes: vec![why], ..Default::default() }
        } else {
            match tokio::time::timeout(step_budget, meter.scope(run_step(&self.env, &mut self.st, step))).await {
                Ok(out) => out,
                Err(_) => StepOutput {
                    error: Some(ExecError::timeout(format!("step did not finish within {} ms", step_budget.as_millis()))),
                    ..Default::default()
                },
            }
        };
        crate::verdict::weigh(self.loaded.scenario.nature, &mut out.checks);
        if step.precondition {
            unmet_precondition(&mut out);
        }
        self.advice[i] = out.checks.iter().filter(|c| c.unmet_advice()).map(|c| format!("step {}: {}", i + 1, c.summary())).collect();
        let took = step_clock.elapsed();
        self.busy += took;
        self.message_steps.resize(self.st.messages.len(), Some(i));
        if let Some(e) = out.error.as_ref().filter(|e| e.category() != Category::Harness) {
            // The transcript ends where the exchange with the server broke, with why. (A harness
            // refusal adds nothing: its empty transcript proves nothing was sent.)
            self.st.transcript.note(&format!("step ended in error ({}): {}", e.category().name(), e.message()));
        }
        let rec = step_record(step, &out, from, self.st.transcript.len(), Split::of(took, meter.total()));
        if !self.proofs_taken[i] {
            self.proofs_taken[i] = true;
            collect_proofs(&mut self.record, &step.proofs, Some(i));
        }
        self.keep(i, rec, &out)
    }

    /// Why step `step` need not run: its `only_if_accepted` transaction was refused (a
    /// conformant alternative). `None` when it runs.
    fn not_needed(&self, step: &crate::scenario::model::Step) -> Option<String> {
        let name = &step.only_if_accepted.as_ref()?.value;
        let seen = self.st.vars.get(&format!("captured.{name}"));
        let field = |f: &str| seen.and_then(|v| v.get(f)).and_then(|v| v.as_str()).unwrap_or("");
        match field("outcome") {
            "accepted" => None,
            "refused" => Some(format!(
                "{} the transaction `{name}` was refused at {} ({}), which is conformant for this scenario",
                crate::record::NOT_NEEDED,
                field("stage_name"),
                field("reply")
            )),
            // Not run (an audit skipped it): this step has nothing to go on; run it, it will say.
            _ => None,
        }
    }

    /// Records step `i` as not run, for `reason` (an auditor's choice).
    pub fn skip_step(&mut self, i: usize, reason: &str) -> StepRecord {
        let mut rec = blank_step(i);
        if let Some(step) = self.loaded.scenario.steps.get(i) {
            rec.title = step.title.value.clone();
            rec.kind = step.action().map(|a| a.kind()).unwrap_or("?").to_string();
        }
        rec.outcome = Outcome::Skip;
        let n = self.st.transcript.len();
        (rec.transcript_from, rec.transcript_to) = (n, n);
        if let Some(slot) = self.latest.get_mut(i) {
            *slot = Some((Outcome::Skip, Some(format!("step {} skipped: {reason}", i + 1))));
        }
        self.record.steps.push(rec.clone());
        rec
    }

    fn keep(&mut self, i: usize, mut rec: StepRecord, out: &StepOutput) -> StepRecord {
        // Scrubbed here, before the record leaves the step (the audit screen prints it at once).
        let secrets = &self.env.secrets;
        crate::evidence::redact::scrub_step(&mut rec, secrets);
        if let Some(slot) = self.latest.get_mut(i) {
            *slot = Some((rec.outcome, first_problem(out).map(|p| secrets.scrub(&p))));
        }
        self.record.steps.push(rec.clone());
        rec
    }

    /// Whether the scenario is over: a step's latest attempt did not pass (later steps do not
    /// run), or every step ran or was skipped.
    pub fn is_over(&self) -> bool {
        self.latest.iter().all(Option::is_some) || self.stopped_at().is_some()
    }

    /// The first step whose latest attempt failed or ended in error.
    pub fn stopped_at(&self) -> Option<usize> {
        self.latest.iter().position(|l| matches!(l, Some((Outcome::Fail | Outcome::Error, _))))
    }

    /// The scenario's record. Its verdict: the first failed step, else the first step in error,
    /// else the first skipped step, else pass when every step ran.
    pub fn finish(self) -> ScenarioRecord {
        self.into_result().record
    }

    /// [`finish`](Self::finish), keeping the messages' bytes and steps (for `.eml` evidence).
    pub fn into_result(mut self) -> ScenarioResult {
        let (outcome, reason) = crate::verdict::outcome::scenario_outcome(&self.latest);
        self.record.outcome = outcome;
        if reason.is_some() || outcome != Outcome::Pass {
            self.record.reason = reason;
        }
        collect_proofs(&mut self.record, &self.loaded.scenario.proofs, None);
        // Beside a failure or an error they would only repeat it in other words.
        if self.record.outcome == Outcome::Pass {
            self.record.advisories = self.advice.concat();
        }
        self.record.transcript = self.st.transcript.lines();
        self.record.messages = self.st.messages.iter().map(|(m, _)| m.clone()).collect();
        crate::evidence::redact::scrub_scenario(&mut self.record, &self.env.secrets);
        // Last, so that the scenario's own work (redaction included) is in its harness time.
        let waited: u64 = self.record.steps.iter().map(|s| s.server_wait_ms).sum();
        let split = Split::of(self.clock.elapsed(), Duration::from_millis(waited));
        (self.record.duration_ms, self.record.server_wait_ms, self.record.harness_ms) = (split.total_ms, split.server_wait_ms, split.harness_ms);
        let messages = std::mem::take(&mut self.st.messages).into_iter().zip(self.message_steps);
        let messages = messages.map(|((_, bytes), step)| MessageBytes { step, bytes }).collect();
        ScenarioResult { record: self.record, messages }
    }
}

fn blank_step(i: usize) -> StepRecord {
    StepRecord {
        title: format!("step {}", i + 1),
        kind: "?".into(),
        outcome: Outcome::Error,
        checks: vec![],
        error: None,
        error_category: None,
        transcript_from: 0,
        transcript_to: 0,
        duration_ms: 0,
        server_wait_ms: 0,
        harness_ms: 0,
        notes: vec![],
    }
}

/// A failed check of a `precondition` step says the profile's material does not fit the
/// operator's published data: the step ends in error (category harness: the profile is at fault).
fn unmet_precondition(out: &mut StepOutput) {
    if out.error.is_some() {
        return;
    }
    let unmet: Vec<String> = out.checks.iter().filter(|c| c.fails()).map(|c| c.summary()).collect();
    if !unmet.is_empty() {
        out.error = Some(ExecError::harness(format!(
            "precondition not met, the target profile must be fixed (this is not a verdict on the operator): {}",
            unmet.join("; ")
        )));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::yaml::read::parse_yaml;
    use crate::target::model::Target;

    /// A "server" that accepts and hangs up at once: a TLS 1.0 probe sees it refuse.
    async fn hang_up_server() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        port
    }

    fn env(port: u16) -> Arc<RunEnv> {
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\n\
             server_name: mx.op.test\ntrust_anchors: []\nmailboxes: {{}}\n\
             endpoints: {{ imap_implicit: {{ host: 127.0.0.1, port: {port}, tls: implicit }} }}\n"
        );
        let target: Target = parse_yaml(Path::new("t.yaml"), &yaml).unwrap();
        RunEnv::new(target, serde_json::Value::Null, "fixtures".into(), "run".into()).unwrap()
    }

    /// Step 1 waits, step 2 probes TLS 1.0 expecting `established`, step 3 waits.
    fn scenario(established: bool) -> Loaded {
        let source = format!(
            "id: OPE/TLS.02.99\ntitle: t\nrequirements: [OPE/TLS.02]\nprofile: general\nsteps:\n\
             - {{ title: pause, wait: {{ ms: 1 }} }}\n\
             - title: sonde\n  tls: {{ endpoint: imap_implicit, probe: {{ version: '1.0', expect: {{ established: {established} }} }} }}\n\
             - {{ title: pause, wait: {{ ms: 1 }} }}\n"
        );
        let scenario = parse_yaml(Path::new("s.yaml"), &source).unwrap();
        Loaded { file: "s.yaml".into(), source, scenario }
    }

    /// A server whose greeting echoes a token, with the token again across the 160-character
    /// cut of a `contains` check: the step record handed out by `run_step` (what the audit
    /// screen prints at once) holds neither the token nor its start.
    #[tokio::test]
    async fn a_step_record_leaves_the_step_scrubbed_even_where_a_quote_is_cut() {
        const TOKEN: &str = "eyJcanary.tok3n-echoed-by-the-server.s1gnature";
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            if let Ok((mut sock, _)) = listener.accept().await {
                let pad = "x".repeat(150 - 14);
                let greeting = format!("554 5.7.0 {pad} {TOKEN} and {TOKEN}\r\n");
                let _ = sock.write_all(greeting.as_bytes()).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\n\
             server_name: mx.op.test\ntrust_anchors: []\nmailboxes: {{}}\n\
             endpoints: {{ smtp_starttls: {{ host: 127.0.0.1, port: {port}, tls: starttls }} }}\n"
        );
        let target: Target = parse_yaml(Path::new("t.yaml"), &yaml).unwrap();
        let env = RunEnv::new(target, serde_json::Value::Null, "fixtures".into(), "run".into()).unwrap();
        env.secrets.register(&crate::secret::Secret::new(TOKEN));
        let source = "id: OPE/SUB.01.99\ntitle: t\nrequirements: [OPE/SUB.01]\nprofile: general\nsteps:\n\
             - title: accueil\n  smtp: { endpoint: smtp_starttls, greeting: { code: '220', text_contains: 'bienvenue' }, actions: [] }\n";
        let loaded = Loaded { file: "s.yaml".into(), source: source.into(), scenario: parse_yaml(Path::new("s.yaml"), source).unwrap() };
        let mut run = ScenarioRun::new(env, &loaded);
        let rec = run.run_step(0);
        let rec = rec.await;
        let shown = format!("{:?} {:?}", rec.checks, rec.error);
        assert!(shown.contains("<redacted>"), "{shown}");
        for start in [&TOKEN[..12], "tok3n-echo"] {
            assert!(!shown.contains(start), "`{start}` shown: {shown}");
        }
    }

    #[tokio::test]
    async fn straight_run_passes_and_keeps_one_record_per_step() {
        let (env, loaded) = (env(hang_up_server().await), scenario(false));
        let record = super::super::run_scenario(env, &loaded).await;
        assert_eq!(record.outcome, Outcome::Pass, "{:?}", record.reason);
        assert_eq!(record.steps.len(), 3);
        assert!(record.transcript.iter().any(|l| l.conn.starts_with("probe#")));
    }

    #[tokio::test]
    async fn a_failed_step_stops_the_straight_run() {
        let (env, loaded) = (env(hang_up_server().await), scenario(true));
        let record = super::super::run_scenario(env, &loaded).await;
        assert_eq!(record.outcome, Outcome::Fail);
        assert_eq!(record.steps.len(), 2, "the step after the failure does not run");
        assert!(record.reason.unwrap().contains("expected"));
    }

    #[tokio::test]
    async fn repeated_steps_keep_every_attempt_and_the_latest_decides() {
        let (env, loaded) = (env(hang_up_server().await), scenario(true));
        let mut run = ScenarioRun::new(env, &loaded);
        assert_eq!(run.run_step(0).await.outcome, Outcome::Pass);
        assert_eq!(run.run_step(1).await.outcome, Outcome::Fail);
        assert_eq!((run.stopped_at(), run.is_over()), (Some(1), true));
        assert_eq!(run.run_step(1).await.outcome, Outcome::Fail);
        let second = &run.steps()[2];
        assert!(second.transcript_from >= run.steps()[1].transcript_to, "attempts have their own lines");
        let record = run.finish();
        assert_eq!((record.outcome, record.steps.len()), (Outcome::Fail, 3));
    }

    #[tokio::test]
    async fn skipped_step_makes_the_scenario_skipped_with_the_reason() {
        let (env, loaded) = (env(hang_up_server().await), scenario(true));
        let mut run = ScenarioRun::new(env, &loaded);
        run.run_step(0).await;
        assert_eq!(run.skip_step(1, "hors périmètre").outcome, Outcome::Skip);
        assert!(!run.is_over());
        run.run_step(2).await;
        assert!(run.is_over());
        let record = run.finish();
        assert_eq!(record.outcome, Outcome::Skip);
        assert_eq!(record.reason.as_deref(), Some("step 2 skipped: hors périmètre"));
    }

    /// A transaction refused at RCPT, then a step only needed if it had been accepted.
    #[tokio::test]
    async fn a_step_only_needed_after_an_acceptance_is_passed_with_its_reason() {
        use crate::exec::smtp::testkit::{ScriptedServer, Step, expect, send};
        let script = vec![
            send("220 mx ESMTP\r\n"),
            expect("EHLO mssconf.test"),
            send("250 mx\r\n"),
            expect("MAIL FROM:<per1@op.test>"),
            send("250 ok\r\n"),
            expect("RCPT TO:<per1@op.test>"),
            send("550 5.1.1 <per1@op.test>: Recipient address rejected\r\n"),
            expect("RSET"),
            send("250 ok\r\n"),
            Step::Close,
        ];
        let server = ScriptedServer::start(script, None, false).await;
        let source = "id: OPE/DSN.02.99\ntitle: t\nrequirements: [OPE/DSN.02]\nprofile: general\nsteps:\n\
            - title: envoi\n  smtp: { endpoint: smtp_starttls, actions: [ { ehlo: {} }, \
              { transaction: { from: per1@op.test, to: [per1@op.test], capture: tx, expect: { outcome: either, refused_at: [rcpt] } } } ] }\n\
            - { title: rapport, only_if_accepted: tx, wait: { ms: 60000 } }\n"
            .to_string();
        let scenario = parse_yaml(Path::new("s.yaml"), &source).unwrap();
        let loaded = Loaded { file: "s.yaml".into(), source, scenario };
        let record = super::super::run_scenario(crate::runner::scenario::driver::tests::env(server.port), &loaded).await;
        server.finish().await;
        assert_eq!(record.outcome, Outcome::Pass, "{:?}", record.reason);
        let note = &record.steps[1].notes[0];
        assert!(note.starts_with(crate::record::NOT_NEEDED) && note.contains("refused at RCPT TO (550 5.1.1"), "{note}");
        assert!(record.steps[1].duration_ms < 60_000, "the wait step did not run");
    }

    /// A precondition step whose check fails ends the scenario in error, never « non conforme ».
    #[tokio::test]
    async fn an_unmet_precondition_is_an_error_not_a_failure() {
        use crate::exec::smtp::testkit::{ScriptedServer, Step, expect, send};
        let script = vec![send("220 mx ESMTP\r\n"), expect("EHLO mssconf.test"), send("250 mx\r\n"), Step::Close];
        let server = ScriptedServer::start(script, None, false).await;
        let source = "id: OPE/SUB.03.99\ntitle: t\nrequirements: [OPE/SUB.03]\nprofile: general\nsteps:\n\
            - title: profil\n  precondition: true\n  smtp: { endpoint: smtp_starttls, actions: [ { ehlo: { expect: { code: \"554\" } } } ] }\n"
            .to_string();
        let scenario = parse_yaml(Path::new("s.yaml"), &source).unwrap();
        let loaded = Loaded { file: "s.yaml".into(), source, scenario };
        let record = super::super::run_scenario(crate::runner::scenario::driver::tests::env(server.port), &loaded).await;
        server.finish().await;
        assert_eq!(record.outcome, Outcome::Error, "{:?}", record.reason);
        let error = record.steps[0].error.as_deref().unwrap_or_default();
        assert!(error.starts_with("precondition not met") && error.contains("554"), "{error}");
    }

    #[tokio::test]
    async fn unfinished_run_is_interrupted() {
        let (env, loaded) = (env(hang_up_server().await), scenario(false));
        let mut run = ScenarioRun::new(env, &loaded);
        run.run_step(0).await;
        let record = run.finish();
        assert_eq!(record.outcome, Outcome::Interrupted);
        assert_eq!(record.reason.as_deref(), Some("stopped after 1 of 3 steps"));
    }
}

