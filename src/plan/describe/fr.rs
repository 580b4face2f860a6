//! The description in plain French, one line per item with what is expected: the audit
//! screen shows it to the auditor before the operator runs the step.

use super::*;
use crate::scenario::model::{Attachment, Mechanism as M};
use crate::target::model::{MailboxType, TlsMode};

/// One line per thing the step does, in order, each with what is expected.
pub fn lines(d: &StepDescription<'_>) -> Vec<String> {
    d.items.iter().map(line).collect()
}

/// `text` followed by ` Attendu : …` when something is expected.
fn line(i: &Item<'_>) -> String {
    let text = does(&i.does);
    match i.expect.attendu() {
        Some(a) => format!("{text} {a}"),
        None => text,
    }
}

fn does(d: &Does<'_>) -> String {
    match d {
        Does::Connect(c) => connection(c),
        Does::Ehlo { name } => format!("EHLO {name} : lire les extensions annoncées."),
        Does::Starttls { server_name } => format!(
            "STARTTLS : passage en TLS ; le certificat du serveur doit porter le nom {server_name} et mener aux ancres de confiance du profil."
        ),
        Does::Login(l) => login(l),
        Does::PlainLogin { user } => format!("LOGIN en clair avec l'identifiant {user} et un mot de passe factice."),
        Does::MailFrom { address, params: p } => format!("Expéditeur de l'enveloppe : MAIL FROM:<{address}>{}.", params(p)),
        Does::RcptTo(r) => format!("Destinataire de l'enveloppe : RCPT TO:<{}>{}.", r.address, params(r.params)),
        Does::Message(m) => message(m),
        Does::Transaction(t) => transaction(t),
        Does::RawCommand { line, .. } => format!("Commande brute, hors de l'ordre normal : {line}"),
        Does::ExpectClosed { within_ms } => format!("Vérifier que le serveur ferme la connexion, sous {} au plus.", seconds(*within_ms)),
        Does::Quit => "QUIT : fin de la session.".into(),
        Does::Logout => "LOGOUT : fin de la session.".into(),
        Does::Capability => "CAPABILITY : lire les capacités annoncées.".into(),
        Does::Folder { command: FolderCommand::Select, folder } => format!("SELECT du dossier « {folder} »."),
        Does::Folder { command: FolderCommand::Examine, folder } => format!("EXAMINE (lecture seule) du dossier « {folder} »."),
        Does::Folder { command: FolderCommand::Create, folder } => format!("CREATE du dossier « {folder} »."),
        Does::List { pattern } => format!("LIST des dossiers « {pattern} »."),
        Does::WaitFor(w) => wait_for(w),
        Does::Fetch { uid, capture } => {
            let keep = capture.map(|c| format!(", conservé sous « {c} »")).unwrap_or_default();
            format!("FETCH du message UID {uid}{keep}.")
        }
        Does::Search { criteria } => format!("SEARCH {criteria}."),
        Does::Store { uid, flags } => format!("STORE du message UID {uid} : {flags}."),
        Does::Append { message, folder, flags } => {
            let flags = flags.map(|f| format!(" avec les drapeaux {f}")).unwrap_or_default();
            format!("APPEND du message envoyé « {message} » dans « {folder} »{flags}.")
        }
        Does::Move { uid, folder } => format!("MOVE du message UID {uid} vers « {folder} »."),
        Does::Tls(t) => tls(t),
        Does::Http(h) => format!("Requête HTTP {} {}{}.", h.method, h.url, if h.has_body { " avec un corps" } else { "" }),
        Does::Wait { ms } => format!("Pause de {ms} ms (laisser le temps au serveur)."),
        Does::Invalid => "Étape invalide (aucun ou plusieurs protocoles) : elle finira en erreur.".into(),
    }
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Smtp => "SMTP",
        Protocol::Imap => "IMAP",
    }
}

/// `Connexion SMTP à 127.0.0.1:2525 en STARTTLS (en clair, puis passage en TLS).`
fn connection(c: &Connect<'_>) -> String {
    let protocol = protocol(c.protocol);
    let mut s = match c.at.endpoint {
        Some(ep) => format!("Connexion {protocol} à {}:{} {}", ep.host, ep.port, mode(ep.tls)),
        None => format!("Connexion {protocol} au point d'accès « {} », absent du profil cible (l'étape échouera)", c.at.name),
    };
    if let Some(v) = c.versions {
        s += &format!(", versions TLS proposées : {}", versions(v));
    }
    if let Some(cert) = c.client_cert {
        s += &format!(", en présentant {}", client_cert(cert));
    }
    s + "."
}

