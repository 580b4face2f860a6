//! Redaction of a scenario's record. Transcript lines are scrubbed when recorded, but a server's
//! reply also reaches the record through other paths: a check's `actual` value, a step error, the
//! scenario's reason, a received message's subject. Scrubbing the finished record with the run's
//! secrets closes those paths before any report or proof is rendered.

use crate::secret::SecretSet;
use crate::record::{ScenarioRecord, StepRecord};

/// Replaces every known secret in the free texts of `record` by `<redacted>`.
pub fn scrub_scenario(record: &mut ScenarioRecord, secrets: &SecretSet) {
    let scrub = |t: &mut String| {
        if secrets.leaks(t) {
            *t = secrets.scrub(t);
        }
    };
    record.reason.iter_mut().for_each(scrub);
    for step in &mut record.steps {
        scrub_step(step, secrets);
    }
    for line in &mut record.transcript {
        scrub(&mut line.text);
    }
    for m in &mut record.messages {
        m.subject.iter_mut().for_each(scrub);
        m.message_id.iter_mut().for_each(scrub);
    }
}

/// Scrubs one step's error and checks: done as the step ends, before its record is shown
/// (audit screen) or kept, so nothing unscrubbed leaves the step.
pub fn scrub_step(step: &mut StepRecord, secrets: &SecretSet) {
    let scrub = |t: &mut String| {
        if secrets.leaks(t) {
            *t = secrets.scrub(t);
        }
    };
    step.error.iter_mut().for_each(scrub);
    for c in &mut step.checks {
        scrub(&mut c.what);
        scrub(&mut c.expected);
        scrub(&mut c.actual);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::evidence::testdata::scenario_with_session;
    use crate::verdict::Check;

    #[test]
    fn checks_errors_and_reason_are_scrubbed() {
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("tok-0123456789-canary"));
        let mut s = scenario_with_session();
        s.reason = Some("reply code: got 535 tok-0123456789-canary refused".into());
        s.steps[0].checks.push(Check::new("reply code", "235", "535 tok-0123456789-canary refused", false));
        s.steps[1].error = Some("closed after tok-0123456789-canary".into());
        s.messages[1].subject = Some("Re: tok-0123456789-canary".into());
        scrub_scenario(&mut s, &secrets);
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("tok-0123456789-canary"), "{json}");
        assert_eq!(s.steps[0].checks[1].actual, "535 <redacted> refused");
    }
}
