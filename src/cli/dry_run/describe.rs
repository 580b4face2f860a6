//! What one scenario would do, step by step, as plain lines: connections, logins, envelope
//! addresses, messages, HTTP requests. Variables are resolved against the target and fixtures;
//! `${captured.…}` values only exist at run time and are shown as written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::runner::scenario::auth::{Form, Protocol, resolve};
use crate::exec::message::{AttachmentData, Content, Draft, Generated, build};
use crate::fixtures::guard::Guard;
use crate::fixtures::xdm;
use crate::scenario::interpolate::Vars;
use crate::scenario::model::*;
use crate::target::allow::HostAllowList;
use crate::target::model::{SecretSource, Target};

/// Everything a scenario would do, with the totals the plan summary adds up.
#[derive(Debug, Default)]
pub struct ScenarioPlan {
    pub lines: Vec<String>,
    pub connections: usize,
    pub messages: usize,
    pub hosts: BTreeSet<String>,
    /// Connections per host (mail endpoints and HTTP), for the pacing's minimum time.
    pub per_host: BTreeMap<String, usize>,
    /// What the harness would refuse at run time (undeclared host or recipient).
    pub refusals: Vec<String>,
}

pub struct Describer<'a> {
    pub target: &'a Target,
    pub vars: Vars,
    pub hosts: HostAllowList,
    pub fixtures: &'a serde_json::Value,
    pub fixtures_dir: &'a Path,
    /// The run's send guard (declared recipients only); `Err` when the fixtures do not load.
    pub guard: Result<Guard, String>,
}

