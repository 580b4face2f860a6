//! Where a mailbox's bearer token comes from (`mailboxes.*.token`). Never the token itself: a
//! variable, a file, the test issuer, a helper command the harness runs, or an OAuth 2.0 token
//! endpoint it asks (RFC 6749 §6 refresh, §4.4 client credentials). See docs/target-profile.md.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<TokenSource, crate::yaml::error::LoadError> {
        crate::yaml::read::parse_yaml(std::path::Path::new("t.yaml"), yaml)
    }

    fn oauth2(yaml: &str) -> TokenSource {
        parse(yaml).unwrap()
    }

    #[test]
    fn every_form_parses() {
        let s = parse("command: [/usr/bin/psc-token, --mailbox, per1]").unwrap();
        assert_eq!(s, TokenSource::Command(vec!["/usr/bin/psc-token".into(), "--mailbox".into(), "per1".into()]));
        let ok = oauth2("oauth2: { token_endpoint: 'https://psc.test/token', grant: refresh_token, client_id: c, refresh_token: { file: /r } }");
        assert_eq!(ok.secret_files(), vec![PathBuf::from("/r")]);
        assert_eq!(ok.url(), Some("https://psc.test/token"));
        assert!(parse("oauth2: { token_endpoint: x, grant: password, client_id: c }").is_err());
    }
}
