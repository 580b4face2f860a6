//! Checks that need more than the YAML shape: ids, references to the requirement index, the
//! target profile's names, variables, proofs. Every defect of a file is collected.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::yaml::error::{LoadError, LoadErrorKind, Span, did_you_mean};
use super::interpolate::{NAMESPACES, lookup, references};
use super::load::Loaded;
use super::model::*;
use crate::requirement::{Nature, RequirementIndex};
use crate::target::{ENDPOINT_NAMES, STANDARD_ROLES};

// Compiled once per process: `validate` and `list` of a 1,000-file catalogue would otherwise
// compile them once per scenario and once per SMTP action (most of their time).
static SCENARIO_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z][A-Z0-9]*/[A-Z][A-Z0-9-]*\.\d{2}\.\d{2}$").expect("static regex"));
static REPLY_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[2-5][0-9x]{2}(\|[2-5][0-9x]{2})*$").expect("static regex"));

/// What a scenario may refer to.
pub struct Context<'a> {
    pub index: &'a RequirementIndex,
    /// `target.*` paths that exist (see `target::reference_vars`).
    pub target_vars: &'a Value,
    pub fixtures: &'a Value,
}

struct Checker<'a> {
    file: &'a Path,
    errors: Vec<LoadError>,
    /// Names defined by captures and sent messages, with the line that defines them.
    captures: BTreeMap<String, u64>,
    /// The names of those that capture an SMTP transaction's outcome.
    transactions: BTreeSet<String>,
}

impl Checker<'_> {
    fn at<T>(&self, v: &Pos<T>) -> Span {
        Span::of(self.file, v)
    }

    fn push(&mut self, span: Span, kind: LoadErrorKind, msg: String, expected: Option<String>) {
        let mut e = LoadError::new(span, kind, msg);
        e.expected = expected;
        self.errors.push(e);
    }
}

/// All defects of one loaded scenario.
pub fn validate(loaded: &Loaded, ctx: &Context<'_>) -> Vec<LoadError> {
    let s = &loaded.scenario;
    let mut c = Checker { file: &loaded.file, errors: Vec::new(), captures: BTreeMap::new(), transactions: BTreeSet::new() };
    check_id_and_requirements(&mut c, s, ctx.index);
    check_nature(&mut c, s, ctx.index);
    check_proofs(&mut c, s);
    for step in &s.steps {
        check_step(&mut c, step);
    }
    check_variables(&mut c, &loaded.source, ctx);
    c.errors.sort_by(|a, b| a.span.cmp(&b.span));
    c.errors
}

