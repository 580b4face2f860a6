//! The hosts a run may contact: the target profile's endpoint hosts and the hosts of its `http`
//! URLs, nothing else. A scenario naming another host (an `http` step URL, a redirect) is refused
//! before any connection, so a typo in a catalogue cannot reach a third party.

use std::collections::BTreeSet;

use super::model::Target;

/// Hosts declared by a target profile, compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowList {
    hosts: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostRefused {
    #[error(
        "safety: host `{host}` ({url}) is not declared by the target profile; the harness only \
         contacts the profile's endpoint hosts and http URL hosts ({declared})"
    )]
    Undeclared { url: String, host: String, declared: String },
    #[error("safety: `{url}` is not an http(s) URL with a host: {why}")]
    BadUrl { url: String, why: String },
}

impl HostAllowList {
    pub fn of(target: &Target) -> Self {
        let mut hosts: BTreeSet<String> = target.endpoints.values().map(|e| normalize(&e.host)).collect();
        let h = &target.http;
        let urls = [&h.token_issuer, &h.introspection, &h.whitelist, &h.autoconfig].into_iter().flatten();
        for url in urls.chain(&h.crl) {
            if let Some(host) = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(normalize)) {
                hosts.insert(host);
            }
        }
        // A token endpoint the profile names is declared like its `http` URLs.
        for url in target.mailboxes.values().filter_map(|m| m.token.as_ref().and_then(|t| t.url())) {
            if let Some(host) = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(normalize)) {
                hosts.insert(host);
            }
        }
        HostAllowList { hosts }
    }

    /// An allow-list of exactly these hosts (tests, and checks outside a run).
    pub fn from_hosts<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Self {
        HostAllowList { hosts: hosts.into_iter().map(normalize).collect() }
    }

    pub fn allows(&self, host: &str) -> bool {
        self.hosts.contains(&normalize(host))
    }

    /// The declared hosts, sorted.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(String::as_str)
    }

    /// Accepts an `https` URL whose host is declared, or an `http` one on a loopback host (a
    /// token or a form must not cross a network in clear). Also applied to every redirect.
    pub fn check_url(&self, url: &str) -> Result<(), HostRefused> {
        let parsed = reqwest::Url::parse(url).map_err(|e| HostRefused::BadUrl { url: url.to_string(), why: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HostRefused::BadUrl { url: url.to_string(), why: format!("scheme `{}`", parsed.scheme()) });
        }
        let host = parsed.host_str().ok_or_else(|| HostRefused::BadUrl { url: url.to_string(), why: "no host".into() })?;
        if parsed.scheme() == "http" && !is_loopback(host) {
            return Err(HostRefused::BadUrl { url: url.to_string(), why: "plain http to a host that is not loopback: use https".into() });
        }
        if self.allows(host) {
            Ok(())
        } else {
            Err(HostRefused::Undeclared { url: url.to_string(), host: host.to_string(), declared: self.describe() })
        }
    }

    fn describe(&self) -> String {
        if self.hosts.is_empty() { "none declared".into() } else { format!("declared: {}", self.hosts.iter().cloned().collect::<Vec<_>>().join(", ")) }
    }
}

/// `localhost` or a loopback IP address.
pub fn is_loopback(host: &str) -> bool {
    let h = normalize(host);
    h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Lower case, IPv6 brackets and a trailing root dot removed: `[::1]` and `::1` are one host.
fn normalize(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::net::{Endpoint, TlsMode};

    fn target() -> Target {
        let mut t: Target = serde_json::from_value(crate::target::reference_vars()).expect("reference target");
        t.endpoints.insert("smtp_starttls".into(), Endpoint { host: "SMTP.Operateur.test".into(), port: 587, tls: TlsMode::Starttls });
        t.endpoints.insert("imap_implicit".into(), Endpoint { host: "::1".into(), port: 993, tls: TlsMode::Implicit });
        t.http.token_issuer = Some("https://psc.operateur.test/token".into());
        t.http.whitelist = Some("http://127.0.0.1:8080/liste.xml".into());
        t.http.introspection = Some("not a url".into());
        t
    }

    #[test]
    fn endpoint_and_http_hosts_are_declared() {
        let allow = HostAllowList::of(&target());
        assert!(allow.allows("smtp.operateur.test") && allow.allows("[::1]") && allow.allows("psc.operateur.test"));
        assert!(allow.check_url("http://127.0.0.1:8080/other/path?x=1").is_ok());
        assert!(allow.check_url("https://smtp.operateur.test./x").is_ok());
    }

    #[test]
    fn other_hosts_are_refused_by_name() {
        let allow = HostAllowList::of(&target());
        let err = allow.check_url("https://evil.example/steal").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`evil.example`") && text.contains("psc.operateur.test"), "{text}");
        assert!(matches!(allow.check_url("ftp://smtp.operateur.test/"), Err(HostRefused::BadUrl { .. })));
        assert!(matches!(allow.check_url("no url"), Err(HostRefused::BadUrl { .. })));
        // A userinfo trick does not change the host.
        assert!(allow.check_url("http://smtp.operateur.test@evil.example/").is_err());
    }

    /// Plain http only on loopback: a declared remote host is reached over https only (the
    /// redirect policy applies the same check, so https → http on the same host is refused).
    #[test]
    fn plain_http_is_refused_outside_loopback() {
        let allow = HostAllowList::of(&target());
        let err = allow.check_url("http://psc.operateur.test/token").unwrap_err();
        assert!(err.to_string().contains("use https"), "{err}");
        assert!(allow.check_url("https://psc.operateur.test/token").is_ok());
        assert!(allow.check_url("http://[::1]:8080/x").is_ok() && allow.check_url("http://127.0.0.1:1/x").is_ok());
    }
}
