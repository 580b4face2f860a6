//! The documentation link answers over https: one GET, redirects followed only within the target
//! profile's declared hosts, trusting the system roots and the profile's trust anchors. A link
//! on a host the profile does not declare is not contacted (the tool only reaches declared hosts).

use std::time::Duration;

use super::checklist::{Item, ItemId, Note, Status};
use crate::target::allow::{HostAllowList, HostRefused};

/// What the link check may contact and trust. `hosts: None`: no target profile was given.
pub struct LinkPolicy {
    pub hosts: Option<HostAllowList>,
    pub trust_anchors_pem: Vec<Vec<u8>>,
    pub timeout: Duration,
}

pub async fn documentation_url(url: Option<&str>, policy: &LinkPolicy) -> Item {
    let id = ItemId::DocumentationUrl;
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Item::new(id, Status::Missing, None, Note::new("non déclaré (clé `documentation_url`)", "not declared (key `documentation_url`)"));
    };
    let item = |status, fr: String, en: String| Item::new(id, status, Some(url.to_string()), Note::new(fr, en));
    if !url.to_ascii_lowercase().starts_with("https://") {
        return item(Status::Invalid, "le lien doit être en https".into(), "the link must be https".into());
    }
    let Some(hosts) = &policy.hosts else {
        return item(
            Status::Present,
            "non contacté : aucun profil cible (--target) ne déclare d'hôtes".into(),
            "not contacted: no target profile (--target) declares hosts".into(),
        );
    };
    match hosts.check_url(url) {
        Ok(()) => {}
        Err(HostRefused::BadUrl { why, .. }) => return item(Status::Invalid, format!("lien invalide : {why}"), format!("invalid link: {why}")),
        Err(HostRefused::Undeclared { host, .. }) => {
            return item(
                Status::Present,
                format!("non contacté : l'hôte {host} n'est pas déclaré par le profil cible ; à vérifier à la main"),
                format!("not contacted: host {host} is not declared by the target profile; check it by hand"),
            );
        }
    }
    match get(url, hosts, policy).await {
        Ok(code) if (200..300).contains(&code) => item(Status::Checked, format!("répond en https (HTTP {code})"), format!("answers over https (HTTP {code})")),
        Ok(code) => item(Status::Invalid, format!("lien mort : HTTP {code}"), format!("dead link: HTTP {code}")),
        Err(why) => item(Status::Invalid, format!("lien mort : {why}"), format!("dead link: {why}")),
    }
}

async fn get(url: &str, hosts: &HostAllowList, policy: &LinkPolicy) -> Result<u16, String> {
    crate::exec::env::install_crypto_provider();
    let mut roots = Vec::new();
    for pem in &policy.trust_anchors_pem {
        roots.extend(reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("trust anchor: {e}"))?);
    }
    let client = reqwest::Client::builder()
        .redirect(crate::exec::env::redirects_within(hosts.clone()))
        .tls_certs_merge(roots)
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout)
        .no_proxy()
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let response = client.get(url).send().await.map_err(|e| chain(&e))?;
    Ok(response.status().as_u16())
}

/// The error and its causes on one line (reqwest's own message is often just "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}
