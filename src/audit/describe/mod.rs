//! What a step will do, in plain French, from the step model and the target profile: shown to
//! the auditor before the operator runs the step. Values are the ones the step will use
//! (`${…}` already resolved); secrets are never shown, only where they come from.

mod expect;

use crate::exec::net::TlsMode;
use crate::runner::scenario::auth::{Form, Protocol, resolve};
use crate::scenario::model::TlsVersions;
use crate::scenario::model::*;
use crate::target::model::{MailboxType, Target};

/// Resolves `${…}` in a scenario text (the text itself when it cannot be resolved yet).
pub type Render<'a> = &'a dyn Fn(&str) -> String;

/// One line per thing the step does, in order, each with what is expected.
pub fn describe(step: &Step, target: &Target, render: Render<'_>) -> Vec<String> {
    let d = Describer { target, render };
    match step.action() {
        Some(StepAction::Smtp(s)) => d.smtp(s),
        Some(StepAction::Imap(s)) => d.imap(s),
        Some(StepAction::Tls(s)) => d.tls(s),
        Some(StepAction::Http(h)) => d.http(h),
        Some(StepAction::Wait(w)) => vec![format!("Pause de {} ms (laisser le temps au serveur).", w.ms)],
        None => vec!["Étape invalide (aucun ou plusieurs protocoles) : elle finira en erreur.".into()],
    }
}

struct Describer<'a> {
    target: &'a Target,
    render: Render<'a>,
}

/// `text` followed by ` Attendu : …` when something is expected.
fn with_expect(text: String, parts: Vec<String>) -> String {
    match expect::attendu(parts) {
        Some(a) => format!("{text} {a}"),
        None => text,
    }
}

