//! TLS steps: a rustls handshake or raw ClientHello probes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsStep {
    /// Endpoint name in the target profile.
    #[schemars(with = "String")]
    pub endpoint: Pos<String>,
    /// Exactly one of the three checks below.
    /// A full handshake with rustls: records version, suite and chain.
    #[serde(default)]
    pub handshake: Option<TlsHandshake>,
    /// A raw ClientHello offering one version; e.g. TLS 1.0 must be refused.
    #[serde(default)]
    pub probe: Option<TlsProbe>,
    /// Offer each TLS 1.2 suite outside the target's allow-list, one at a time: each refused.
    #[serde(default)]
    pub probe_suites_outside_allow_list: Option<TlsSuiteProbe>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsHandshake {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub versions: Option<TlsVersions>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsProbe {
    /// `1.0`, `1.1` or `1.2`.
    pub version: String,
    /// IANA suite names to offer (default: a broad set for that version).
    #[serde(default)]
    pub suites: Vec<String>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSuiteProbe {
    /// Candidate suites (IANA names); those in the allow-list are skipped.
    pub candidates: Vec<String>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
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
}
