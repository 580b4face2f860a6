//! Stage 2 of the pipeline. Scenario + target → plan: which scenarios run, and why the others are
//! skipped (here); their expectations settled against the target ([`settle`]); how a mailbox
//! logs in there ([`login`]); what each step will do, for the dry run and the audit screen
//! ([`describe`]). No IO here: everything needed was loaded before.

pub mod describe;
pub mod filter;
pub mod login;
pub mod production;
pub mod settle;
pub mod shard;

use crate::scenario::interpolate::{lookup, references, scalar_text};
use crate::scenario::load::Loaded;
use crate::scenario::model::*;
use crate::target::model::Target;

/// One scenario of the plan.
#[derive(Debug)]
pub struct PlannedCase<'a> {
    pub loaded: &'a Loaded,
    /// `<profile>::<scenario id>`, the trial name in `cargo test --test conformance`.
    pub name: String,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Skip { reason: String },
}

/// The trial / report name of a scenario.
pub fn case_name(s: &Scenario) -> String {
    format!("{}::{}", s.profile.name(), s.id.value)
}

/// Plans the selected scenarios against `target`.
pub fn plan<'a>(scenarios: &'a [Loaded], filter: &filter::Filter, target: &Target) -> Vec<PlannedCase<'a>> {
    let planner = Planner::new(target);
    scenarios
        .iter()
        .filter(|l| filter.selects(&l.scenario))
        .map(|l| PlannedCase { loaded: l, name: case_name(&l.scenario), decision: planner.decide(l) })
        .collect()
}

/// Decides, scenario by scenario, whether it can run on one target. Every front end (`run`,
/// `audit`, `cargo test --test conformance`) decides through it, so they skip the same
/// scenarios for the same reasons.
pub struct Planner<'t> {
    target: &'t Target,
    target_vars: serde_json::Value,
}

impl<'t> Planner<'t> {
    pub fn new(target: &'t Target) -> Self {
        Planner { target, target_vars: serde_json::to_value(target).unwrap_or_default() }
    }

    /// Why `l` cannot run on this target (missing endpoint, mailbox, certificate, negative
    /// material, or an optional profile field its `${target.…}` variables name), or `Run`.
    pub fn decide(&self, l: &Loaded) -> Decision {
        match missing(&l.scenario, self.target) {
            Some(reason) => Decision::Skip { reason },
            None => match absent_target_field(&l.source, &self.target_vars) {
                Some(reason) => Decision::Skip { reason },
                None => Decision::Run,
            },
        }
    }
}

/// A `${target.…}` variable of the scenario naming an optional field this target leaves out
/// (e.g. `http.autoconfig`): the scenario cannot run here. Validation has already checked that
/// the path exists in the profile format.
pub fn absent_target_field(source: &str, target_vars: &serde_json::Value) -> Option<String> {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(references)
        .filter_map(|r| r.path.strip_prefix("target.").map(str::to_string))
        .find(|path| lookup(target_vars, path).and_then(scalar_text).is_none())
        .map(|path| format!("the target profile has no `{path}` (used as `${{target.{path}}}`)"))
}

/// Why a scenario cannot run on this target, or `Run` (see [`Planner::decide`]).
pub fn decide(l: &Loaded, t: &Target) -> Decision {
    Planner::new(t).decide(l)
}

fn missing(s: &Scenario, t: &Target) -> Option<String> {
    if !t.claims(s.profile) {
        return Some(format!("the target does not claim profile `{}`", s.profile.name()));
    }
    for step in &s.steps {
        if let Some(reason) = step.action().and_then(|a| missing_for(a, t)) {
            return Some(reason);
        }
    }
    None
}

fn missing_for(action: StepAction<'_>, t: &Target) -> Option<String> {
    let endpoint = |name: &str| (!t.endpoints.contains_key(name)).then(|| format!("the target declares no endpoint `{name}`"));
    match action {
        StepAction::Smtp(s) => endpoint(&s.endpoint.value)
            .or_else(|| cert_missing(&s.client_cert, t))
            .or_else(|| s.actions.iter().find_map(|a| match a {
                SmtpAction::Auth(x) => auth_missing(&x.mailbox.value, &x.credential, t),
                _ => None,
            })),
        StepAction::Imap(s) => endpoint(&s.endpoint.value)
            .or_else(|| cert_missing(&s.client_cert, t))
            .or_else(|| s.actions.iter().find_map(|a| match a {
                ImapAction::Authenticate(x) => auth_missing(&x.mailbox.value, &x.credential, t),
                _ => None,
            })),
        StepAction::Tls(s) => endpoint(&s.endpoint.value),
        StepAction::Http(_) | StepAction::Wait(_) => None,
    }
}

fn auth_missing(role: &str, cred: &Credential, t: &Target) -> Option<String> {
    if !t.mailboxes.contains_key(role) {
        return Some(format!("the target declares no mailbox `{role}`"));
    }
    match cred {
        Credential::Expired if t.negative.expired_token.is_none() => {
            Some("the target provides no expired token (`negative.expired_token`)".into())
        }
        Credential::Revoked if t.negative.revoked_token.is_none() => {
            Some("the target provides no revoked token (`negative.revoked_token`)".into())
        }
        Credential::TokenOf(other) if !t.mailboxes.contains_key(&other.value) => {
            Some(format!("the target declares no mailbox `{}`", other.value))
        }
        Credential::Derived(d) => derived_missing(role, d, t),
        _ => None,
    }
}