fn client_cert(c: CertUse<'_>) -> String {
    match c {
        CertUse::Mailbox(m) => format!("le certificat client de la BAL {}", mailbox(&m)),
        CertUse::Expired => "un certificat client expiré (profil : negative.expired_client_cert)".into(),
        CertUse::Foreign => "un certificat client d'une autre autorité (profil : negative.foreign_client_cert)".into(),
        CertUse::Revoked => "un certificat client révoqué par l'autorité de l'opérateur (profil : negative.revoked_client_cert)".into(),
    }
}

/// `« per1 » (dr.martin@op.test, BAL personnelle)`
fn mailbox(m: &Mailbox<'_>) -> String {
    match m.declared {
        Some(d) => {
            let kind = match d.kind {
                MailboxType::Per => "BAL personnelle",
                MailboxType::Org => "BAL organisationnelle",
                MailboxType::App => "BAL applicative",
            };
            format!("« {} » ({}, {kind})", m.role, d.address)
        }
        None => format!("« {} » (absente du profil cible)", m.role),
    }
}

fn login(l: &Login<'_>) -> String {
    let (mechanism, instead_of, credential, initial_response) = match &l.form {
        LoginForm::CertificateOnly => {
            return format!(
                "Authentification de la BAL {} par son certificat client seul (forme applicative déclarée par le profil cible) : \
                 aucune commande d'authentification n'est envoyée.",
                mailbox(&l.mailbox)
            );
        }
        LoginForm::Sasl { mechanism, instead_of, credential, initial_response } => (*mechanism, instead_of, credential, *initial_response),
    };
    let declared = instead_of.map(|w| format!(" (forme applicative déclarée par le profil cible, au lieu de {})", w.name())).unwrap_or_default();
    let what = match (credential, mechanism) {
        (CredentialUse::Valid { .. }, M::Xoauth2 | M::OAuthBearer) => "avec un jeton d'accès valide (non affiché)".to_string(),
        (CredentialUse::Valid { .. }, M::Plain) => "avec le certificat client présenté et l'adresse comme identifiant".into(),
        (CredentialUse::Valid { .. }, M::External) => "avec l'identité du certificat client présenté".into(),
        (CredentialUse::Expired(_), _) => "avec un jeton expiré (profil : negative.expired_token)".into(),
        (CredentialUse::Revoked(_), _) => "avec un jeton révoqué (profil : negative.revoked_token)".into(),
        (CredentialUse::Malformed, _) => "avec un jeton malformé fabriqué par mssconf".into(),
        (CredentialUse::TokenOf { mailbox: other, .. }, _) => format!("avec le jeton d'une autre BAL, {}", mailbox(other)),
        (CredentialUse::Derived { from, alteration, .. }, _) => format!(
            "avec un jeton fabriqué par mssconf à partir du jeton valide de la BAL {} ({}, non affiché)",
            mailbox(from),
            alteration.describe_fr()
        ),
    };
    let ir = if initial_response { "" } else { ", réponse envoyée après le défi du serveur" };
    format!("Authentification de la BAL {} par le mécanisme {}{declared} {what}{ir}.", mailbox(&l.mailbox), mechanism.name())
}

/// `Tentative d'envoi, jugée comme un tout : MAIL FROM:<a>, RCPT TO:<b>, puis, si tout est accepté : …`
fn transaction(t: &Transaction<'_>) -> String {
    let to: Vec<String> = t.to.iter().map(|r| format!("RCPT TO:<{}>{}", r.address, params(r.params))).collect();
    let data = match &t.message {
        Some(m) => format!(", puis, si tout est accepté : {}", message(m)),
        None => " (aucun message : RSET si tout est accepté).".into(),
    };
    format!("Tentative d'envoi, jugée comme un tout : MAIL FROM:<{}>{}, {}{data}", t.from, params(t.from_params), to.join(", "))
}

/// `Envoi du message « m1 » (DATA) de a@b à c@d : objet « … », taille …`
fn message(m: &Message<'_>) -> String {
    let spec = m.spec;
    let mut s = format!("Envoi du message « {} » (DATA) de {} à {} : objet « {} »", spec.name.value, m.from, m.to.join(", "), m.subject);
    s += &match spec.pad_to_bytes {
        Some(n) => format!(", taille portée à {n} octets"),
        None => ", taille affichée après construction".into(),
    };
    for a in &spec.attachments {
        s += &match a {
            Attachment::Xdm(x) => format!(", pièce jointe IHE_XDM.ZIP (patient fictif {}, {} document(s))", x.patient, x.documents.len()),
            Attachment::File(f) => format!(", pièce jointe {} ({})", f.filename.as_deref().unwrap_or(&f.path), f.content_type),
            Attachment::Generated(g) => format!(", pièce jointe générée de {} octets", g.size),
        };
    }
    if !spec.headers.is_empty() {
        s += &format!(", en-têtes {}", spec.headers.keys().cloned().collect::<Vec<_>>().join(", "));
    }
    if let Some(dnt) = &m.disposition_notification_to {
        s += &format!(", accusé de lecture demandé à {dnt}");
    }
    s + "."
}

