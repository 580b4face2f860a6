//! Where each expectation of a scenario file is written, so a failed check can name its line
//! (`scenarios/auth/x.yaml:42:11`, as Hurl does). Read from the file's text with a shadow of the
//! model that keeps only the steps, their actions and the positions of their `expect` keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::model::Pos;

/// `(line, column)`, 1-based.
pub type At = (u64, u64);

/// The expectation positions of one step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepSpans {
    /// SMTP/IMAP `greeting:`.
    pub greeting: Option<At>,
    /// SMTP/IMAP: each action's `expect:`, in order.
    pub actions: Vec<Option<At>>,
    /// HTTP and TLS steps: the step's `expect:`.
    pub expect: Option<At>,
}

/// Which expectation of a step a check comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    Greeting,
    Action(usize),
    Step,
}

impl StepSpans {
    pub fn of(&self, e: Expectation) -> Option<At> {
        match e {
            Expectation::Greeting => self.greeting,
            Expectation::Action(i) => self.actions.get(i).copied().flatten(),
            Expectation::Step => self.expect,
        }
    }
}

/// The spans of every step of `source`, in order; empty when the text does not have the
/// expected shape (the file was validated before it runs, so that only costs the positions).
pub fn expectation_spans(source: &str) -> Vec<StepSpans> {
    let Ok(doc) = serde_saphyr::from_str_with_options::<Doc>(source, crate::yaml::limits::yaml_options()) else { return Vec::new() };
    doc.steps.into_iter().map(StepDoc::spans).collect()
}

fn at(p: &Option<Pos<IgnoredAny>>) -> Option<At> {
    p.as_ref().map(|p| (p.referenced.line(), p.referenced.column()))
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    steps: Vec<StepDoc>,
}

#[derive(Deserialize)]
struct StepDoc {
    #[serde(default)]
    smtp: Option<SessionDoc>,
    #[serde(default)]
    imap: Option<SessionDoc>,
    #[serde(default)]
    http: Option<Expecting>,
    #[serde(default)]
    tls: Option<TlsDoc>,
}

#[derive(Deserialize)]
struct SessionDoc {
    #[serde(default)]
    greeting: Option<Pos<IgnoredAny>>,
    #[serde(default)]
    actions: Vec<BTreeMap<String, Expecting>>,
}

#[derive(Deserialize)]
struct Expecting {
    #[serde(default)]
    expect: Option<Pos<IgnoredAny>>,
}

#[derive(Deserialize)]
struct TlsDoc {
    #[serde(default)]
    handshake: Option<Expecting>,
    #[serde(default)]
    probe: Option<Expecting>,
    #[serde(default)]
    probe_suites_outside_allow_list: Option<Expecting>,
}

impl StepDoc {
    fn spans(self) -> StepSpans {
        if let Some(s) = self.smtp.or(self.imap) {
            let actions = s.actions.iter().map(|a| a.values().next().and_then(|e| at(&e.expect))).collect();
            return StepSpans { greeting: at(&s.greeting), actions, expect: None };
        }
        let tls = self.tls.and_then(|t| t.handshake.or(t.probe).or(t.probe_suites_outside_allow_list));
        StepSpans { expect: self.http.or(tls).and_then(|e| at(&e.expect)), ..Default::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expectation_is_found_where_it_is_written() {
        let src = "id: X\nsteps:\n  - title: a\n    imap:\n      endpoint: imap_starttls\n      greeting: { status: ok }\n      actions:\n        - starttls:\n            expect: { status: ok }\n        - logout: {}\n        - select:\n            folder: INBOX\n            expect: { status: \"no|bad\" }\n  - title: b\n    http:\n      url: x\n      expect: { status: 200 }\n";
        let spans = expectation_spans(src);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].of(Expectation::Greeting), Some((6, 17)));
        assert_eq!(spans[0].actions, vec![Some((9, 21)), None, Some((13, 21))]);
        assert_eq!(spans[1].of(Expectation::Step), Some((17, 15)));
        assert!(expectation_spans("steps: 3").is_empty());
    }
}