/// A derived token needs the valid token of the mailbox it comes from, and for a subject
/// alteration the token of the mailbox logging in (whose identity it borrows).
fn derived_missing(role: &str, d: &DerivedToken, t: &Target) -> Option<String> {
    let from = d.from.as_ref().map_or(role, |f| f.value.as_str());
    let mut needs = vec![from];
    if d.alter == Alteration::Subject {
        needs.push(role);
    }
    needs.into_iter().find_map(|r| match t.mailboxes.get(r) {
        None => Some(format!("the target declares no mailbox `{r}`")),
        Some(m) if m.token.is_none() => Some(format!("mailbox `{r}` has no token to derive a forged one from (`mailboxes.{r}.token`)")),
        Some(_) => None,
    })
}

fn cert_missing(cert: &Option<ClientCert>, t: &Target) -> Option<String> {
    match cert {
        None => None,
        Some(ClientCert::Mailbox(role)) => match t.mailboxes.get(&role.value) {
            None => Some(format!("the target declares no mailbox `{}`", role.value)),
            Some(mb) if mb.certificate.is_none() => Some(format!("mailbox `{}` has no client certificate", role.value)),
            _ => None,
        },
        Some(ClientCert::Expired) => t.negative.expired_client_cert.is_none().then(|| "the target provides no expired client certificate (`negative.expired_client_cert`)".into()),
        Some(ClientCert::Foreign) => t.negative.foreign_client_cert.is_none().then(|| "the target provides no foreign-CA client certificate (`negative.foreign_client_cert`)".into()),
        Some(ClientCert::Revoked) => t.negative.revoked_client_cert.is_none().then(|| "the target provides no revoked client certificate (`negative.revoked_client_cert`)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The revoked-token scenarios run only with `negative.revoked_token`, and say so otherwise.
    #[test]
    fn revoked_token_scenarios_skip_without_the_material_named() {
        use crate::yaml::read::parse_yaml;
        use std::path::Path;
        let base = "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general, per-org]\ndomain: op.test\n\
            server_name: mx.op.test\ntrust_anchors: []\nmailboxes:\n  per1: { address: dr.a@op.test, type: PER, token: issuer }\n\
            endpoints:\n  smtp_starttls: { host: 127.0.0.1, port: 2525, tls: starttls }\n  imap_starttls: { host: 127.0.0.1, port: 1143, tls: starttls }\n";
        let without: Target = parse_yaml(Path::new("t.yaml"), base).unwrap();
        let with: Target = parse_yaml(Path::new("t.yaml"), &format!("{base}negative:\n  revoked_token: {{ env: REVOKED }}\n")).unwrap();
        for file in ["scenarios/auth/revoked-token-smtp.yaml", "scenarios/auth/revoked-token-imap.yaml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let source = std::fs::read_to_string(&path).unwrap();
            let scenario: Scenario = parse_yaml(&path, &source).unwrap();
            let s = Loaded { file: path.clone(), source, scenario };
            match decide(&s, &without) {
                Decision::Skip { reason } => assert!(reason.contains("`negative.revoked_token`"), "{file}: {reason}"),
                Decision::Run => panic!("{file} runs without a revoked token"),
            }
            assert!(matches!(decide(&s, &with), Decision::Run), "{file}");
        }
    }

    /// Forged-token scenarios need the valid tokens they derive from, and name the one missing.
    #[test]
    fn forged_token_scenarios_skip_without_the_tokens_named() {
        use crate::yaml::read::parse_yaml;
        use std::path::Path;
        let head = "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general, per-org]\ndomain: op.test\n\
            server_name: mx.op.test\ntrust_anchors: []\nendpoints:\n  smtp_starttls: { host: 127.0.0.1, port: 2525, tls: starttls }\n\
            \x20 imap_starttls: { host: 127.0.0.1, port: 1143, tls: starttls }\nmailboxes:\n  per1: { address: a@op.test, type: PER, token: issuer }\n";
        let without: Target = parse_yaml(Path::new("t.yaml"), &format!("{head}  per2: {{ address: b@op.test, type: PER }}\n")).unwrap();
        let with: Target = parse_yaml(Path::new("t.yaml"), &format!("{head}  per2: {{ address: b@op.test, type: PER, token: issuer }}\n")).unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/auth/forged-claims.yaml");
        let source = std::fs::read_to_string(&path).unwrap();
        let scenario: Scenario = parse_yaml(&path, &source).unwrap();
        let s = Loaded { file: path.clone(), source, scenario };
        match decide(&s, &without) {
            Decision::Skip { reason } => assert!(reason.contains("`mailboxes.per2.token`"), "{reason}"),
            Decision::Run => panic!("runs without per2's token"),
        }
        assert!(matches!(decide(&s, &with), Decision::Run));
    }

    #[test]
    fn absent_optional_target_field_skips_with_the_field_named() {
        let target = json!({"domain": "op.test", "http": {"whitelist": "http://x/w.xml", "autoconfig": null}});
        let source = "# ${target.http.introspection} in a comment does not count\nurl: \"${target.http.autoconfig}\"\n";
        let reason = absent_target_field(source, &target).expect("skipped");
        assert!(reason.contains("`http.autoconfig`"), "{reason}");
        assert_eq!(absent_target_field("url: ${target.http.whitelist} ${target.domain}", &target), None);
        assert!(absent_target_field("to: ${target.addresses.unknown_local}", &target).unwrap().contains("addresses.unknown_local"));
        assert_eq!(absent_target_field("x: ${fixtures.lps.nil} ${captured.m1.message_id}", &target), None);
    }
}