fn check_id_and_requirements(c: &mut Checker<'_>, s: &Scenario, index: &RequirementIndex) {
    if !SCENARIO_ID.is_match(&s.id.value) {
        let span = c.at(&s.id);
        c.push(span, LoadErrorKind::Invalid, format!("malformed scenario id `{}`", s.id.value),
            Some("`<requirement id>.<nn>`, e.g. `OPE/TLS.01.01`".into()));
    } else if !s.requirements.iter().any(|r| s.id.value.starts_with(&format!("{}.", r.value))) {
        let span = c.at(&s.id);
        c.push(span, LoadErrorKind::Invalid, format!("scenario id `{}` does not start with one of its requirement ids", s.id.value),
            Some("the id of the main requirement followed by `.<nn>`".into()));
    }
    if s.requirements.is_empty() {
        let span = c.at(&s.id);
        c.push(span, LoadErrorKind::Invalid, "no requirement id".into(), Some("at least one id from scenarios/requirements.yaml".into()));
    }
    for r in &s.requirements {
        if index.get(&r.value).is_none() {
            let hint = did_you_mean(&r.value, index.ids()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            let span = c.at(r);
            c.push(span, LoadErrorKind::UnknownRequirement, format!("requirement `{}` is not in the requirement index{hint}", r.value),
                Some("an id listed in scenarios/requirements.yaml".into()));
        }
    }
}

/// A scenario that checks only préconisations cannot make the run fail (docs/verdicts.md).
fn check_nature(c: &mut Checker<'_>, s: &Scenario, index: &RequirementIndex) {
    let natures: Vec<Nature> = s.requirements.iter().filter_map(|r| index.get(&r.value)).map(|r| r.nature).collect();
    if s.nature.binding() && !natures.is_empty() && natures.iter().all(|n| *n == Nature::Preconisation) {
        let span = c.at(&s.id);
        c.push(span, LoadErrorKind::Invalid, format!("scenario `{}` checks only préconisations but its nature is `exigence`", s.id.value),
            Some("`nature: preconisation` (a préconisation not followed is reported, never a failure)".into()));
    }
}

fn check_proofs(c: &mut Checker<'_>, s: &Scenario) {
    let mut seen = BTreeSet::new();
    let all = s.proofs.iter().chain(s.steps.iter().flat_map(|st| st.proofs.iter()));
    for p in all {
        let span = c.at(&p.n);
        if p.n.value.len() != 2 || !p.n.value.bytes().all(|b| b.is_ascii_digit()) || p.n.value == "00" {
            c.push(span, LoadErrorKind::Invalid, format!("malformed proof number `{}`", p.n.value), Some("two digits, `01` to `99`".into()));
        } else if !seen.insert(p.n.value.clone()) {
            c.push(span, LoadErrorKind::Duplicate, format!("proof number `{}` is used twice in this scenario", p.n.value), Some("unique proof numbers".into()));
        }
    }
}

fn check_step(c: &mut Checker<'_>, step: &Step) {
    if let Some(name) = &step.only_if_accepted
        && !c.transactions.contains(&name.value)
    {
        let span = c.at(name);
        c.push(span, LoadErrorKind::Invalid, format!("`only_if_accepted: {}` names no transaction captured by an earlier step", name.value),
            Some("the `capture:` name of an SMTP `transaction` in an earlier step".into()));
    }
    let actions = step.actions();
    if actions.len() != 1 {
        let span = c.at(&step.title);
        let found = if actions.is_empty() { "no protocol key".to_string() } else {
            format!("{} protocol keys ({})", actions.len(), actions.iter().map(|a| a.kind()).collect::<Vec<_>>().join(", "))
        };
        c.push(span, LoadErrorKind::StepKind, format!("step `{}` has {found}", step.title.value),
            Some(format!("exactly one of {}", STEP_KINDS.join(", "))));
    }
    for action in &actions {
        match action {
            StepAction::Smtp(s) => check_smtp(c, s),
            StepAction::Imap(s) => check_imap(c, s),
            StepAction::Tls(s) => check_tls(c, s),
            StepAction::Http(_) | StepAction::Wait(_) => {}
        }
    }
    check_durations(c, step, &actions);
    check_settled_texts(c, step);
}

/// Expectations are settled before the run (`plan::settle`): they may name the target and the
/// fixtures, not a value captured during the run.
fn check_settled_texts(c: &mut Checker<'_>, step: &Step) {
    let mut step = step.clone();
    let captured: Vec<String> = step
        .expectations_mut()
        .into_iter()
        .flat_map(ExpectSlot::texts)
        .flat_map(|t| references(t))
        .filter(|r| r.namespace() == "captured")
        .map(|r| r.path)
        .collect();
    for path in captured {
        let span = c.at(&step.title);
        c.push(span, LoadErrorKind::Invalid,
            format!("step `{}`: an expectation names `${{{path}}}`, a value only known during the run (expectations are settled before it)", step.title.value),
            Some("`${target.…}` or `${fixtures.…}` in an expectation".into()));
    }
}

/// Every duration a step asks for is bounded (`MAX_WAIT_MS`): a huge value would overflow the
/// clock when the deadline is computed.
fn check_durations(c: &mut Checker<'_>, step: &Step, actions: &[StepAction<'_>]) {
    let mut durations: Vec<(&str, u64)> = step.timeout_ms.map(|ms| ("timeout_ms", ms)).into_iter().collect();
    for action in actions {
        match action {
            StepAction::Wait(w) => durations.push(("wait.ms", w.ms)),
            StepAction::Smtp(s) => durations.extend(s.actions.iter().filter_map(|a| match a {
                SmtpAction::ExpectClosed(x) => x.within_ms.map(|ms| ("expect_closed.within_ms", ms)),
                _ => None,
            })),
            StepAction::Imap(s) => durations.extend(s.actions.iter().filter_map(|a| match a {
                ImapAction::ExpectClosed(x) => x.within_ms.map(|ms| ("expect_closed.within_ms", ms)),
                ImapAction::WaitFor(x) => x.timeout_ms.map(|ms| ("wait_for.timeout_ms", ms)),
                _ => None,
            })),
            _ => {}
        }
    }
    let max = crate::target::MAX_WAIT_MS;
    for (field, ms) in durations.into_iter().filter(|(_, ms)| *ms > max) {
        let span = c.at(&step.title);
        c.push(span, LoadErrorKind::Invalid, format!("step `{}`: `{field}` is {ms} ms", step.title.value),
            Some(format!("at most {max} ms (one hour)")));
    }
}

