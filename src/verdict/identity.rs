//! Declared against observed service identity (issue #18 item 3). The referencing convention asks
//! the operator to declare the service's name and version; what the servers show (banner, EHLO,
//! IMAP greeting and ID) may or may not carry them. A difference is an observation for the
//! reader, never a failure: servers are free to hide their product and version.

use serde::{Deserialize, Serialize};

use crate::exec::identity::ServiceIdentity;
use crate::target::model::{Software, Target};

/// What the profile declares and what the servers showed, with each declared item looked up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceEvidence {
    pub declared: Declared,
    pub observed: ServiceIdentity,
    /// One line per declared name or version.
    pub comparison: Vec<Comparison>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    /// `service` and `version` of the profile.
    pub service: String,
    pub version: String,
    /// `software` of the profile: the server products the operator says it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub software: Vec<Software>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// `service`, `version`, `software`, `software version`.
    pub item: String,
    pub declared: String,
    /// Where the declared text was seen (`SMTP banner`, `IMAP ID`…); empty when nowhere.
    pub seen_in: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        !self.seen_in.is_empty()
    }
}

/// Every text the servers showed of themselves, with its source.
pub fn observed_texts(o: &ServiceIdentity) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(s) = &o.smtp {
        out.push(("SMTP banner", s.banner.clone()));
        out.extend(s.ehlo_name.clone().map(|e| ("SMTP EHLO", e)));
    }
    if let Some(i) = &o.imap {
        out.push(("IMAP greeting", i.greeting.clone()));
        if !i.id_fields.is_empty() {
            let fields: Vec<String> = i.id_fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push(("IMAP ID", fields.join(", ")));
        }
    }
    out
}

/// Looks each declared name and version up in what the servers showed (case-insensitive).
pub fn compare(target: &Target, observed: ServiceIdentity) -> ServiceEvidence {
    let declared = Declared { service: target.service.clone(), version: target.version.clone(), software: target.software.clone() };
    let texts = observed_texts(&observed);
    let seen = |needle: &str| -> Vec<String> {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        texts.iter().filter(|(_, t)| t.to_lowercase().contains(&needle)).map(|(s, _)| s.to_string()).collect()
    };
    let mut comparison = vec![
        Comparison { item: "service".into(), declared: declared.service.clone(), seen_in: seen(&declared.service) },
        Comparison { item: "version".into(), declared: declared.version.clone(), seen_in: seen(&declared.version) },
    ];
    for s in &declared.software {
        comparison.push(Comparison { item: "software".into(), declared: s.name.clone(), seen_in: seen(&s.name) });
        if let Some(v) = &s.version {
            comparison.push(Comparison { item: "software version".into(), declared: format!("{} {v}", s.name), seen_in: seen(v) });
        }
    }
    ServiceEvidence { declared, observed, comparison }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::identity::{ImapIdentity, SmtpIdentity};

    fn target(software: Vec<Software>) -> Target {
        let yaml = "name: t\noperator: o\nservice: Messagerie Santé Exemple\nversion: '4.2'\nclaims: [general]\n\
                    domain: op.test\nserver_name: localhost\ntrust_anchors: []\nmailboxes: {}\n";
        let mut t: Target = serde_saphyr::from_str(yaml).unwrap();
        t.software = software;
        t
    }

    fn observed() -> ServiceIdentity {
        ServiceIdentity {
            smtp: Some(SmtpIdentity { banner: "220 mx.op.test ESMTP Postfix (Debian)".into(), ehlo_name: Some("mx.op.test".into()), ..Default::default() }),
            imap: Some(ImapIdentity {
                greeting: "OK Dovecot ready.".into(),
                id_fields: vec![("name".into(), "Dovecot".into()), ("version".into(), "2.3.21".into())],
                ..Default::default()
            }),
            unobserved: vec![],
        }
    }

    #[test]
    fn declared_items_are_looked_up_in_what_the_servers_show() {
        let sw = vec![
            Software { name: "Postfix".into(), version: None },
            Software { name: "dovecot".into(), version: Some("2.3.21".into()) },
            Software { name: "Exim".into(), version: Some("4.96".into()) },
        ];
        let e = compare(&target(sw), observed());
        let by = |d: &str| e.comparison.iter().find(|c| c.declared == d).unwrap().clone();
        assert!(!by("Messagerie Santé Exemple").matches(), "a commercial name the servers do not show");
        assert!(!by("4.2").matches());
        assert_eq!(by("Postfix").seen_in, ["SMTP banner"]);
        assert_eq!(by("dovecot").seen_in, ["IMAP greeting", "IMAP ID"], "case-insensitive");
        assert_eq!(by("dovecot 2.3.21").seen_in, ["IMAP ID"]);
        assert!(!by("Exim").matches() && !by("Exim 4.96").matches());
    }

    #[test]
    fn nothing_observed_matches_nothing() {
        let e = compare(&target(vec![]), ServiceIdentity::default());
        assert_eq!(e.comparison.len(), 2);
        assert!(e.comparison.iter().all(|c| !c.matches()));
    }
}
