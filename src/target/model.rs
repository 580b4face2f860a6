//! Target profiles: one operator test environment (`targets/*.yaml`). See docs/target-profile.md.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::requirement::Profile;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    /// Operator name (bundle file name part).
    pub operator: String,
    /// Service name (bundle file name part).
    pub service: String,
    /// Service version (bundle file name part).
    pub version: String,
    #[serde(default)]
    pub environment: Environment,
    /// REM profiles the operator claims; scenarios of other profiles are skipped.
    pub claims: Vec<Profile>,
    /// The operator's mail domain.
    pub domain: String,
    /// Host name the server certificates must carry (also sent as SNI).
    pub server_name: String,
    /// `smtp_starttls`, `smtp_implicit`, `imap_starttls`, `imap_implicit`.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Endpoint>,
    #[serde(default)]
    pub http: HttpUrls,
    /// PEM files holding the only anchors server chains may lead to (stand-in for IGC-Santé).
    pub trust_anchors: Vec<PathBuf>,
    #[serde(default)]
    pub tls: TlsPolicy,
    /// How applicative mailboxes log in: one form, or one per protocol.
    #[serde(default)]
    pub app_auth_form: AppAuthForms,
    #[serde(default)]
    pub addresses: Addresses,
    pub mailboxes: BTreeMap<String, Mailbox>,
    #[serde(default)]
    pub negative: Negative,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub rate: Rate,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Test,
    Production,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpUrls {
    pub token_issuer: Option<String>,
    pub introspection: Option<String>,
    pub whitelist: Option<String>,
    pub autoconfig: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsPolicy {
    /// TLS 1.2 suites the operator may negotiate (IANA names) [SC.MSS/CONF.03].
    pub cipher_allow_list: Vec<String>,
}

impl Default for TlsPolicy {
    fn default() -> Self {
        TlsPolicy {
            cipher_allow_list: [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
                "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AppAuthForm {
    /// The spec's form (SC.MSS/CONF.12): client certificate + PLAIN with the address as login.
    #[default]
    Plain,
    /// Client certificate + SASL EXTERNAL.
    External,
    /// Client certificate only (Postfix `permit_tls_clientcerts` style), no SASL.
    CertificateOnly,
}

/// `app_auth_form: plain`, or `app_auth_form: { smtp: certificate-only, imap: plain }` for an
/// operator whose submission and IMAP servers differ (e.g. Postfix cannot do SASL EXTERNAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AppAuthForms {
    /// The same form on SMTP and IMAP.
    Same(AppAuthForm),
    /// One form per protocol.
    PerProtocol(AppAuthFormPerProtocol),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppAuthFormPerProtocol {
    pub smtp: AppAuthForm,
    pub imap: AppAuthForm,
}

impl Default for AppAuthForms {
    fn default() -> Self {
        AppAuthForms::Same(AppAuthForm::default())
    }
}

impl AppAuthForms {
    pub fn smtp(self) -> AppAuthForm {
        match self {
            AppAuthForms::Same(f) => f,
            AppAuthForms::PerProtocol(p) => p.smtp,
        }
    }

    pub fn imap(self) -> AppAuthForm {
        match self {
            AppAuthForms::Same(f) => f,
            AppAuthForms::PerProtocol(p) => p.imap,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Addresses {
    /// An address whose domain is absent from the whitelist (RCPT must be refused; nothing is sent).
    pub outside_whitelist: Option<String>,
    /// A local-domain address with no mailbox (for failure DSNs).
    pub unknown_local: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum MailboxType {
    #[serde(rename = "PER")]
    Per,
    #[serde(rename = "ORG")]
    Org,
    #[serde(rename = "APP")]
    App,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: MailboxType,
    /// Where this mailbox's bearer token comes from (PER/ORG).
    #[serde(default)]
    pub token: Option<SecretSource>,
    /// Client certificate (APP).
    #[serde(default)]
    pub certificate: Option<CertificateFiles>,
    /// PLAIN password for APP mailboxes when the operator wants one.
    #[serde(default)]
    pub password: Option<SecretSource>,
}

/// Where a secret comes from. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretSource {
    /// The target's test token issuer (`http.token_issuer`).
    Issuer,
    /// An environment variable holding the value.
    Env(String),
    /// A file holding the value (trimmed).
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Negative {
    pub expired_token: Option<SecretSource>,
    /// A token revoked before it expired; `issuer` asks `http.token_issuer` for one
    /// (`revoked=true`).
    #[serde(default)]
    pub revoked_token: Option<SecretSource>,
    pub expired_client_cert: Option<CertificateFiles>,
    pub foreign_client_cert: Option<CertificateFiles>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Bytes the operator announces with SIZE.
    pub max_message_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_message_size: 10 * 1024 * 1024 }
    }
}

/// Milliseconds.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    pub connect: u64,
    pub reply: u64,
    pub delivery: u64,
    pub step: u64,
    pub scenario: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: 10_000, reply: 30_000, delivery: 60_000, step: 120_000, scenario: 300_000 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Rate {
    pub messages_per_minute: u32,
    pub max_messages_per_run: u32,
    /// Connections open at once to one host, across the whole run (jobs, retries, probes, HTTP).
    pub max_parallel_connections: u32,
    /// New connections per second to one host: each starts at least 1/N s after the previous.
    pub connections_per_second: u32,
    /// Further attempts when the server says "try later" while a connection opens (a 4xx
    /// greeting, an IMAP `* BYE` greeting, a reset before the greeting).
    pub busy_retries: u32,
    /// The wait before the first such retry; it doubles at each further one.
    pub busy_backoff_ms: u64,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            messages_per_minute: 30,
            max_messages_per_run: 200,
            max_parallel_connections: 4,
            connections_per_second: 5,
            busy_retries: 3,
            busy_backoff_ms: 2000,
        }
    }
}

impl Target {
    pub fn claims(&self, profile: Profile) -> bool {
        self.claims.contains(&profile)
    }
}

/// How an endpoint starts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text first, then STARTTLS (ports 587 / 143 semantics).
    Starttls,
    /// TLS from the first byte (ports 465 / 993 semantics).
    Implicit,
}

/// One network endpoint of the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_auth_form_is_one_form_or_one_per_protocol() {
        let same: AppAuthForms = serde_json::from_str("\"external\"").unwrap();
        assert_eq!((same.smtp(), same.imap()), (AppAuthForm::External, AppAuthForm::External));
        let split: AppAuthForms = serde_json::from_str(r#"{"smtp":"certificate-only","imap":"plain"}"#).unwrap();
        assert_eq!((split.smtp(), split.imap()), (AppAuthForm::CertificateOnly, AppAuthForm::Plain));
        assert_eq!(AppAuthForms::default().imap(), AppAuthForm::Plain);
        assert!(serde_json::from_str::<AppAuthForms>(r#"{"smtp":"plain"}"#).is_err());
        assert!(serde_json::from_str::<AppAuthForms>(r#"{"smtp":"plain","imap":"plain","pop":"plain"}"#).is_err());
    }
}
