//! The service identity rows of the production card: the declared service beside what the
//! servers showed (issue #18 item 3), and the server certificate that identifies the host.

use crate::lang::Lang;
use crate::record::RunRecord;
use crate::verdict::identity_labels::{finding, item_label, words};

/// `Déclaré`, `Observé` and `Certificat serveur` rows; none when the run observed nothing.
pub fn identity_rows(run: &RunRecord, lang: Lang) -> Vec<(String, String)> {
    let Some(e) = &run.service_identity else { return Vec::new() };
    let w = words(lang);
    let quoted = |c: &crate::verdict::identity::Comparison| match lang {
        Lang::Fr => format!("{} « {} » : {}", item_label(w, c), c.declared, finding(w, c)),
        Lang::En => format!("{} \"{}\": {}", item_label(w, c), c.declared, finding(w, c)),
    };
    let declared: Vec<String> = e.comparison.iter().map(quoted).collect();
    let sep = if lang == Lang::Fr { " : " } else { ": " };
    let mut seen = Vec::new();
    if let Some(s) = &e.observed.smtp {
        seen.push(format!("{}{sep}{}", w.banner, s.banner.lines().next().unwrap_or("")));
    }
    if let Some(i) = &e.observed.imap {
        match &i.id_response {
            Some(id) => seen.push(format!("{}{sep}{id}", w.id)),
            None => seen.push(format!("{}{sep}{}", w.greeting, i.greeting)),
        }
    }
    let mut rows = vec![(w.declared.to_string(), declared.join(" ; ")), (w.observed.to_string(), seen.join(" ; "))];
    let leaf = e.observed.smtp.iter().filter_map(|s| s.tls.as_ref()).chain(e.observed.imap.iter().filter_map(|i| i.tls.as_ref())).find_map(|t| t.server_chain.first());
    if let Some(c) = leaf {
        let cert = format!("{} — {} {} — {} {} — SHA-256 {}", c.subject, w.serial, c.serial, w.validity, c.not_after, c.sha256);
        rows.push((w.chain.to_string(), cert));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::identity::{ImapIdentity, ServiceIdentity, SmtpIdentity};
    use crate::exec::tls::{CertFacts, TlsFacts};
    use crate::verdict::identity::{Comparison, Declared, ServiceEvidence};

    pub(crate) fn evidence() -> ServiceEvidence {
        let cert = CertFacts {
            subject: "CN=mx.op.test".into(),
            issuer: "CN=AC TEST".into(),
            not_before: "2026-01-01".into(),
            not_after: "2027-01-01".into(),
            sha256: "ab".repeat(32),
            san: vec![],
            serial: "01:02:03".into(),
            crl_urls: vec![],
            ocsp_urls: vec![],
        };
        let tls = TlsFacts { server_chain: vec![cert], ..Default::default() };
        ServiceEvidence {
            declared: Declared { service: "Messagerie X".into(), version: "4.2".into(), software: vec![] },
            observed: ServiceIdentity {
                smtp: Some(SmtpIdentity { endpoint: "smtp_starttls=mx:587".into(), banner: "220 mx ESMTP Postfix".into(), tls: Some(tls), ..Default::default() }),
                imap: Some(ImapIdentity { endpoint: "imap_starttls=mx:143".into(), greeting: "OK ready".into(), ..Default::default() }),
                unobserved: vec![],
            },
            comparison: vec![
                Comparison { item: "service".into(), declared: "Messagerie X".into(), seen_in: vec![] },
                Comparison { item: "version".into(), declared: "4.2".into(), seen_in: vec!["SMTP banner".into()] },
            ],
        }
    }

    #[test]
    fn the_production_card_and_the_html_show_declared_and_observed() {
        let s = crate::evidence::testdata::scenario_with_session();
        let mut run = crate::evidence::testdata::run_with(vec![s.clone()]);
        run.service_identity = Some(evidence());
        let card = crate::evidence::card::production::production_card(&run, &s, Lang::Fr, "p.png");
        let rows: std::collections::BTreeMap<_, _> = card.facts.iter().cloned().collect();
        assert!(rows["Déclaré"].contains("Service « Messagerie X » : non retrouvé"), "{rows:?}");
        assert!(rows["Déclaré"].contains("Version « 4.2 » : retrouvé (Bannière SMTP)"), "{rows:?}");
        assert!(rows["Observé"].contains("220 mx ESMTP Postfix"), "{rows:?}");
        assert!(rows["Chaîne TLS du serveur"].contains("01:02:03") && rows["Chaîne TLS du serveur"].contains(&"ab".repeat(32)));
        crate::evidence::card::render_png(&card).expect("the longer card still renders");
        let index = crate::requirement::RequirementIndex { requirements: vec![] };
        let html = crate::report::html::render_html(&run, &index, Lang::Fr);
        for must in ["Identité du service : déclaré / observé", "Messagerie X", "non retrouvé", "Bannière SMTP", "01:02:03", "ID non annoncé"] {
            assert!(html.contains(must), "{must} missing from the HTML");
        }
        run.service_identity = None;
        let card = crate::evidence::card::production::production_card(&run, &s, Lang::Fr, "p.png");
        assert!(!card.facts.iter().any(|(k, _)| k == "Déclaré"), "nothing observed, nothing shown");
    }
}