fn wait_for(w: &WaitFor<'_>) -> String {
    let what = match (w.message, &w.criteria) {
        (Some(m), _) => format!("du message envoyé « {m} » (recherché par son Message-ID)"),
        (None, Some(c)) => format!("d'un message répondant à « {c} »"),
        (None, None) => "d'un message".into(),
    };
    let keep = w.capture.map(|c| format!(" ; son UID est retenu sous « {c} »")).unwrap_or_default();
    format!("Attente de l'arrivée {what} dans « {} », {} au plus{keep}.", w.folder, seconds(w.within_ms))
}

fn tls(t: &TlsProbe<'_>) -> String {
    let at = match t.at.endpoint {
        Some(e) if e.tls == TlsMode::Starttls => format!("{}:{} (après STARTTLS en clair)", e.host, e.port),
        Some(e) => format!("{}:{} (TLS implicite)", e.host, e.port),
        None => format!("« {} », absent du profil cible (l'étape échouera)", t.at.name),
    };
    match &t.kind {
        TlsKind::Handshake { versions: v, .. } => {
            let v = v.map(|v| format!(", versions proposées : {}", versions(v))).unwrap_or_default();
            format!("Poignée de main TLS complète sur {at}{v} : version, suite et chaîne de certificats relevées.")
        }
        TlsKind::Version { version, suites } => {
            let suites = if suites.is_empty() { String::new() } else { format!(" avec les suites {}", suites.join(", ")) };
            let v = tls_version(version);
            format!("Sonde {v} sur {at} : ClientHello n'offrant que {v}{suites}.")
        }
        TlsKind::Families(Ok(f)) => format!(
            "Sondes TLS 1.2 sur {at} : {} famille(s) de suites hors de la liste autorisée du profil ({} suites : {}), \
             un ClientHello par famille offrant toutes ses suites ; chaque suite acceptée est consignée par son nom IANA \
             et la famille est proposée de nouveau sans elle, jusqu'au refus.",
            f.len(),
            f.iter().map(|x| x.suites.len()).sum::<usize>(),
            f.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
        TlsKind::Families(Err(e)) => format!("Sondes TLS 1.2 sur {at} impossibles : {e} (l'étape finira en erreur)."),
        TlsKind::KeyExchange { min_dh_bits, min_ecdh_bits, .. } => format!(
            "Sondes d'échange de clés TLS 1.2 sur {at} : suites DHE seules (groupe DH d'au moins {min_dh_bits} bits exigé si DHE est \
             accepté), suites ECDHE avec des courbes de moins de 256 bits seules (refus, ou courbe d'au moins {min_ecdh_bits} bits), \
             puis chaque groupe fort seul (groupes acceptés consignés)."
        ),
        TlsKind::Nothing => "Étape TLS sans vérification : elle finira en erreur.".into(),
    }
}

/// `TLS 1.0`, `SSL 3.0`.
pub(super) fn tls_version(v: &str) -> String {
    if v == "3.0" { "SSL 3.0".into() } else { format!("TLS {v}") }
}

fn mode(tls: TlsMode) -> &'static str {
    match tls {
        TlsMode::Starttls => "en STARTTLS (en clair, puis passage en TLS)",
        TlsMode::Implicit => "en TLS implicite (chiffré dès la connexion)",
    }
}

fn versions(v: TlsVersions) -> &'static str {
    match v {
        TlsVersions::Any => "TLS 1.2 et 1.3",
        TlsVersions::Tls12Only => "TLS 1.2 seulement",
        TlsVersions::Tls13Only => "TLS 1.3 seulement",
    }
}

fn params(p: &[String]) -> String {
    if p.is_empty() { String::new() } else { format!(" {}", p.join(" ")) }
}

/// `2 s`, `1,5 s`, `60 s`
pub(super) fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{} s", ms / 1000) } else { format!("{},{} s", ms / 1000, format!("{:03}", ms % 1000).trim_end_matches('0')) }
}
