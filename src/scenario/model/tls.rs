//! TLS steps: a rustls handshake or raw ClientHello probes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsStep {
    /// Endpoint name in the target profile.
    #[schemars(with = "String")]
    pub endpoint: Pos<String>,
    /// Exactly one of the three checks below.
    /// A full handshake with rustls: records version, suite and chain.
    #[serde(default)]
    pub handshake: Option<TlsHandshake>,
    /// A raw ClientHello offering one version; e.g. SSL 3.0, TLS 1.0 or 1.1 must be refused.
    #[serde(default)]
    pub probe: Option<TlsProbe>,
    /// TLS 1.2 suites outside the target's allow-list, one ClientHello per family (all of the
    /// family's suites at once, offered again without each suite the server picks): each refused.
    #[serde(default)]
    pub probe_suites_outside_allow_list: Option<TlsSuiteProbe>,
    /// Key-exchange strength (SC.MSS/CONF.03), TLS 1.2: DHE-only suites (the DH group must be
    /// at least `min_dh_bits`, or DHE not offered at all), ECDHE with weak curves only (refused,
    /// or a curve of at least `min_ecdh_bits`), then each strong group alone (reported).
    #[serde(default)]
    pub probe_key_exchange: Option<TlsKxProbe>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsKxProbe {
    /// Smallest DH prime accepted, in bits (default 2048, SC.MSS/CONF.03).
    #[serde(default = "default_min_dh_bits")]
    pub min_dh_bits: u32,
    /// Smallest ECDH curve accepted, in bits (default 256, SC.MSS/CONF.03).
    #[serde(default = "default_min_ecdh_bits")]
    pub min_ecdh_bits: u32,
}

fn default_min_dh_bits() -> u32 {
    2048
}

fn default_min_ecdh_bits() -> u32 {
    256
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsHandshake {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub versions: Option<TlsVersions>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsProbe {
    /// `3.0` (SSL 3.0), `1.0`, `1.1` or `1.2`.
    pub version: String,
    /// IANA suite names to offer (default: a broad set for that version).
    #[serde(default)]
    pub suites: Vec<String>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSuiteProbe {
    /// Suite families to probe: `all` (the default when no `candidates` are given) or a list of
    /// family ids (`static-rsa-cbc`, `static-rsa-aead`, `ecdhe-cbc-sha1`, `ecdhe-cbc-sha2`,
    /// `ecdhe-aead`, `chacha20`, `dhe`, `static-dh`, `3des`, `rc4`, `null`, `export-des`,
    /// `anonymous`).
    #[serde(default)]
    pub families: Option<SuiteFamilies>,
    /// Explicit suites (IANA names), probed together as one more family; those in the
    /// allow-list are skipped.
    #[serde(default)]
    pub candidates: Vec<String>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

/// `families:` of a suite probe.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum SuiteFamilies {
    /// `all`: every family the harness knows.
    Keyword(String),
    /// Family ids.
    List(Vec<String>),
}

impl TlsSuiteProbe {
    /// The family ids asked for; `None` means every family (`all`, or nothing said and no
    /// explicit candidates).
    pub fn family_ids(&self) -> Option<&[String]> {
        match &self.families {
            Some(SuiteFamilies::List(ids)) => Some(ids),
            Some(SuiteFamilies::Keyword(_)) => None,
            None if self.candidates.is_empty() => None,
            None => Some(&[]),
        }
    }
}

/// Expectations on TLS facts.
#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsExpect {
    /// Handshake must succeed (true) or be refused (false).
    #[serde(default)]
    pub established: Option<bool>,
    /// Accepted negotiated versions, e.g. `[TLSv1_2, TLSv1_3]`.
    #[serde(default)]
    pub version_in: Vec<String>,
    /// The negotiated TLS 1.2 suite must be in the target's allow-list.
    #[serde(default)]
    pub suite_allowed: Option<bool>,
    /// The chain must verify against the target's trust anchors (and host name, dates).
    #[serde(default)]
    pub chain_verified: Option<bool>,
    /// Handshakes: the server certificate must not be listed by its issuer's CRL, fetched from
    /// the profile's `http.crl` URLs and the certificate's distribution points on declared hosts.
    /// When no such CRL covers it, the scenario is skipped with the reason.
    #[serde(default)]
    pub not_revoked: Option<bool>,
}

/// Which TLS versions the harness offers on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3 (the default).
    #[default]
    Any,
    Tls12Only,
    Tls13Only,
}