fn check_endpoint(c: &mut Checker<'_>, ep: &Pos<String>, protocol: &str) {
    let allowed: Vec<&str> = ENDPOINT_NAMES.iter().copied().filter(|n| protocol.is_empty() || n.starts_with(protocol)).collect();
    if !allowed.contains(&ep.value.as_str()) {
        let hint = did_you_mean(&ep.value, allowed.iter().copied()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
        let span = c.at(ep);
        c.push(span, LoadErrorKind::Invalid, format!("unknown endpoint `{}`{hint}", ep.value), Some(format!("one of {}", allowed.join(", "))));
    }
}

fn check_role(c: &mut Checker<'_>, role: &Pos<String>) {
    if !STANDARD_ROLES.contains(&role.value.as_str()) {
        let hint = did_you_mean(&role.value, STANDARD_ROLES).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
        let span = c.at(role);
        c.push(span, LoadErrorKind::Invalid, format!("unknown mailbox role `{}`{hint}", role.value), Some(format!("one of {}", STANDARD_ROLES.join(", "))));
    }
}

fn check_credential(c: &mut Checker<'_>, cred: &Credential) {
    match cred {
        Credential::TokenOf(role) => check_role(c, role),
        Credential::Derived(d) => {
            if let Some(role) = &d.from {
                check_role(c, role);
            }
        }
        _ => {}
    }
}

fn check_client_cert(c: &mut Checker<'_>, cert: &Option<ClientCert>) {
    if let Some(ClientCert::Mailbox(role)) = cert {
        check_role(c, role);
    }
}

fn check_code(c: &mut Checker<'_>, e: &Option<SmtpExpect>) {
    if let Some(code) = e.as_ref().and_then(|e| e.code.as_ref())
        && !REPLY_CODE.is_match(&code.value)
    {
        let span = c.at(code);
        c.push(span, LoadErrorKind::Invalid, format!("bad reply code pattern `{}`", code.value),
            Some("a code like `250`, a class like `5xx`, or alternatives like `4xx|5xx`".into()));
    }
}

fn define(c: &mut Checker<'_>, name: &Pos<String>) {
    if c.captures.contains_key(&name.value) {
        let span = c.at(name);
        c.push(span, LoadErrorKind::Duplicate, format!("`{}` is captured twice in this scenario", name.value), Some("unique capture and message names".into()));
    } else {
        c.captures.insert(name.value.clone(), name.referenced.line());
    }
}

fn check_smtp(c: &mut Checker<'_>, s: &SmtpStep) {
    check_endpoint(c, &s.endpoint, "smtp");
    check_client_cert(c, &s.client_cert);
    check_code(c, &s.greeting);
    for a in &s.actions {
        match a {
            SmtpAction::Ehlo(x) => check_code(c, &x.expect),
            SmtpAction::Starttls(x) | SmtpAction::Quit(x) => check_code(c, &x.expect),
            SmtpAction::Auth(x) => {
                check_role(c, &x.mailbox);
                check_credential(c, &x.credential);
                check_code(c, &x.expect);
            }
            SmtpAction::MailFrom(x) | SmtpAction::RcptTo(x) => check_code(c, &x.expect),
            SmtpAction::Data(x) => {
                define(c, &x.message.name);
                check_code(c, &x.expect);
            }
            SmtpAction::Command(x) => {
                check_one_line(c, &s.endpoint, "smtp", &x.line);
                check_code(c, &x.expect);
            }
            SmtpAction::Transaction(x) => check_transaction(c, x),
            SmtpAction::ExpectClosed(_) => {}
        }
    }
}

fn check_transaction(c: &mut Checker<'_>, t: &SmtpTransaction) {
    if let Some(code) = &t.expect.code
        && !REPLY_CODE.is_match(&code.value)
    {
        let span = c.at(code);
        c.push(span, LoadErrorKind::Invalid, format!("bad reply code pattern `{}`", code.value),
            Some("a class like `5xx`, or alternatives like `4xx|5xx`".into()));
    }
    if t.message.is_none()
        && let Some(data) = t.expect.refused_at.iter().find(|s| s.value == SmtpStage::Data)
    {
        let span = c.at(data);
        c.push(span, LoadErrorKind::Invalid, "`refused_at` names `data` but the transaction sends no message".into(),
            Some("a `message:` in the transaction, or `refused_at` without `data`".into()));
    }
    if t.expect.outcome.value == TransactionOutcome::Accepted
        && let Some(first) = t.expect.refused_at.first()
    {
        let span = c.at(first);
        c.push(span, LoadErrorKind::Invalid, "`refused_at` with `outcome: accepted`".into(),
            Some("`outcome: refused` or `either` to allow a refusal".into()));
    }
    if t.to.is_empty() {
        let span = c.at(&t.expect.outcome);
        c.push(span, LoadErrorKind::Invalid, "a transaction without recipients".into(), Some("at least one address in `to`".into()));
    }
    if let Some(m) = &t.message {
        define(c, &m.name);
    }
    if let Some(name) = &t.capture {
        define(c, name);
        c.transactions.insert(name.value.clone());
    }
}

fn check_imap(c: &mut Checker<'_>, s: &ImapStep) {
    check_endpoint(c, &s.endpoint, "imap");
    check_client_cert(c, &s.client_cert);
    for a in &s.actions {
        match a {
            ImapAction::Authenticate(x) => {
                check_role(c, &x.mailbox);
                check_credential(c, &x.credential);
            }
            ImapAction::WaitFor(x) => {
                if let Some(name) = &x.capture {
                    define(c, name);
                }
            }
            ImapAction::Fetch(x) => {
                if let Some(name) = &x.capture {
                    define(c, name);
                }
            }
            ImapAction::Command(x) => check_one_line(c, &s.endpoint, "imap", &x.line),
            _ => {}
        }
    }
}

/// A raw `command` is one protocol line: a CR or LF inside would smuggle a second command past
/// the recipient guard and the message cap (the session layer refuses it again at send time,
/// for `${…}` values).
fn check_one_line(c: &mut Checker<'_>, endpoint: &Pos<String>, protocol: &str, line: &str) {
    if line.contains(['\r', '\n']) {
        let span = c.at(endpoint);
        c.push(span, LoadErrorKind::Invalid, format!("{protocol} command `line` holds a line break (CR or LF)"),
            Some("one command per `command` action, without CR or LF".into()));
    }
}

fn check_tls(c: &mut Checker<'_>, s: &TlsStep) {
    check_endpoint(c, &s.endpoint, "");
    let n = usize::from(s.handshake.is_some()) + usize::from(s.probe.is_some()) + usize::from(s.probe_suites_outside_allow_list.is_some())
        + usize::from(s.probe_key_exchange.is_some());
    if n != 1 {
        let span = c.at(&s.endpoint);
        c.push(span, LoadErrorKind::StepKind, format!("tls step has {n} checks"),
            Some("exactly one of handshake, probe, probe_suites_outside_allow_list, probe_key_exchange".into()));
    }
    if let Some(p) = &s.probe
        && !["3.0", "1.0", "1.1", "1.2"].contains(&p.version.as_str())
    {
        let span = c.at(&s.endpoint);
        c.push(span, LoadErrorKind::Invalid, format!("probe version `{}`", p.version), Some("`3.0` (SSL 3.0), `1.0`, `1.1` or `1.2`".into()));
    }
    if let Some(p) = &s.probe_suites_outside_allow_list {
        check_suite_probe(c, s, p);
    }
}

/// Family ids and suite names must be known (an empty allow-list keeps every suite in play).
fn check_suite_probe(c: &mut Checker<'_>, s: &TlsStep, p: &TlsSuiteProbe) {
    let span = c.at(&s.endpoint);
    if let Some(SuiteFamilies::Keyword(k)) = &p.families
        && k != "all"
    {
        c.push(span.clone(), LoadErrorKind::Invalid, format!("families `{k}`"), Some("`all` or a list of family ids".into()));
    }
    if let Err(e) = crate::cipher::families::plan(p.family_ids(), &p.candidates, &[]) {
        c.push(span.clone(), LoadErrorKind::Invalid, format!("probe_suites_outside_allow_list: {e}"), None);
    }
    if matches!(&p.families, Some(SuiteFamilies::List(l)) if l.is_empty()) && p.candidates.is_empty() {
        c.push(span, LoadErrorKind::Invalid, "probe_suites_outside_allow_list offers nothing".into(), Some("`families: all`, family ids or `candidates`".into()));
    }
}

fn check_variables(c: &mut Checker<'_>, source: &str, ctx: &Context<'_>) {
    for (i, line) in source.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim_start().starts_with('#') {
            continue;
        }
        for r in references(line) {
            let span = Span::new(c.file, line_no, line[..r.offset].chars().count() as u64 + 1);
            if let Some(msg) = undefined(c, &r.path, line_no, ctx) {
                c.push(span, LoadErrorKind::UndefinedVariable, format!("undefined variable `${{{}}}`: {msg}", r.path), Some(expected_for(&r.path)));
            }
        }
    }
}

