//! The walk over a step's model that builds its description.

use super::expect::{self, Expect};
use super::login::{self, Protocol};
use super::*;
use crate::scenario::model::{
    Credential, HttpStep, ImapAction, ImapFolder, ImapStep, ImapWaitFor, SmtpAction, SmtpStep, SmtpTransaction, StepAction, TlsStep,
};

pub(super) struct Walk<'c, 'a> {
    pub cx: &'c Context<'a>,
}

fn item<'a>(does: Does<'a>, expect: Expect<'a>) -> Item<'a> {
    Item { does, expect }
}

impl<'a> Walk<'_, 'a> {
    fn r(&self, text: &str) -> String {
        (self.cx.render)(text)
    }

    pub fn step(&self, s: &'a Step) -> StepDescription<'a> {
        let items = match s.action() {
            Some(StepAction::Smtp(x)) => self.smtp(x),
            Some(StepAction::Imap(x)) => self.imap(x),
            Some(StepAction::Tls(x)) => vec![self.tls(x)],
            Some(StepAction::Http(x)) => vec![self.http(x)],
            Some(StepAction::Wait(w)) => vec![item(Does::Wait { ms: w.ms }, Expect::Nothing)],
            None => vec![item(Does::Invalid, Expect::Nothing)],
        };
        StepDescription { title: &s.title.value, only_if_accepted: s.only_if_accepted.as_ref().map(|t| t.value.as_str()), items }
    }

    fn at(&self, endpoint: &'a str) -> At<'a> {
        let t = self.cx.target;
        At { name: endpoint, endpoint: t.endpoints.get(endpoint), server_name: &t.server_name }
    }

    fn connect(&self, protocol: Protocol, endpoint: &'a str, versions: Option<TlsVersions>, client_cert: Option<&'a ClientCert>) -> Does<'a> {
        let client_cert = client_cert.map(|c| match c {
            ClientCert::Mailbox(role) => CertUse::Mailbox(login::mailbox(self.cx.target, &role.value)),
            ClientCert::Expired => CertUse::Expired,
            ClientCert::Foreign => CertUse::Foreign,
            ClientCert::Revoked => CertUse::Revoked,
        });
        Does::Connect(Connect { protocol, at: self.at(endpoint), versions, client_cert })
    }

    fn login(&self, protocol: Protocol, role: &'a str, written: Mechanism, credential: &'a Credential, initial: bool) -> Does<'a> {
        let form = login::form(self.cx.target, protocol, role, written, credential, initial);
        Does::Login(Login { protocol, mailbox: login::mailbox(self.cx.target, role), form })
    }

    fn smtp(&self, s: &'a SmtpStep) -> Vec<Item<'a>> {
        let mut out = vec![item(self.connect(Protocol::Smtp, &s.endpoint.value, s.tls_versions, s.client_cert.as_ref()), Expect::smtp(s.greeting.as_ref()))];
        out.extend(s.actions.iter().map(|a| self.smtp_action(a)));
        out
    }

    fn smtp_action(&self, a: &'a SmtpAction) -> Item<'a> {
        let server_name = &self.cx.target.server_name;
        match a {
            SmtpAction::Ehlo(x) => {
                let name = x.name.as_deref().map(|n| self.r(n)).unwrap_or_else(|| "mssconf.test".into());
                item(Does::Ehlo { name }, Expect::smtp(x.expect.as_ref()))
            }
            SmtpAction::Starttls(x) => item(Does::Starttls { server_name }, Expect::smtp(x.expect.as_ref())),
            SmtpAction::Auth(x) => {
                item(self.login(Protocol::Smtp, &x.mailbox.value, x.mechanism, &x.credential, x.initial_response), Expect::smtp(x.expect.as_ref()))
            }
            SmtpAction::MailFrom(x) => item(Does::MailFrom { address: self.r(&x.address), params: &x.params }, Expect::smtp(x.expect.as_ref())),
            SmtpAction::RcptTo(x) => {
                item(Does::RcptTo(self.recipient(&x.address, &x.params, expect::rcpt_code(x))), Expect::smtp(x.expect.as_ref()))
            }
            SmtpAction::Data(x) => item(Does::Message(self.message(&x.message)), Expect::smtp(x.expect.as_ref())),
            SmtpAction::Transaction(t) => item(Does::Transaction(self.transaction(t)), Expect::Transaction(t)),
            SmtpAction::Command(x) => {
                let line = self.r(&x.line);
                let opens_a_message = self.cx.exec.map(|e| e.opens_a_message(&line));
                item(Does::RawCommand { line, opens_a_message }, Expect::smtp(x.expect.as_ref()))
            }
            SmtpAction::ExpectClosed(x) => item(Does::ExpectClosed { within_ms: x.within_ms.unwrap_or(2000) }, Expect::Nothing),
            SmtpAction::Quit(x) => item(Does::Quit, Expect::smtp(x.expect.as_ref())),
        }
    }

    fn transaction(&self, t: &'a SmtpTransaction) -> Transaction<'a> {
        let code = expect::transaction_rcpt_code(t);
        Transaction {
            from: self.r(&t.from),
            from_params: &t.from_params,
            to: t.to.iter().map(|a| self.recipient(a, &t.rcpt_params, code)).collect(),
            message: t.message.as_ref().map(|m| self.message(m)),
        }
    }

    /// The recipient as the run sends it, and the send guard's refusal when the plan is checked.
    fn recipient(&self, address: &str, params: &'a [String], expecting: Option<&'a str>) -> Recipient<'a> {
        let address = self.r(address);
        let refused = self.cx.checks.as_ref().and_then(|c| match c.guard {
            Ok(g) => g.check_recipient(&address, expecting).err().map(|r| r.to_string()),
            Err(e) => Some(format!("the send guard cannot load the fixtures: {e}")),
        });
        Recipient { address, params, expecting, refused }
    }

    fn message(&self, m: &'a MessageSpec) -> Message<'a> {
        Message {
            spec: m,
            from: self.r(&m.from),
            to: m.to.iter().map(|t| self.r(t)).collect(),
            subject: self.r(&m.subject),
            disposition_notification_to: m.disposition_notification_to.as_ref().map(|d| self.r(d)),
            size: self.cx.exec.map(|e| e.message_size(m)),
        }
    }

    fn imap(&self, s: &'a ImapStep) -> Vec<Item<'a>> {
        let mut out = vec![item(self.connect(Protocol::Imap, &s.endpoint.value, s.tls_versions, s.client_cert.as_ref()), Expect::imap(s.greeting.as_ref()))];
        out.extend(s.actions.iter().map(|a| self.imap_action(a)));
        out
    }

    fn imap_action(&self, a: &'a ImapAction) -> Item<'a> {
        let folder = |command, x: &'a ImapFolder| item(Does::Folder { command, folder: self.r(&x.folder) }, Expect::imap(x.expect.as_ref()));
        let (does, e) = match a {
            ImapAction::Capability(x) => (Does::Capability, x.expect.as_ref()),
            ImapAction::Starttls(x) => (Does::Starttls { server_name: &self.cx.target.server_name }, x.expect.as_ref()),
            ImapAction::Login(x) => (Does::PlainLogin { user: self.r(&x.user) }, x.expect.as_ref()),
            ImapAction::Authenticate(x) => (self.login(Protocol::Imap, &x.mailbox.value, x.mechanism, &x.credential, x.sasl_ir), x.expect.as_ref()),
            ImapAction::Select(x) => return folder(FolderCommand::Select, x),
            ImapAction::Examine(x) => return folder(FolderCommand::Examine, x),
            ImapAction::Create(x) => return folder(FolderCommand::Create, x),
            ImapAction::List(x) => (Does::List { pattern: x.pattern.as_deref().unwrap_or("*") }, x.expect.as_ref()),
            ImapAction::WaitFor(x) => (Does::WaitFor(self.wait_for(x)), x.expect.as_ref()),
            ImapAction::Fetch(x) => (Does::Fetch { uid: self.r(&x.uid), capture: x.capture.as_ref().map(|c| c.value.as_str()) }, x.expect.as_ref()),
            ImapAction::Search(x) => (Does::Search { criteria: self.r(&x.criteria) }, x.expect.as_ref()),
            ImapAction::Store(x) => (Does::Store { uid: self.r(&x.uid), flags: &x.flags }, x.expect.as_ref()),
            ImapAction::Append(x) => (Does::Append { message: &x.message, folder: self.r(&x.folder), flags: x.flags.as_deref() }, x.expect.as_ref()),
            ImapAction::Move(x) => (Does::Move { uid: self.r(&x.uid), folder: self.r(&x.folder) }, x.expect.as_ref()),
            ImapAction::Command(x) => (Does::RawCommand { line: self.r(&x.line), opens_a_message: None }, x.expect.as_ref()),
            ImapAction::ExpectClosed(x) => (Does::ExpectClosed { within_ms: x.within_ms.unwrap_or(2000) }, None),
            ImapAction::Logout(x) => (Does::Logout, x.expect.as_ref()),
        };
        item(does, Expect::imap(e))
    }

    fn wait_for(&self, w: &'a ImapWaitFor) -> WaitFor<'a> {
        WaitFor {
            folder: self.r(&w.folder),
            message: w.message.as_deref(),
            criteria: w.criteria.as_ref().map(|c| self.r(c)),
            within_ms: w.timeout_ms.unwrap_or(self.cx.target.timeouts.delivery),
            capture: w.capture.as_ref().map(|c| c.value.as_str()),
        }
    }

    fn tls(&self, s: &'a TlsStep) -> Item<'a> {
        let at = self.at(&s.endpoint.value);
        let (kind, e) = if let Some(h) = &s.handshake {
            let crls = expect::checks_revocation(h).then_some(self.cx.target.http.crl.as_slice());
            (TlsKind::Handshake { versions: h.versions, crls }, h.expect.as_ref())
        } else if let Some(p) = &s.probe {
            (TlsKind::Version { version: &p.version, suites: &p.suites }, p.expect.as_ref())
        } else if let Some(p) = &s.probe_suites_outside_allow_list {
            let families = crate::cipher::families::plan(p.family_ids(), &p.candidates, &self.cx.target.tls.cipher_allow_list);
            (TlsKind::Families(families), p.expect.as_ref())
        } else if let Some(k) = &s.probe_key_exchange {
            let offers = self.cx.exec.map(|e| e.key_exchange_offers());
            (TlsKind::KeyExchange { min_dh_bits: k.min_dh_bits, min_ecdh_bits: k.min_ecdh_bits, offers }, None)
        } else {
            (TlsKind::Nothing, None)
        };
        item(Does::Tls(TlsProbe { at, kind }), Expect::tls(e))
    }

    fn http(&self, h: &'a HttpStep) -> Item<'a> {
        let url = self.r(&h.url);
        let refused = self.cx.checks.as_ref().and_then(|c| c.hosts.check_url(&url).err().map(|e| e.to_string()));
        let host = refused.is_none().then(|| reqwest::Url::parse(&url).ok().and_then(|u| u.host_str().map(String::from))).flatten();
        let does = Does::Http(Http { method: h.method.to_ascii_uppercase(), url, has_body: h.body.is_some(), host, refused });
        item(does, Expect::http(h.expect.as_ref()))
    }
}
