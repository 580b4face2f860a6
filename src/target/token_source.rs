//! Where a mailbox's bearer token comes from (`mailboxes.*.token`). Never the token itself: a
//! variable, a file, the test issuer, a helper command the harness runs, or an OAuth 2.0 token
//! endpoint it asks (RFC 6749 §6 refresh, §4.4 client credentials). See docs/target-profile.md.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::SecretSource;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum TokenSource {
    /// The target's test token issuer (`http.token_issuer`).
    Issuer,
    /// An environment variable holding the token.
    Env(String),
    /// A file holding the token (trimmed).
    File(PathBuf),
    /// A helper program and its arguments (no shell). It prints the token on stdout: the bare
    /// token, or a JSON object `{"access_token": …, "expires_in": seconds}`. It runs again when
    /// the token nears its expiry (`expires_in`, or the `exp` of a JWT).
    Command(Vec<String>),
    /// An OAuth 2.0 token endpoint (https, or http on loopback; its host joins the allow-list).
    Oauth2(OAuth2),
}

/// `token: { oauth2: { … } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// The token endpoint URL.
    pub token_endpoint: String,
    pub grant: Grant,
    pub client_id: String,
    /// Needed for `client_credentials`; sent with HTTP Basic (RFC 6749 §2.3.1) when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// Needed for `refresh_token`. A new refresh token in an answer replaces it for the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Sent as `audience` (the RFC 8693 / Keycloak parameter) when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    pub fn name(self) -> &'static str {
        match self {
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }
}

/// A secret the harness reads: an environment variable or a private file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

impl From<&SecretSource> for TokenSource {
    fn from(s: &SecretSource) -> Self {
        match s {
            SecretSource::Issuer => TokenSource::Issuer,
            SecretSource::Env(v) => TokenSource::Env(v.clone()),
            SecretSource::File(p) => TokenSource::File(p.clone()),
        }
    }
}

impl TokenSource {
    /// The files holding secrets this source reads (their permissions are checked at load).
    pub fn secret_files(&self) -> Vec<PathBuf> {
        let file = |r: &Option<SecretRef>| match r {
            Some(SecretRef::File(p)) => Some(p.clone()),
            _ => None,
        };
        match self {
            TokenSource::File(p) => vec![p.clone()],
            TokenSource::Oauth2(o) => [file(&o.client_secret), file(&o.refresh_token)].into_iter().flatten().collect(),
            _ => vec![],
        }
    }

    /// The token endpoint URL, for the host allow-list.
    pub fn url(&self) -> Option<&str> {
        match self {
            TokenSource::Oauth2(o) => Some(&o.token_endpoint),
            _ => None,
        }
    }

    /// What is wrong with this source that loading can tell: a grant without its secret, a
    /// token endpoint in plain http off loopback, an empty command.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match self {
            TokenSource::Command(argv) if argv.first().is_none_or(|p| p.trim().is_empty()) => {
                out.push(("`token.command` names no program".into(), "`command: [PROGRAM, ARG…]`".into()));
            }
            TokenSource::Oauth2(o) => {
                if let Some(why) = endpoint_problem(&o.token_endpoint) {
                    out.push((format!("`token_endpoint` {why}"), "an https URL (http only on a loopback host)".into()));
                }
                if o.grant == Grant::RefreshToken && o.refresh_token.is_none() {
                    out.push(("grant `refresh_token` without `refresh_token`".into(), "`refresh_token: { env: VARIABLE }` or `{ file: PATH }`".into()));
                }
                if o.grant == Grant::ClientCredentials && o.client_secret.is_none() {
                    out.push(("grant `client_credentials` without `client_secret`".into(), "`client_secret: { env: VARIABLE }` or `{ file: PATH }`".into()));
                }
            }
            _ => {}
        }
        out
    }
}

/// Why `url` cannot be a token endpoint: not a URL, another scheme, plain http off loopback.
fn endpoint_problem(url: &str) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("`{url}` is not a URL ({e})")),
    };
    let host = parsed.host_str().unwrap_or("");
    match parsed.scheme() {
        "https" if !host.is_empty() => None,
        "http" if super::allow::is_loopback(host) => None,
        "http" => Some(format!("`{url}` is plain http to a host that is not loopback: a token must not cross a network in clear")),
        other => Some(format!("`{url}` has scheme `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<TokenSource, crate::scenario::error::LoadError> {
        crate::scenario::load::parse_yaml(std::path::Path::new("t.yaml"), yaml)
    }

    fn oauth2(yaml: &str) -> TokenSource {
        parse(yaml).unwrap()
    }

    #[test]
    fn every_form_parses_and_bad_ones_are_named() {
        let s = parse("command: [/usr/bin/psc-token, --mailbox, per1]").unwrap();
        assert_eq!(s, TokenSource::Command(vec!["/usr/bin/psc-token".into(), "--mailbox".into(), "per1".into()]));
        assert!(s.problems().is_empty());
        assert_eq!(TokenSource::Command(vec![]).problems().len(), 1);
        let ok = oauth2("oauth2: { token_endpoint: 'https://psc.test/token', grant: refresh_token, client_id: c, refresh_token: { file: /r } }");
        assert!(ok.problems().is_empty(), "{:?}", ok.problems());
        assert_eq!(ok.secret_files(), vec![PathBuf::from("/r")]);
        let loopback = oauth2("oauth2: { token_endpoint: 'http://127.0.0.1:8080/t', grant: client_credentials, client_id: c, client_secret: { env: S } }");
        assert!(loopback.problems().is_empty());
        let clear = oauth2("oauth2: { token_endpoint: 'http://psc.test/token', grant: client_credentials, client_id: c }");
        let p = clear.problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].0.contains("plain http") && p[1].0.contains("without `client_secret`"), "{p:?}");
        assert!(parse("oauth2: { token_endpoint: x, grant: password, client_id: c }").is_err());
    }
}
