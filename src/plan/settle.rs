//! Expectations settled before the run: every `${target.…}` / `${fixtures.…}` of an expectation
//! rendered, and the expectations a scenario leaves implicit written out (a `wait_for` without
//! one must find its message). The runner judges the settled scenario as it is; dry-run and
//! audit show it, so what an auditor reads before a step is what the step is judged against.
//! No IO. A captured value (`${captured.…}`) exists only during the run: validation refuses it
//! in an expectation, and settling says so should one get through.

use crate::scenario::interpolate::{Undefined, Vars};
use crate::scenario::model::{ExpectSlot, ImapExpect, Scenario};

/// An expectation that cannot be settled: a variable it names is not defined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {step}: an expectation names {}", describe(&.undefined.path))]
pub struct Unsettled {
    /// 1-based.
    pub step: usize,
    pub undefined: Undefined,
}

fn describe(path: &str) -> String {
    if path.starts_with("captured.") {
        format!("`${{{path}}}`, a value only known during the run (expectations are settled before it)")
    } else {
        format!("the undefined variable `${{{path}}}`")
    }
}

/// `scenario` with its expectations settled against `vars` (the target and the fixtures).
pub fn settle(scenario: &Scenario, vars: &Vars) -> Result<Scenario, Unsettled> {
    let mut settled = scenario.clone();
    for (i, step) in settled.steps.iter_mut().enumerate() {
        for slot in step.expectations_mut() {
            settle_slot(slot, vars).map_err(|undefined| Unsettled { step: i + 1, undefined })?;
        }
    }
    Ok(settled)
}

fn settle_slot(mut slot: ExpectSlot<'_>, vars: &Vars) -> Result<(), Undefined> {
    if let ExpectSlot::ImapWait(e) = &mut slot {
        e.get_or_insert_with(found);
    }
    slot.texts().into_iter().try_for_each(|t| render(t, vars))
}

/// A wait that names no expectation must find its message. (A wait that ran out is an
/// observation, judged like any other: docs/verdicts.md, deadlines.)
fn found() -> ImapExpect {
    ImapExpect { found: Some(true), ..Default::default() }
}

fn render(text: &mut String, vars: &Vars) -> Result<(), Undefined> {
    if text.contains("${") {
        *text = vars.render(text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut vars = Vars::default();
        vars.set("target", json!({"domain": "op.test"}));
        vars.set("fixtures", json!({"lps": {"nil": "DEV1"}}));
        vars
    }

    fn scenario(steps: &str) -> Scenario {
        let yaml = format!(
            "id: OPE/T.01.01\ntitle: t\nprofile: general\nrequirements: [REM-OPE-MSS/x]\nsteps:\n{steps}"
        );
        crate::yaml::read::parse_yaml(std::path::Path::new("t.yaml"), &yaml).expect("scenario parses")
    }

    fn imap_actions(s: &Scenario, step: usize) -> &[ImapAction] {
        &s.steps[step].imap.as_ref().unwrap().actions
    }

    #[test]
    fn expectation_texts_are_rendered_and_the_original_kept() {
        let s = scenario(
            "  - title: a\n    imap:\n      endpoint: imap\n      actions:\n        - fetch: { uid: '1', expect: { headers: {X-MSS-NIL: '${fixtures.lps.nil}'}, untagged_contains: 'x ${target.domain}', report: {report_type: delivery-status, envelope_id: 'E-${fixtures.lps.nil}'}, observe: { text_contains: '${target.domain}' } } }\n\
             \x20 - title: b\n    http:\n      url: 'http://x/'\n      expect: { whitelist_has: ['${target.domain}'] }\n\
             \x20 - title: c\n    smtp:\n      endpoint: smtp\n      greeting: { capabilities: { has: ['${target.domain}'] } }\n      actions: []\n",
        );
        let settled = settle(&s, &vars()).unwrap();
        let ImapAction::Fetch(f) = &imap_actions(&settled, 0)[0] else { panic!() };
        let e = f.expect.as_ref().unwrap();
        assert_eq!(e.headers["X-MSS-NIL"], "DEV1");
        assert_eq!(e.untagged_contains.as_deref(), Some("x op.test"));
        assert_eq!(e.report.as_ref().unwrap().envelope_id.as_deref(), Some("E-DEV1"));
        assert_eq!(e.observe.as_ref().unwrap().text_contains.as_deref(), Some("op.test"));
        assert_eq!(settled.steps[1].http.as_ref().unwrap().expect.as_ref().unwrap().whitelist_has, ["op.test"]);
        assert_eq!(settled.steps[2].smtp.as_ref().unwrap().greeting.as_ref().unwrap().capabilities.as_ref().unwrap().has, ["op.test"]);
        // The loaded scenario itself is untouched.
        let ImapAction::Fetch(f) = &imap_actions(&s, 0)[0] else { panic!() };
        assert_eq!(f.expect.as_ref().unwrap().headers["X-MSS-NIL"], "${fixtures.lps.nil}");
    }

    #[test]
    fn a_wait_without_expectation_must_find_its_message_and_an_explicit_one_is_kept() {
        let s = scenario(
            "  - title: a\n    imap:\n      endpoint: imap\n      actions:\n        - wait_for: { criteria: ALL }\n        - wait_for: { criteria: ALL, expect: { found: false } }\n",
        );
        let settled = settle(&s, &vars()).unwrap();
        let found: Vec<Option<bool>> = imap_actions(&settled, 0)
            .iter()
            .map(|a| match a {
                ImapAction::WaitFor(w) => w.expect.as_ref().and_then(|e| e.found),
                _ => panic!(),
            })
            .collect();
        assert_eq!(found, [Some(true), Some(false)]);
    }

    #[test]
    fn an_undefined_or_captured_variable_names_the_step() {
        let s = scenario("  - title: a\n    http:\n      url: 'http://x/'\n  - title: b\n    http:\n      url: 'http://x/'\n      expect: { body_contains: ['${target.nope}'] }\n");
        let e = settle(&s, &vars()).unwrap_err();
        assert_eq!(e.step, 2);
        assert!(e.to_string().contains("undefined variable `${target.nope}`"), "{e}");
        let s = scenario("  - title: a\n    http:\n      url: 'http://x/'\n      expect: { body_contains: ['${captured.m1.message_id}'] }\n");
        assert!(settle(&s, &vars()).unwrap_err().to_string().contains("only known during the run"));
    }
}
