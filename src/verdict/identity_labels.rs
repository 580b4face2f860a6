//! The words of the service identity (declared / observed) in French and English, shared by the
//! HTML report and the production card.

use crate::lang::Lang;
use crate::verdict::identity::Comparison;

pub struct Words {
    pub title: &'static str,
    pub intro: &'static str,
    pub item: &'static str,
    pub declared: &'static str,
    pub observed: &'static str,
    pub finding: &'static str,
    pub found: &'static str,
    pub not_found: &'static str,
    pub service: &'static str,
    pub version: &'static str,
    pub software: &'static str,
    pub software_version: &'static str,
    pub banner: &'static str,
    pub ehlo: &'static str,
    pub greeting: &'static str,
    pub id: &'static str,
    pub id_not_advertised: &'static str,
    pub id_no_answer: &'static str,
    pub chain: &'static str,
    pub subject: &'static str,
    pub issuer: &'static str,
    pub serial: &'static str,
    pub validity: &'static str,
    pub stopped: &'static str,
    pub unobserved: &'static str,
}

pub const FR: Words = Words {
    title: "Identité du service : déclaré / observé",
    intro: "Ce que le profil déclare (nom et version du service, logiciels) et ce que les serveurs \
            montrent d'eux-mêmes, relevé à chaque exécution sur une connexion sans authentification. \
            Un écart est une observation, jamais un échec : un serveur peut taire son produit et sa version.",
    item: "Élément",
    declared: "Déclaré",
    observed: "Observé",
    finding: "Constat",
    found: "retrouvé",
    not_found: "non retrouvé dans ce que montrent les serveurs (observation)",
    service: "Service",
    version: "Version",
    software: "Logiciel",
    software_version: "Version du logiciel",
    banner: "Bannière SMTP",
    ehlo: "Nom EHLO",
    greeting: "Accueil IMAP",
    id: "Réponse IMAP ID",
    id_not_advertised: "ID non annoncé par le serveur (commande non envoyée)",
    id_no_answer: "aucune réponse * ID",
    chain: "Chaîne TLS du serveur",
    subject: "Sujet",
    issuer: "Émetteur",
    serial: "Numéro de série",
    validity: "Validité",
    stopped: "Échange interrompu",
    unobserved: "Non observé",
};

pub const EN: Words = Words {
    title: "Service identity: declared / observed",
    intro: "What the profile declares (service name and version, software) and what the servers \
            show of themselves, recorded on every run over a connection that never authenticates. \
            A difference is an observation, never a failure: a server may hide its product and version.",
    item: "Item",
    declared: "Declared",
    observed: "Observed",
    finding: "Finding",
    found: "found",
    not_found: "not found in what the servers show (observation)",
    service: "Service",
    version: "Version",
    software: "Software",
    software_version: "Software version",
    banner: "SMTP banner",
    ehlo: "EHLO name",
    greeting: "IMAP greeting",
    id: "IMAP ID response",
    id_not_advertised: "ID not advertised by the server (command not sent)",
    id_no_answer: "no * ID response",
    chain: "Server TLS chain",
    subject: "Subject",
    issuer: "Issuer",
    serial: "Serial number",
    validity: "Validity",
    stopped: "Exchange stopped",
    unobserved: "Not observed",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// The label of a comparison item in the run's language.
pub fn item_label(w: &Words, c: &Comparison) -> &'static str {
    match c.item.as_str() {
        "service" => w.service,
        "version" => w.version,
        "software" => w.software,
        _ => w.software_version,
    }
}

/// Where a declared item was seen, in the run's language.
pub fn finding(w: &Words, c: &Comparison) -> String {
    if !c.matches() {
        return w.not_found.to_string();
    }
    let sources: Vec<&str> = c.seen_in.iter().map(|s| source_label(w, s)).collect();
    format!("{} ({})", w.found, sources.join(", "))
}

/// `SMTP banner` (the record's source name) in the run's language.
fn source_label<'a>(w: &'a Words, source: &'a str) -> &'a str {
    match source {
        "SMTP banner" => w.banner,
        "SMTP EHLO" => w.ehlo,
        "IMAP greeting" => w.greeting,
        "IMAP ID" => w.id,
        other => other,
    }
}
