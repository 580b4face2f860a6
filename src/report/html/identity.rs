//! The service identity section: what the profile declares beside what the servers showed
//! (banner, EHLO, IMAP greeting and ID, TLS chain). A difference is an observation.

use std::fmt::{self, Write};

use super::{Ctx, esc};
use crate::verdict::identity_labels::{Words, finding, item_label, words};
use crate::exec::tls::{CertFacts, TlsFacts};
use crate::verdict::identity::ServiceEvidence;

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