/// Why `path` names nothing, or `None` when it is fine.
fn undefined(c: &Checker<'_>, path: &str, line: u64, ctx: &Context<'_>) -> Option<String> {
    let (ns, rest) = path.split_once('.').unwrap_or((path, ""));
    match ns {
        "target" => {
            if let Some(role) = rest.strip_prefix("mailboxes.").and_then(|r| r.split('.').next())
                && !STANDARD_ROLES.contains(&role)
            {
                return Some(format!("no mailbox role `{role}`"));
            }
            lookup(ctx.target_vars, rest).is_none().then(|| "the target profile has no such field".into())
        }
        "fixtures" => lookup(ctx.fixtures, rest).is_none().then(|| "no such fixture value in fixtures/fixtures.yaml".into()),
        "captured" => {
            let name = rest.split('.').next().unwrap_or("");
            match c.captures.get(name) {
                None => Some(format!("nothing is captured as `{name}` in this scenario")),
                Some(def) if *def > line => Some(format!("`{name}` is captured later (line {def})")),
                _ => None,
            }
        }
        other => Some(format!("unknown namespace `{other}`")),
    }
}

fn expected_for(path: &str) -> String {
    match path.split('.').next().unwrap_or("") {
        "target" => "a field of the target profile, e.g. `${target.mailboxes.per1.address}`".into(),
        "fixtures" => "a value of fixtures/fixtures.yaml, e.g. `${fixtures.patients.p1.ins}`".into(),
        "captured" => "a name captured by an earlier step (message `name:` or `capture:`)".into(),
        _ => format!("one of the namespaces {}", NAMESPACES.join(", ")),
    }
}
