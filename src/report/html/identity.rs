//! The service identity section: what the profile declares beside what the servers showed
//! (banner, EHLO, IMAP greeting and ID, TLS chain). A difference is an observation.

use std::fmt::{self, Write};

use super::{Ctx, esc};
use crate::cli::args::Lang;
use crate::exec::tls::{CertFacts, TlsFacts};
use crate::verdict::identity::{Comparison, ServiceEvidence};

pub(crate) struct Words {
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

pub(crate) const FR: Words = Words {
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

pub(crate) const EN: Words = Words {
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

pub(crate) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// The label of a comparison item in the run's language.
pub(crate) fn item_label(w: &Words, c: &Comparison) -> &'static str {
    match c.item.as_str() {
        "service" => w.service,
        "version" => w.version,
        "software" => w.software,
        _ => w.software_version,
    }
}

/// Where a declared item was seen, in the run's language.
pub(crate) fn finding(w: &Words, c: &Comparison) -> String {
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

pub(super) fn render(out: &mut String, cx: &Ctx<'_>) -> fmt::Result {
    let Some(e) = &cx.record.service_identity else { return Ok(()) };
    let w = words(cx.lang);
    writeln!(out, "<section id=\"service-identity\">\n<h2>{}</h2>\n<p>{}</p>", esc(w.title), esc(w.intro))?;
    comparison(out, w, e)?;
    observed(out, w, e)?;
    writeln!(out, "</section>")
}

fn comparison(out: &mut String, w: &Words, e: &ServiceEvidence) -> fmt::Result {
    writeln!(
        out,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(w.item),
        esc(w.declared),
        esc(w.finding)
    )?;
    for c in &e.comparison {
        let class = if c.matches() { "" } else { " class=\"advice\"" };
        writeln!(out, "<tr{class}><td>{}</td><td>{}</td><td>{}</td></tr>", esc(item_label(w, c)), esc(&c.declared), esc(&finding(w, c)))?;
    }
    writeln!(out, "</tbody></table>")
}

fn observed(out: &mut String, w: &Words, e: &ServiceEvidence) -> fmt::Result {
    let o = &e.observed;
    writeln!(out, "<h3>{}</h3>\n<dl class=\"meta\">", esc(w.observed))?;
    if let Some(s) = &o.smtp {
        row(out, &format!("{} ({})", w.banner, s.endpoint), &s.banner)?;
        row(out, w.ehlo, s.ehlo_name.as_deref().unwrap_or("-"))?;
        if let Some(why) = &s.stopped {
            row(out, w.stopped, why)?;
        }
    }
    if let Some(i) = &o.imap {
        row(out, &format!("{} ({})", w.greeting, i.endpoint), &i.greeting)?;
        let id = match (&i.id_response, i.id_advertised) {
            (Some(r), _) => r.as_str(),
            (None, true) => w.id_no_answer,
            (None, false) => w.id_not_advertised,
        };
        row(out, w.id, id)?;
        if let Some(why) = &i.stopped {
            row(out, w.stopped, why)?;
        }
    }
    for u in &o.unobserved {
        row(out, w.unobserved, u)?;
    }
    writeln!(out, "</dl>")?;
    let chains = [o.smtp.as_ref().map(|s| (&s.endpoint, &s.tls)), o.imap.as_ref().map(|i| (&i.endpoint, &i.tls))];
    for (endpoint, tls) in chains.into_iter().flatten() {
        if let Some(tls) = tls {
            chain(out, w, endpoint, tls)?;
        }
    }
    Ok(())
}

fn chain(out: &mut String, w: &Words, endpoint: &str, tls: &TlsFacts) -> fmt::Result {
    writeln!(out, "<h3>{} — <span class=\"mono\">{}</span></h3>", esc(w.chain), esc(endpoint))?;
    writeln!(
        out,
        "<table><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>SHA-256</th></tr></thead><tbody>",
        esc(w.subject),
        esc(w.issuer),
        esc(w.serial),
        esc(w.validity)
    )?;
    for (n, c) in tls.server_chain.iter().enumerate() {
        cert_row(out, n, c)?;
    }
    writeln!(out, "</tbody></table>")
}

fn cert_row(out: &mut String, n: usize, c: &CertFacts) -> fmt::Result {
    writeln!(
        out,
        "<tr><td>{n}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{} — {}</td><td class=\"mono\">{}</td></tr>",
        esc(&c.subject),
        esc(&c.issuer),
        esc(&c.serial),
        esc(&c.not_before),
        esc(&c.not_after),
        esc(&c.sha256)
    )
}

fn row(out: &mut String, name: &str, value: &str) -> fmt::Result {
    writeln!(out, "<dt>{}</dt><dd class=\"mono\">{}</dd>", esc(name), esc(value))
}
