//! The audit screen and the dry run describe a step from the same description: the facts of
//! each item (where it connects, who logs in by which mechanism, the envelope, the messages, the
//! commands, the URLs) appear in both front ends' lines, for every step of the catalogue. And
//! the login form described is the one the executor plays.

use std::path::Path;

use super::*;
use crate::scenario::catalogue::{Sources, load};
use crate::scenario::interpolate::Vars;
use crate::scenario::model::Scenario;

/// Stands for the executor: the facts it gives change no fact checked here.
struct Executor;

impl ExecFacts for Executor {
    fn message_size(&self, _: &MessageSpec) -> (usize, bool) {
        (1234, true)
    }

    fn opens_a_message(&self, line: &str) -> bool {
        line.eq_ignore_ascii_case("DATA")
    }

    fn key_exchange_offers(&self) -> Vec<String> {
        vec!["DHE suites only".into()]
    }
}

/// `host:port`, or the endpoint's name when the profile does not declare it.
fn at(a: &At<'_>) -> String {
    a.endpoint.map_or_else(|| a.name.to_string(), |e| format!("{}:{}", e.host, e.port))
}

fn message(f: &mut Vec<String>, m: &Message<'_>) {
    f.extend([m.spec.name.value.clone(), m.subject.clone(), m.from.clone()]);
    f.extend(m.to.iter().cloned());
}

/// What both renderings must say of a step (items the dry run does not plan are left out).
fn facts(d: &StepDescription<'_>) -> Vec<String> {
    let mut f = Vec::new();
    for i in &d.items {
        match &i.does {
            Does::Connect(c) => f.push(at(&c.at)),
            Does::Tls(t) => match &t.kind {
                TlsKind::Families(Err(_)) | TlsKind::Nothing => {}
                TlsKind::Families(Ok(families)) => {
                    f.push(at(&t.at));
                    f.extend(families.iter().map(|x| x.id.clone()));
                }
                _ => f.push(at(&t.at)),
            },
            Does::Login(l) => {
                f.push(l.mailbox.role.to_string());
                if let LoginForm::Sasl { mechanism, instead_of, .. } = &l.form {
                    f.push(mechanism.name().to_string());
                    f.extend(instead_of.map(|w| w.name().to_string()));
                }
            }
            Does::PlainLogin { user } => f.push(user.clone()),
            Does::MailFrom { address, .. } => f.push(address.clone()),
            Does::RcptTo(r) => f.push(r.address.clone()),
            Does::Message(m) => message(&mut f, m),
            Does::Transaction(t) => {
                f.push(t.from.clone());
                f.extend(t.to.iter().map(|r| r.address.clone()));
                if let Some(m) = &t.message {
                    message(&mut f, m);
                }
            }
            Does::RawCommand { line, .. } => f.push(line.clone()),
            Does::Starttls { .. } => f.push("STARTTLS".into()),
            Does::Append { message, folder, .. } => f.extend([message.to_string(), folder.clone()]),
            Does::WaitFor(w) => f.push(w.folder.clone()),
            Does::Http(h) => f.extend([h.method.clone(), h.url.clone()]),
            Does::Wait { ms } => f.push(format!("{ms} ms")),
            _ => {}
        }
    }
    f
}

/// The dry run's lines of each step (`step N "…"` then its indented lines).
fn per_step(lines: &[String]) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for l in lines {
        match steps.last_mut() {
            Some(s) if !l.starts_with("step ") => {
                s.push('\n');
                s.push_str(l);
            }
            _ => steps.push(l.clone()),
        }
    }
    steps
}

#[test]
fn the_audit_screen_and_the_dry_run_state_the_same_facts_of_every_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogue = load(&Sources::under(root)).unwrap();
    let target = crate::target::load::load_target(&root.join("targets/example-operator.yaml")).unwrap();
    let mut vars = Vars::default();
    vars.set("target", serde_json::to_value(&target).unwrap());
    vars.set("fixtures", catalogue.fixtures.clone());
    let render = |t: &str| vars.render(t).unwrap_or_else(|_| t.to_string());
    let guard = crate::fixtures::guard::Guard::new(&catalogue.fixtures, &target).map_err(|e| e.to_string());
    let hosts = HostAllowList::of(&target);
    let cx = Context { target: &target, render: &render, checks: Some(Checks { guard: &guard, hosts: &hosts }), exec: Some(&Executor) };
    let (mut steps, mut checked) = (0, 0);
    for loaded in &catalogue.scenarios {
        let s: &Scenario = &loaded.scenario;
        let (en, _) = crate::cli::dry_run::scenario_lines(&cx, s);
        let en = per_step(&en);
        assert_eq!(en.len(), s.steps.len(), "{}: one dry-run block per step\n{}", s.id.value, en.join("\n"));
        for (i, step) in s.steps.iter().enumerate() {
            let fr = crate::audit::session::step_lines(step, &target, &render).join("\n");
            for fact in facts(&super::step(step, &cx)) {
                let at = format!("{} step {}", s.id.value, i + 1);
                assert!(fr.contains(&fact), "{at}: the audit screen does not say `{fact}`:\n{fr}");
                assert!(en[i].contains(&fact), "{at}: the dry run does not say `{fact}`:\n{}", en[i]);
                checked += 1;
            }
            steps += 1;
        }
    }
    assert!(steps > 100 && checked > 500, "the catalogue was walked: {steps} steps, {checked} facts");
}
