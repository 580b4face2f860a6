//! IMAP steps: one connection, actions in order, each with its expectations.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapStep {
    /// Endpoint name in the target profile: `imap_starttls` or `imap_implicit`.
    #[schemars(with = "String")]
    pub endpoint: Pos<String>,
    #[serde(default)]
    pub client_cert: Option<ClientCert>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tls_versions: Option<TlsVersions>,
    /// The server may refuse what this step presents (typically a client certificate) at the
    /// TLS level: a fatal alert from the server, during the handshake (TLS 1.2) or on the first
    /// read after it (TLS 1.3), ends the step there as an observed refusal (passed). A refusal
    /// that comes later is judged by the actions' expectations (AUTH 535, NO). Other TLS
    /// failures (e.g. the server chain not verifying) remain errors. Default false.
    #[serde(default)]
    pub accept_tls_refusal: bool,
    #[serde(default)]
    pub greeting: Option<ImapExpect>,
    pub actions: Vec<ImapAction>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImapAction {
    Capability(ImapPlain),
    Starttls(ImapPlain),
    Login(ImapLogin),
    Authenticate(ImapAuthenticate),
    Select(ImapFolder),
    Examine(ImapFolder),
    Create(ImapFolder),
    List(ImapList),
    /// Waits for a message (IDLE, or bounded polling when IDLE is absent).
    WaitFor(ImapWaitFor),
    Fetch(ImapFetch),
    Search(ImapSearch),
    Store(ImapStore),
    Append(ImapAppend),
    Move(ImapMove),
    /// A raw command (the tag is added), for checks that break the protocol order on purpose.
    Command(ImapCommand),
    ExpectClosed(ExpectClosed),
    Logout(ImapPlain),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapPlain {
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapLogin {
    pub user: String,
    /// A password, sent only over TLS. Without one, the harness's made-up password: the only one
    /// LOGIN may send in clear (a negative test: LOGIN before TLS must be refused).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapAuthenticate {
    #[schemars(with = "String")]
    pub mailbox: Pos<String>,
    pub mechanism: Mechanism,
    /// For optional mechanisms (e.g. OAUTHBEARER): when the server's last EHLO / CAPABILITY
    /// does not offer `mechanism`, the scenario ends as skipped (not applicable) with that
    /// reason instead of trying. Default false: the mechanism is tried whatever is announced.
    #[serde(default)]
    pub only_if_offered: bool,
    /// Send the response with the command (RFC 4959 SASL-IR; default true).
    #[serde(default = "yes")]
    pub sasl_ir: bool,
    #[serde(default)]
    pub credential: Credential,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapFolder {
    pub folder: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapList {
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapWaitFor {
    #[serde(default = "inbox")]
    pub folder: String,
    /// Wait for the message sent under this name (searched by Message-ID)…
    #[serde(default)]
    pub message: Option<String>,
    /// …or for a message matching these IMAP SEARCH criteria.
    #[serde(default)]
    pub criteria: Option<String>,
    /// Default: the target's `timeouts.delivery`.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Remember the found UID as `${captured.<capture>}`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub capture: Option<Pos<String>>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapFetch {
    /// UID to fetch (usually `${captured.<name>}`).
    pub uid: String,
    /// Save the fetched message under this name (an `eml` proof, and `${captured.<name>.*}`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub capture: Option<Pos<String>>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSearch {
    pub criteria: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapStore {
    pub uid: String,
    /// e.g. `+FLAGS (\Seen \Flagged)`.
    pub flags: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapAppend {
    pub folder: String,
    /// Name of a message sent earlier in the scenario.
    pub message: String,
    #[serde(default)]
    pub flags: Option<String>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapMove {
    pub uid: String,
    pub folder: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapCommand {
    pub line: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

/// Expectations on an IMAP exchange. Every field present must hold.
#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapExpect {
    /// Tagged status: `ok`, `no`, `bad`, or `no|bad`.
    #[serde(default)]
    pub status: Option<String>,
    /// Response code, e.g. `AUTHENTICATIONFAILED`.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub text_contains: Option<String>,
    #[serde(default)]
    pub capabilities: Option<CapabilityExpect>,
    #[serde(default)]
    pub challenge_contains: Option<String>,
    /// Untagged responses must contain this substring (e.g. `FLAGS (\Seen`).
    #[serde(default)]
    pub untagged_contains: Option<String>,
    /// For `wait_for` / `search`: a message was found (true) or not (false).
    #[serde(default)]
    pub found: Option<bool>,
    /// For `search`: at least this many results.
    #[serde(default)]
    pub count_at_least: Option<u32>,
    /// For `wait_for`: how the harness waited, `idle` (RFC 2177: announced by the server and not
    /// refused when used) or `polling` (NOOP + SEARCH).
    #[serde(default)]
    pub wait_method: Option<String>,
    /// For `fetch`: the fetched message compared with a sent one.
    #[serde(default)]
    pub matches_sent: Option<MatchesSent>,
    /// For `fetch`: headers that must be present with these exact values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// For `fetch`: headers that must be absent.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// For `fetch` of a report: DSN / MDN fields.
    #[serde(default)]
    pub report: Option<ReportExpect>,
    /// The server closes the connection (after this response).
    #[serde(default)]
    pub closes: Option<bool>,
    #[serde(default)]
    pub tls: Option<TlsExpect>,
    /// Expectations that are an observation or a préconisation, not a requirement: judged and
    /// reported, never a failure.
    #[serde(default)]
    pub observe: Option<Box<ImapExpect>>,
}

/// Compare a fetched message with one the scenario sent.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchesSent {
    /// Name of the sent message.
    pub message: String,
    /// Headers whose values must be byte-identical (default: every `X-MSS-*` header, Subject,
    /// From, To, Message-ID).
    #[serde(default)]
    pub headers: Vec<String>,
    /// Every MIME part's decoded body must hash the same (attachments included). Default true.
    #[serde(default = "yes")]
    pub parts: bool,
}

/// Expectations on a delivery status notification or a disposition notification.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportExpect {
    /// `delivery-status` or `disposition-notification`.
    pub report_type: String,
    /// DSN Action values accepted, e.g. `[delivered, relayed]`.
    #[serde(default)]
    pub action: Vec<String>,
    /// DSN Status class prefix, e.g. `2.` or `5.1.1`.
    #[serde(default)]
    pub status: Option<String>,
    /// DSN Original-Envelope-Id must equal this.
    #[serde(default)]
    pub envelope_id: Option<String>,
    /// MDN Original-Message-ID must be the Message-ID of this sent message.
    #[serde(default)]
    pub original_message: Option<String>,
    /// MDN Disposition must contain this (e.g. `processed`).
    #[serde(default)]
    pub disposition_contains: Option<String>,
}