impl Describer<'_> {
    fn r(&self, text: &str) -> String {
        (self.render)(text)
    }

    /// `Connexion SMTP à 127.0.0.1:2525 en STARTTLS (en clair, puis passage en TLS)`
    fn connection(&self, protocol: &str, endpoint: &str, versions: Option<TlsVersions>, cert: Option<&ClientCert>) -> String {
        let mut s = match self.target.endpoints.get(endpoint) {
            Some(ep) => format!("Connexion {protocol} à {}:{} {}", ep.host, ep.port, mode(ep.tls)),
            None => format!("Connexion {protocol} au point d'accès « {endpoint} », absent du profil cible (l'étape échouera)"),
        };
        if let Some(v) = versions {
            s += &format!(", versions TLS proposées : {}", versions_fr(v));
        }
        if let Some(c) = cert {
            s += &format!(", en présentant {}", self.cert(c));
        }
        s + "."
    }

    fn cert(&self, c: &ClientCert) -> String {
        match c {
            ClientCert::Mailbox(role) => format!("le certificat client de la BAL {}", self.mailbox(&role.value)),
            ClientCert::Expired => "un certificat client expiré (profil : negative.expired_client_cert)".into(),
            ClientCert::Foreign => "un certificat client d'une autre autorité (profil : negative.foreign_client_cert)".into(),
        }
    }

    /// `« per1 » (dr.martin@op.test, BAL personnelle)`
    fn mailbox(&self, role: &str) -> String {
        match self.target.mailboxes.get(role) {
            Some(m) => {
                let kind = match m.kind {
                    MailboxType::Per => "BAL personnelle",
                    MailboxType::Org => "BAL organisationnelle",
                    MailboxType::App => "BAL applicative",
                };
                format!("« {role} » ({}, {kind})", m.address)
            }
            None => format!("« {role} » (absente du profil cible)"),
        }
    }

    /// The login the executor will play: the target's applicative form replaces the written
    /// mechanism (`runner::scenario::auth::resolve`, shared with the executor).
    fn auth(&self, protocol: Protocol, mailbox: &str, written: crate::scenario::model::Mechanism, cred: &Credential, initial: bool) -> String {
        use crate::scenario::model::Mechanism as M;
        let (mech, declared) = match resolve(self.target, protocol, mailbox, written) {
            Form::CertificateOnly => {
                return format!(
                    "Authentification de la BAL {} par son certificat client seul (forme applicative déclarée par le profil cible) : \
                     aucune commande d'authentification n'est envoyée.",
                    self.mailbox(mailbox)
                );
            }
            Form::Sasl { mechanism, note } => (mechanism, note.map(|_| format!(" (forme applicative déclarée par le profil cible, au lieu de {})", written.name()))),
        };
        let what = match (cred, mech) {
            (Credential::Valid, M::Xoauth2 | M::OAuthBearer) => "avec un jeton d'accès valide (non affiché)".to_string(),
            (Credential::Valid, M::Plain) => "avec le certificat client présenté et l'adresse comme identifiant".into(),
            (Credential::Valid, M::External) => "avec l'identité du certificat client présenté".into(),
            (Credential::Expired, _) => "avec un jeton expiré (profil : negative.expired_token)".into(),
            (Credential::Revoked, _) => "avec un jeton révoqué (profil : negative.revoked_token)".into(),
            (Credential::Malformed, _) => "avec un jeton malformé fabriqué par mssconf".into(),
            (Credential::TokenOf(other), _) => format!("avec le jeton d'une autre BAL, {}", self.mailbox(&other.value)),
        };
        let ir = if initial { "" } else { ", réponse envoyée après le défi du serveur" };
        format!("Authentification de la BAL {} par le mécanisme {}{} {what}{ir}.", self.mailbox(mailbox), mech.name(), declared.unwrap_or_default())
    }

    fn smtp(&self, s: &SmtpStep) -> Vec<String> {
        let mut out = vec![with_expect(
            self.connection("SMTP", &s.endpoint.value, s.tls_versions, s.client_cert.as_ref()),
            s.greeting.as_ref().map(expect::smtp).unwrap_or_default(),
        )];
        for a in &s.actions {
            if let SmtpAction::Transaction(t) = a {
                out.push(with_expect(self.transaction(t), expect::transaction(t)));
                continue;
            }
            let (text, e) = self.smtp_action(a);
            out.push(with_expect(text, e.map(expect::smtp).unwrap_or_default()));
        }
        out
    }

    fn smtp_action<'s>(&self, a: &'s SmtpAction) -> (String, Option<&'s SmtpExpect>) {
        match a {
            SmtpAction::Ehlo(x) => {
                let name = x.name.as_deref().map(|n| self.r(n)).unwrap_or_else(|| "mssconf.test".into());
                (format!("EHLO {name} : lire les extensions annoncées."), x.expect.as_ref())
            }
            SmtpAction::Starttls(x) => (self.starttls(), x.expect.as_ref()),
            SmtpAction::Auth(x) => (self.auth(Protocol::Smtp, &x.mailbox.value, x.mechanism, &x.credential, x.initial_response), x.expect.as_ref()),
            SmtpAction::MailFrom(x) => (format!("Expéditeur de l'enveloppe : MAIL FROM:<{}>{}.", self.r(&x.address), params(&x.params)), x.expect.as_ref()),
            SmtpAction::RcptTo(x) => (format!("Destinataire de l'enveloppe : RCPT TO:<{}>{}.", self.r(&x.address), params(&x.params)), x.expect.as_ref()),
            SmtpAction::Data(x) => (self.message(&x.message), x.expect.as_ref()),
            SmtpAction::Command(x) => (format!("Commande brute, hors de l'ordre normal : {}", self.r(&x.line)), x.expect.as_ref()),
            SmtpAction::Transaction(x) => (self.transaction(x), None),
            SmtpAction::ExpectClosed(x) => (closed(x), None),
            SmtpAction::Quit(x) => ("QUIT : fin de la session.".into(), x.expect.as_ref()),
        }
    }

    /// `Tentative d'envoi : MAIL FROM:<a>, RCPT TO:<b>, puis le message « m » (DATA).`
    fn transaction(&self, t: &SmtpTransaction) -> String {
        let to: Vec<String> = t.to.iter().map(|a| format!("RCPT TO:<{}>{}", self.r(a), params(&t.rcpt_params))).collect();
        let data = match &t.message {
            Some(m) => format!(", puis, si tout est accepté : {}", self.message(m)),
            None => " (aucun message : RSET si tout est accepté).".into(),
        };
        format!("Tentative d'envoi, jugée comme un tout : MAIL FROM:<{}>{}, {}{data}", self.r(&t.from), params(&t.from_params), to.join(", "))
    }

    fn starttls(&self) -> String {
        format!(
            "STARTTLS : passage en TLS ; le certificat du serveur doit porter le nom {} et mener aux ancres de confiance du profil.",
            self.target.server_name
        )
    }

    /// `Envoi du message « m1 » de a@b à c@d : objet « … », taille …`
    fn message(&self, m: &MessageSpec) -> String {
        let to: Vec<String> = m.to.iter().map(|t| self.r(t)).collect();
        let mut s = format!(
            "Envoi du message « {} » (DATA) de {} à {} : objet « {} »",
            m.name.value,
            self.r(&m.from),
            to.join(", "),
            self.r(&m.subject)
        );
        s += &match m.pad_to_bytes {
            Some(n) => format!(", taille portée à {n} octets"),
            None => ", taille affichée après construction".into(),
        };
        for a in &m.attachments {
            s += &match a {
                Attachment::Xdm(x) => format!(", pièce jointe IHE_XDM.ZIP (patient fictif {}, {} document(s))", x.patient, x.documents.len()),
                Attachment::File(f) => format!(", pièce jointe {} ({})", f.filename.as_deref().unwrap_or(&f.path), f.content_type),
                Attachment::Generated(g) => format!(", pièce jointe générée de {} octets", g.size),
            };
        }
        if !m.headers.is_empty() {
            s += &format!(", en-têtes {}", m.headers.keys().cloned().collect::<Vec<_>>().join(", "));
        }
        if let Some(dnt) = &m.disposition_notification_to {
            s += &format!(", accusé de lecture demandé à {}", self.r(dnt));
        }
        s + "."
    }

    fn imap(&self, s: &ImapStep) -> Vec<String> {
        let mut out = vec![with_expect(
            self.connection("IMAP", &s.endpoint.value, s.tls_versions, s.client_cert.as_ref()),
            s.greeting.as_ref().map(expect::imap).unwrap_or_default(),
        )];
        for a in &s.actions {
            let (text, e) = self.imap_action(a);
            out.push(with_expect(text, e.map(expect::imap).unwrap_or_default()));
        }
        out
    }

    fn imap_action<'s>(&self, a: &'s ImapAction) -> (String, Option<&'s ImapExpect>) {
        match a {
            ImapAction::Capability(x) => ("CAPABILITY : lire les capacités annoncées.".into(), x.expect.as_ref()),
            ImapAction::Starttls(x) => (self.starttls(), x.expect.as_ref()),
            ImapAction::Login(x) => (format!("LOGIN en clair avec l'identifiant {} et un mot de passe factice.", self.r(&x.user)), x.expect.as_ref()),
            ImapAction::Authenticate(x) => (self.auth(Protocol::Imap, &x.mailbox.value, x.mechanism, &x.credential, x.sasl_ir), x.expect.as_ref()),
            ImapAction::Select(x) => (format!("SELECT du dossier « {} ».", self.r(&x.folder)), x.expect.as_ref()),
            ImapAction::Examine(x) => (format!("EXAMINE (lecture seule) du dossier « {} ».", self.r(&x.folder)), x.expect.as_ref()),
            ImapAction::Create(x) => (format!("CREATE du dossier « {} ».", self.r(&x.folder)), x.expect.as_ref()),
            ImapAction::List(x) => (format!("LIST des dossiers « {} ».", x.pattern.as_deref().unwrap_or("*")), x.expect.as_ref()),
            ImapAction::WaitFor(x) => (self.wait_for(x), x.expect.as_ref()),
            ImapAction::Fetch(x) => {
                let keep = x.capture.as_ref().map(|c| format!(", conservé sous « {} »", c.value)).unwrap_or_default();
                (format!("FETCH du message UID {}{keep}.", self.r(&x.uid)), x.expect.as_ref())
            }
            ImapAction::Search(x) => (format!("SEARCH {}.", self.r(&x.criteria)), x.expect.as_ref()),
            ImapAction::Store(x) => (format!("STORE du message UID {} : {}.", self.r(&x.uid), x.flags), x.expect.as_ref()),
            ImapAction::Append(x) => {
                let flags = x.flags.as_ref().map(|f| format!(" avec les drapeaux {f}")).unwrap_or_default();
                (format!("APPEND du message envoyé « {} » dans « {} »{flags}.", x.message, self.r(&x.folder)), x.expect.as_ref())
            }
            ImapAction::Move(x) => (format!("MOVE du message UID {} vers « {} ».", self.r(&x.uid), self.r(&x.folder)), x.expect.as_ref()),
            ImapAction::Command(x) => (format!("Commande brute, hors de l'ordre normal : {}", self.r(&x.line)), x.expect.as_ref()),
            ImapAction::ExpectClosed(x) => (closed(x), None),
            ImapAction::Logout(x) => ("LOGOUT : fin de la session.".into(), x.expect.as_ref()),
        }
    }

    fn wait_for(&self, w: &ImapWaitFor) -> String {
        let what = match (&w.message, &w.criteria) {
            (Some(m), _) => format!("du message envoyé « {m} » (recherché par son Message-ID)"),
            (None, Some(c)) => format!("d'un message répondant à « {} »", self.r(c)),
            (None, None) => "d'un message".into(),
        };
        let ms = w.timeout_ms.unwrap_or(self.target.timeouts.delivery);
        let keep = w.capture.as_ref().map(|c| format!(" ; son UID est retenu sous « {} »", c.value)).unwrap_or_default();
        format!("Attente de l'arrivée {what} dans « {} », {} au plus{keep}.", self.r(&w.folder), seconds(ms))
    }

    fn tls(&self, s: &TlsStep) -> Vec<String> {
        let ep = &s.endpoint.value;
        let at = match self.target.endpoints.get(ep) {
            Some(e) if e.tls == TlsMode::Starttls => format!("{}:{} (après STARTTLS en clair)", e.host, e.port),
            Some(e) => format!("{}:{} (TLS implicite)", e.host, e.port),
            None => format!("« {ep} », absent du profil cible (l'étape échouera)"),
        };
        let (text, e) = if let Some(h) = &s.handshake {
            let v = h.versions.map(|v| format!(", versions proposées : {}", versions_fr(v))).unwrap_or_default();
            (format!("Poignée de main TLS complète sur {at}{v} : version, suite et chaîne de certificats relevées."), h.expect.as_ref())
        } else if let Some(p) = &s.probe {
            let suites = if p.suites.is_empty() { String::new() } else { format!(" avec les suites {}", p.suites.join(", ")) };
            let v = if p.version == "3.0" { "SSL 3.0".to_string() } else { format!("TLS {}", p.version) };
            (format!("Sonde {v} sur {at} : ClientHello n'offrant que {v}{suites}."), p.expect.as_ref())
        } else if let Some(p) = &s.probe_suites_outside_allow_list {
            let text = match crate::exec::probe::plan_families(p.family_ids(), &p.candidates, &self.target.tls.cipher_allow_list) {
                Ok(f) => format!(
                    "Sondes TLS 1.2 sur {at} : {} famille(s) de suites hors de la liste autorisée du profil ({} suites : {}), \
                     un ClientHello par famille offrant toutes ses suites ; chaque suite acceptée est consignée par son nom IANA \
                     et la famille est proposée de nouveau sans elle, jusqu'au refus.",
                    f.len(),
                    f.iter().map(|x| x.suites.len()).sum::<usize>(),
                    f.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
                Err(e) => format!("Sondes TLS 1.2 sur {at} impossibles : {e} (l'étape finira en erreur)."),
            };
            (text, p.expect.as_ref())
        } else {
            ("Étape TLS sans vérification : elle finira en erreur.".into(), None)
        };
        vec![with_expect(text, e.map(expect::tls).unwrap_or_default())]
    }

    fn http(&self, h: &HttpStep) -> Vec<String> {
        let body = if h.body.is_some() { " avec un corps" } else { "" };
        let text = format!("Requête HTTP {} {}{body}.", h.method.to_uppercase(), self.r(&h.url));
        vec![with_expect(text, h.expect.as_ref().map(expect::http).unwrap_or_default())]
    }
}

fn mode(tls: TlsMode) -> &'static str {
    match tls {
        TlsMode::Starttls => "en STARTTLS (en clair, puis passage en TLS)",
        TlsMode::Implicit => "en TLS implicite (chiffré dès la connexion)",
    }
}

fn versions_fr(v: TlsVersions) -> &'static str {
    match v {
        TlsVersions::Any => "TLS 1.2 et 1.3",
        TlsVersions::Tls12Only => "TLS 1.2 seulement",
        TlsVersions::Tls13Only => "TLS 1.3 seulement",
    }
}

fn params(p: &[String]) -> String {
    if p.is_empty() { String::new() } else { format!(" {}", p.join(" ")) }
}

fn closed(x: &ExpectClosed) -> String {
    format!("Vérifier que le serveur ferme la connexion, sous {} au plus.", seconds(x.within_ms.unwrap_or(2000)))
}

/// `2 s`, `1,5 s`, `60 s`
fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{} s", ms / 1000) } else { format!("{},{} s", ms / 1000, format!("{:03}", ms % 1000).trim_end_matches('0')) }
}

#[cfg(test)]
mod tests;
