//! Expectations: which fields of a step's expectations the description reads, and their
//! wording — in French for the audit screen ("Attendu : code 250 ; STARTTLS annoncé"), in
//! English where the dry run states one. Expectations are read item by item
//! (`scenario/model/expect_walk.rs`), in the order they are judged.

use crate::scenario::model::{
    CapabilityExpect, HttpExpect, HttpItem, ImapExpect, ImapItem, MessageItems, ReportExpect, SmtpAddress, SmtpExpect, SmtpItem,
    SmtpTransaction, TlsExpect, TlsHandshake, TlsItem, TransactionOutcome,
};

/// What is expected of one item.
#[derive(Clone, Copy)]
pub enum Expect<'a> {
    Nothing,
    Smtp(&'a SmtpExpect),
    Imap(&'a ImapExpect),
    Tls(&'a TlsExpect),
    Http(&'a HttpExpect),
    /// A transaction's outcome (accepted, refused at a stage, either).
    Transaction(&'a SmtpTransaction),
}

impl<'a> Expect<'a> {
    pub fn smtp(e: Option<&'a SmtpExpect>) -> Self {
        e.map_or(Expect::Nothing, Expect::Smtp)
    }

    pub fn imap(e: Option<&'a ImapExpect>) -> Self {
        e.map_or(Expect::Nothing, Expect::Imap)
    }

    pub fn tls(e: Option<&'a TlsExpect>) -> Self {
        e.map_or(Expect::Nothing, Expect::Tls)
    }

    pub fn http(e: Option<&'a HttpExpect>) -> Self {
        e.map_or(Expect::Nothing, Expect::Http)
    }

    /// `Attendu : a ; b ; c.` or `None` when nothing is expected.
    pub fn attendu(&self) -> Option<String> {
        let parts = match self {
            Expect::Nothing => Vec::new(),
            Expect::Smtp(e) => smtp(e),
            Expect::Imap(e) => imap(e),
            Expect::Tls(e) => tls(e),
            Expect::Http(e) => http(e),
            Expect::Transaction(t) => transaction(t),
        };
        (!parts.is_empty()).then(|| format!("Attendu : {}.", parts.join(" ; ")))
    }
}

/// The reply code a RCPT TO expects (the send guard lets an undeclared address be tried when a
/// refusal is expected).
pub fn rcpt_code(x: &SmtpAddress) -> Option<&str> {
    x.expect.as_ref().and_then(|e| e.code.as_ref()).map(|c| c.value.as_str())
}

/// The same for the recipients of a transaction: only a refused one without a message.
pub fn transaction_rcpt_code(t: &SmtpTransaction) -> Option<&str> {
    (t.message.is_none() && t.expect.outcome.value == TransactionOutcome::Refused).then(|| t.refusal_code())
}

/// Whether the handshake checks revocation (the CRLs are fetched after it).
pub fn checks_revocation(h: &TlsHandshake) -> bool {
    h.expect.as_ref().is_some_and(|e| e.not_revoked.is_some())
}

/// ` (expecting 550)`: the dry run's note on a recipient.
pub fn expecting_en(code: Option<&str>) -> String {
    code.map(|c| format!(" (expecting {c})")).unwrap_or_default()
}

fn smtp(e: &SmtpExpect) -> Vec<String> {
    let mut p = Vec::new();
    for item in e.items() {
        match item {
            SmtpItem::Code(c) => p.push(format!("code {}", c.replace('|', " ou "))),
            SmtpItem::Enhanced(x) => p.push(format!("code étendu {x}")),
            SmtpItem::TextContains(t) => p.push(format!("texte contenant « {t} »")),
            SmtpItem::Capabilities(c) => p.extend(capabilities(c)),
            SmtpItem::ChallengeContains(t) => p.push(format!("défi SASL contenant « {t} »")),
            SmtpItem::Closes(b) => p.push(closes(b)),
            SmtpItem::Tls(t) => p.extend(tls(t)),
            SmtpItem::Observe(o) => p.extend(observed(smtp(o))),
        }
    }
    p
}

/// `observé, sans être exigé : code 535`
fn observed(parts: Vec<String>) -> Option<String> {
    (!parts.is_empty()).then(|| format!("observé, sans être exigé : {}", parts.join(", ")))
}

/// `envoi refusé à MAIL FROM, RCPT TO ou DATA (5xx), ou connexion fermée`
fn transaction(t: &SmtpTransaction) -> Vec<String> {
    let stages: Vec<&str> = t.refusal_stages().iter().map(|s| s.name()).collect();
    let stages = match stages.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} ou {last}", rest.join(", ")),
        None => String::new(),
    };
    let refusal = format!("envoi refusé à {stages} (code {}), ou connexion fermée par le serveur", t.refusal_code().replace('|', " ou "));
    vec![match t.expect.outcome.value {
        TransactionOutcome::Refused => refusal,
        TransactionOutcome::Accepted => "envoi accepté à chaque étape".into(),
        TransactionOutcome::Either => format!("envoi accepté, ou {refusal} (les deux sont conformes ; l'issue est consignée)"),
    }]
}

fn imap(e: &ImapExpect) -> Vec<String> {
    let mut p = Vec::new();
    for item in e.items() {
        match item {
            ImapItem::Status(s) => p.push(format!("statut {}", s.to_uppercase().replace('|', " ou "))),
            ImapItem::Code(c) => p.push(format!("code de réponse {c}")),
            ImapItem::TextContains(t) => p.push(format!("texte contenant « {t} »")),
            ImapItem::Capabilities(c) => p.extend(capabilities(c)),
            ImapItem::ChallengeContains(t) => p.push(format!("défi SASL contenant « {t} »")),
            ImapItem::UntaggedContains(t) => p.push(format!("réponses non étiquetées contenant « {t} »")),
            ImapItem::Found(f) => p.push(if f { "message trouvé".into() } else { "aucun message trouvé".into() }),
            ImapItem::CountAtLeast(n) => p.push(format!("au moins {n} résultat(s)")),
            ImapItem::WaitMethod(m) => p.push(format!("attente par {m}")),
            ImapItem::Closes(b) => p.push(closes(b)),
            ImapItem::Message(m) => p.extend(message(&m)),
            ImapItem::Tls(t) => p.extend(tls(t)),
            ImapItem::Observe(o) => p.extend(observed(imap(o))),
        }
    }
    p
}

fn message(m: &MessageItems<'_>) -> Vec<String> {
    let mut p = Vec::new();
    if let Some(m) = m.matches_sent {
        let headers = if m.headers.is_empty() { "en-têtes X-MSS-*, Subject, From, To, Message-ID".to_string() } else { m.headers.join(", ") };
        let parts = if m.parts { ", parties MIME identiques (pièces jointes comprises)" } else { "" };
        p.push(format!("identique au message envoyé « {} » ({headers}{parts})", m.message));
    }
    p.extend(m.headers.iter().map(|(k, v)| format!("en-tête {k}: {v}")));
    p.extend(m.headers_absent.iter().map(|k| format!("en-tête {k} absent")));
    p.extend(m.report.map(report));
    p
}

fn tls(e: &TlsExpect) -> Vec<String> {
    e.items()
        .into_iter()
        .map(|item| match item {
            TlsItem::Established(b) => if b { "TLS établi" } else { "connexion TLS refusée par le serveur" }.into(),
            TlsItem::VersionIn(v) => format!("version {}", v.join(" ou ")),
            TlsItem::ChainVerified(b) => {
                if b { "chaîne de certificats vérifiée (ancres du profil, nom, dates)" } else { "chaîne de certificats rejetée" }.into()
            }
            TlsItem::SuiteAllowed(b) => {
                if b { "suite négociée dans la liste autorisée" } else { "suite négociée hors de la liste autorisée" }.into()
            }
            TlsItem::NotRevoked(b) => if b {
                "certificat serveur absent de la LCR de son émetteur (LCR déclarées par le profil)"
            } else {
                "certificat serveur listé dans la LCR de son émetteur"
            }
            .into(),
        })
        .collect()
}

fn http(e: &HttpExpect) -> Vec<String> {
    let mut p = Vec::new();
    for item in e.items() {
        match item {
            HttpItem::Status(s) => p.push(format!("statut HTTP {s}")),
            HttpItem::BodyContains(t) => p.push(format!("corps contenant « {t} »")),
            HttpItem::HeaderContains(k, v) => p.push(format!("en-tête {k} contenant « {v} »")),
            HttpItem::Whitelist { has, lacks } => {
                if !has.is_empty() {
                    p.push(format!("liste blanche listant {}", has.join(", ")));
                }
                if !lacks.is_empty() {
                    p.push(format!("liste blanche ne listant pas {}", lacks.join(", ")));
                }
            }
        }
    }
    p
}

fn capabilities(c: &CapabilityExpect) -> Vec<String> {
    let mut p = Vec::new();
    if !c.has.is_empty() {
        p.push(format!("{} annoncé(s)", c.has.join(", ")));
    }
    if !c.lacks.is_empty() {
        p.push(format!("{} absent(s)", c.lacks.join(", ")));
    }
    if !c.auth_has.is_empty() {
        p.push(format!("mécanisme(s) AUTH {} proposé(s)", c.auth_has.join(", ")));
    }
    p
}

fn closes(b: bool) -> String {
    if b { "le serveur ferme la connexion".into() } else { "la connexion reste ouverte".into() }
}

fn report(r: &ReportExpect) -> String {
    let mut s = format!("rapport {}", r.report_type);
    if !r.action.is_empty() {
        s += &format!(", action {}", r.action.join(" ou "));
    }
    if let Some(x) = &r.status {
        s += &format!(", statut {x}");
    }
    if let Some(x) = &r.envelope_id {
        s += &format!(", Original-Envelope-Id {x}");
    }
    if let Some(x) = &r.original_message {
        s += &format!(", portant sur le message envoyé « {x} »");
    }
    if let Some(x) = &r.disposition_contains {
        s += &format!(", disposition contenant « {x} »");
    }
    s
}