impl Describer<'_> {
    /// `${…}` resolved when possible, else the text as written (captured values).
    fn show(&self, text: &str) -> String {
        self.vars.render(text).unwrap_or_else(|_| text.to_string())
    }

    pub fn scenario(&self, s: &Scenario) -> ScenarioPlan {
        let mut p = ScenarioPlan::default();
        for (i, step) in s.steps.iter().enumerate() {
            let only_if = step.only_if_accepted.as_ref().map(|t| format!(" (only if the transaction `{}` was accepted)", t.value)).unwrap_or_default();
            p.lines.push(format!("step {} \"{}\"{only_if}", i + 1, step.title.value));
            match step.action() {
                Some(StepAction::Smtp(x)) => self.smtp(&mut p, x),
                Some(StepAction::Imap(x)) => self.imap(&mut p, x),
                Some(StepAction::Tls(x)) => self.tls(&mut p, x),
                Some(StepAction::Http(x)) => self.http(&mut p, x),
                Some(StepAction::Wait(w)) => p.lines.push(format!("  wait {} ms", w.ms)),
                None => p.lines.push("  (no protocol key: the step would end in error)".into()),
            }
        }
        p
    }

    fn connect(&self, p: &mut ScenarioPlan, protocol: &str, endpoint: &str, cert: &Option<ClientCert>) {
        p.connections += 1;
        match self.target.endpoints.get(endpoint) {
            Some(ep) => {
                p.hosts.insert(ep.host.clone());
                *p.per_host.entry(ep.host.to_ascii_lowercase()).or_default() += 1;
                let tls = match ep.tls {
                    crate::exec::net::TlsMode::Starttls => "STARTTLS",
                    crate::exec::net::TlsMode::Implicit => "implicit TLS",
                };
                p.lines.push(format!("  connect {protocol} {endpoint} = {}:{} ({tls}, SNI {})", ep.host, ep.port, self.target.server_name));
            }
            None => p.lines.push(format!("  connect {protocol} {endpoint}: not declared (the plan skips such scenarios)")),
        }
        if let Some(c) = cert {
            p.lines.push(format!("  client certificate: {}", cert_name(c)));
        }
    }

    fn login(&self, p: &mut ScenarioPlan, protocol: Protocol, written: crate::scenario::model::Mechanism, role: &str, credential: &Credential) {
        // What the executor plays: the target's applicative form replaces the written mechanism.
        let mechanism = match resolve(self.target, protocol, role, written) {
            Form::CertificateOnly => {
                p.lines.push(format!("  no AUTH: mailbox `{role}` logs in by its client certificate alone (the target's app_auth_form)"));
                return;
            }
            Form::Sasl { mechanism, .. } => mechanism,
        };
        let address = self.target.mailboxes.get(role).map_or("<undeclared>", |m| m.address.as_str());
        let source = match credential {
            Credential::Malformed => "a malformed token made up by the harness".to_string(),
            Credential::Expired => format!("the expired token ({})", self.source(self.target.negative.expired_token.as_ref(), p)),
            Credential::Revoked => format!("the revoked token ({})", self.source(self.target.negative.revoked_token.as_ref(), p)),
            Credential::TokenOf(other) => {
                let src = self.target.mailboxes.get(&other.value).and_then(|m| m.token.as_ref());
                format!("the token of `{}` ({})", other.value, self.source(src, p))
            }
            Credential::Valid => {
                let mb = self.target.mailboxes.get(role);
                match (mb.and_then(|m| m.token.as_ref()), mb.and_then(|m| m.certificate.as_ref())) {
                    (Some(t), _) => format!("its token ({})", self.source(Some(t), p)),
                    (None, Some(_)) => "its client certificate".into(),
                    (None, None) => "no credential declared".into(),
                }
            }
        };
        p.lines.push(format!("  authenticate {} as mailbox `{role}` <{address}> with {source}", mechanism.name()));
    }

    /// Where a secret would come from; the issuer is a connection of its own.
    fn source(&self, s: Option<&SecretSource>, p: &mut ScenarioPlan) -> String {
        match s {
            None => "not declared".into(),
            Some(SecretSource::Env(var)) => format!("environment variable {var}"),
            Some(SecretSource::File(f)) => format!("file {}", f.display()),
            Some(SecretSource::Issuer) => match &self.target.http.token_issuer {
                Some(url) => {
                    if let Some(h) = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(String::from)) {
                        p.hosts.insert(h);
                    }
                    format!("token issuer POST {url}")
                }
                None => "token issuer, not declared".into(),
            },
        }
    }

    fn smtp(&self, p: &mut ScenarioPlan, step: &SmtpStep) {
        self.connect(p, "smtp", &step.endpoint.value, &step.client_cert);
        for a in &step.actions {
            match a {
                SmtpAction::Auth(x) => self.login(p, Protocol::Smtp, x.mechanism, &x.mailbox.value, &x.credential),
                SmtpAction::MailFrom(x) => p.lines.push(format!("  MAIL FROM <{}>", self.show(&x.address))),
                SmtpAction::RcptTo(x) => self.recipient(p, x),
                SmtpAction::Data(x) => self.message(p, &x.message),
                SmtpAction::Transaction(x) => self.transaction(p, x),
                SmtpAction::Command(x) => {
                    let line = self.show(&x.line);
                    // Counted with the messages: it takes a slot of the rate and cap at run time.
                    let slot = crate::exec::submission::opens_a_message(&line);
                    p.messages += usize::from(slot);
                    let note = if slot { " (counted as a message: it takes a slot of the rate and cap)" } else { "" };
                    p.lines.push(format!("  raw command: {line}{note}"));
                }
                SmtpAction::Starttls(_) => p.lines.push("  STARTTLS".into()),
                SmtpAction::Ehlo(_) | SmtpAction::ExpectClosed(_) | SmtpAction::Quit(_) => {}
            }
        }
    }

    /// A submission attempt: its envelope as the run sends it, and its message if every command
    /// is accepted (counted: it may take a slot of the rate and cap).
    fn transaction(&self, p: &mut ScenarioPlan, t: &SmtpTransaction) {
        p.lines.push(format!("  transaction (judged as a whole): MAIL FROM <{}>", self.show(&t.from)));
        let outside_allowed = t.message.is_none() && t.expect.outcome.value == TransactionOutcome::Refused;
        for to in &t.to {
            self.rcpt(p, to, outside_allowed.then(|| t.refusal_code()));
        }
        match &t.message {
            Some(m) => {
                p.lines.push("  if every command is accepted:".into());
                self.message(p, m);
            }
            None => p.lines.push("  RSET if every command is accepted (no message)".into()),
        }
    }

    fn recipient(&self, p: &mut ScenarioPlan, x: &SmtpAddress) {
        let code = x.expect.as_ref().and_then(|e| e.code.as_ref()).map(|c| c.value.as_str());
        self.rcpt(p, &x.address, code);
    }

    fn rcpt(&self, p: &mut ScenarioPlan, address: &str, code: Option<&str>) {
        let address = self.show(address);
        let note = code.map(|c| format!(" (expecting {c})")).unwrap_or_default();
        p.lines.push(format!("  RCPT TO <{address}>{note}"));
        let verdict = match &self.guard {
            Ok(g) => g.check_recipient(&address, code).map_err(|r| r.to_string()),
            Err(e) => Err(format!("the send guard cannot load the fixtures: {e}")),
        };
        if let Err(why) = verdict {
            p.lines.push(format!("    REFUSED: {why}"));
            p.refusals.push(why);
        }
    }

    fn message(&self, p: &mut ScenarioPlan, m: &MessageSpec) {
        p.messages += 1;
        let to: Vec<String> = m.to.iter().map(|t| self.show(t)).collect();
        let (size, exact) = self.size(m);
        let approx = if exact { "" } else { "about " };
        p.lines.push(format!(
            "  send message `{}`: subject \"{}\", from {} to {}, {approx}{size} bytes",
            m.name.value,
            self.show(&m.subject),
            self.show(&m.from),
            to.join(", ")
        ));
    }

    /// Builds the message as the run would (without sending it) when every value is known.
    fn size(&self, m: &MessageSpec) -> (usize, bool) {
        let render = |t: &str| self.vars.render(t).ok();
        let mut exact = true;
        let mut attachments = Vec::new();
        for a in &m.attachments {
            match a {
                Attachment::File(f) => {
                    let bytes = render(&f.path).and_then(|p| std::fs::read(self.fixtures_dir.join(p)).ok());
                    exact &= bytes.is_some();
                    let filename = f.filename.clone().unwrap_or_else(|| "attachment".into());
                    attachments.push(AttachmentData { filename, content_type: f.content_type.clone(), content: Content::Bytes(bytes.unwrap_or_default()) });
                }
                Attachment::Xdm(x) => {
                    let (patient, documents) = (self.show(&x.patient), x.documents.iter().map(|d| self.show(d)).collect::<Vec<_>>());
                    let bytes = xdm::build_for(self.fixtures, self.fixtures_dir, &patient, &documents).ok();
                    exact &= bytes.is_some();
                    let content_type = "application/zip".to_string();
                    attachments.push(AttachmentData { filename: xdm::FILE_NAME.into(), content_type, content: Content::Bytes(bytes.unwrap_or_default()) });
                }
                Attachment::Generated(g) => {
                    // Nothing is generated here: the size is computed from the segments.
                    let content = Content::Generated(Generated { size: g.size, seed: 0 });
                    attachments.push(AttachmentData { filename: g.filename.clone().unwrap_or_default(), content_type: "application/octet-stream".into(), content });
                }
            }
        }
        let headers: Vec<(String, String)> = m.headers.iter().map(|(k, v)| (k.clone(), self.show(v))).collect();
        exact &= [&m.from, &m.subject].iter().all(|t| render(t).is_some()) && m.headers.values().all(|v| render(v).is_some());
        let draft = Draft {
            name: m.name.value.clone(),
            from: self.show(&m.from),
            to: m.to.iter().map(|t| self.show(t)).collect(),
            subject: self.show(&m.subject),
            headers,
            body: m.body.as_ref().map(|b| self.show(b)),
            body_8bit: m.body_8bit,
            attachments,
            disposition_notification_to: m.disposition_notification_to.as_ref().map(|d| self.show(d)),
            pad_to_bytes: m.pad_to_bytes,
            message_id: format!("mssconf.dry-run.{}@{}", m.name.value, self.target.domain),
        };
        (build(&draft).size as usize, exact)
    }

    fn imap(&self, p: &mut ScenarioPlan, step: &ImapStep) {
        self.connect(p, "imap", &step.endpoint.value, &step.client_cert);
        for a in &step.actions {
            match a {
                ImapAction::Authenticate(x) => self.login(p, Protocol::Imap, x.mechanism, &x.mailbox.value, &x.credential),
                ImapAction::Login(x) => p.lines.push(format!("  LOGIN {} (a refusal test; password not shown)", self.show(&x.user))),
                ImapAction::Append(x) => p.lines.push(format!("  APPEND to folder {} ({} bytes)", self.show(&x.folder), x.message.len())),
                ImapAction::Command(x) => p.lines.push(format!("  raw command: {}", self.show(&x.line))),
                ImapAction::Starttls(_) => p.lines.push("  STARTTLS".into()),
                ImapAction::WaitFor(x) => p.lines.push(format!("  wait for a message in {}", self.show(&x.folder))),
                _ => {}
            }
        }
    }

    fn tls(&self, p: &mut ScenarioPlan, step: &TlsStep) {
        let ep = &step.endpoint.value;
        match (&step.handshake, &step.probe, &step.probe_suites_outside_allow_list) {
            (Some(_), _, _) => self.connect(p, "tls handshake", ep, &None),
            (_, Some(pr), _) => self.connect(p, &format!("tls probe ({} ClientHello)", probe_version(&pr.version)), ep, &None),
            (_, _, Some(s)) => match crate::exec::probe::plan_families(s.family_ids(), &s.candidates, &self.target.tls.cipher_allow_list) {
                Ok(families) => {
                    for f in &families {
                        self.connect(p, &format!("tls probe (TLS 1.2 suite family {})", f.describe()), ep, &None);
                    }
                    if !families.is_empty() {
                        p.lines.push(format!("    + one connection per suite the server accepts (at most {} more)", families.iter().map(|f| f.suites.len()).sum::<usize>()));
                    }
                }
                Err(e) => p.lines.push(format!("  tls probe: {e} (the step will end in error)")),
            },
            _ => {}
        }
    }

    fn http(&self, p: &mut ScenarioPlan, step: &HttpStep) {
        let url = self.show(&step.url);
        p.connections += 1;
        p.lines.push(format!("  HTTP {} {url}", step.method.to_ascii_uppercase()));
        match self.hosts.check_url(&url) {
            Ok(()) => {
                if let Some(h) = reqwest::Url::parse(&url).ok().and_then(|u| u.host_str().map(String::from)) {
                    *p.per_host.entry(h.to_ascii_lowercase()).or_default() += 1;
                    p.hosts.insert(h);
                }
            }
            Err(e) => {
                p.lines.push(format!("    REFUSED: {e}"));
                p.refusals.push(e.to_string());
            }
        }
    }
}

fn cert_name(c: &ClientCert) -> String {
    match c {
        ClientCert::Mailbox(role) => format!("of mailbox `{}`", role.value),
        ClientCert::Expired => "the expired one (negative.expired_client_cert)".into(),
        ClientCert::Foreign => "the foreign-CA one (negative.foreign_client_cert)".into(),
    }
}

fn probe_version(v: &str) -> String {
    if v == "3.0" { "SSL 3.0".into() } else { format!("TLS {v}") }
}
