//! SMTP steps: one connection, actions in order, each with its expectations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpStep {
    /// Endpoint name in the target profile: `smtp_starttls` or `smtp_implicit`.
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
    /// Expectations on the greeting.
    #[serde(default)]
    pub greeting: Option<SmtpExpect>,
    pub actions: Vec<SmtpAction>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpAction {
    Ehlo(SmtpEhlo),
    Starttls(SmtpPlain),
    Auth(SmtpAuth),
    MailFrom(SmtpAddress),
    RcptTo(SmtpAddress),
    Data(SmtpData),
    /// A whole submission attempt judged as one (MAIL FROM, RCPT TO, DATA): where the
    /// referential says *that* something is refused but not *at which stage*.
    Transaction(SmtpTransaction),
    /// A raw command line, for checks that break the protocol order on purpose.
    Command(SmtpCommand),
    /// Checks that the server has closed the connection.
    ExpectClosed(ExpectClosed),
    Quit(SmtpPlain),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpPlain {
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpEhlo {
    /// EHLO argument (default `mssconf.test`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpAuth {
    /// Mailbox role that logs in.
    #[schemars(with = "String")]
    pub mailbox: Pos<String>,
    pub mechanism: Mechanism,
    /// For optional mechanisms (e.g. OAUTHBEARER): when the server's last EHLO / CAPABILITY
    /// does not offer `mechanism`, the scenario ends as skipped (not applicable) with that
    /// reason instead of trying. Default false: the mechanism is tried whatever is announced.
    #[serde(default)]
    pub only_if_offered: bool,
    /// Send the response with the AUTH command (default true).
    #[serde(default = "yes")]
    pub initial_response: bool,
    #[serde(default)]
    pub credential: Credential,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

/// Which credential an authentication presents.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Credential {
    /// A valid token of the mailbox (or nothing, for certificate-based mechanisms).
    #[default]
    Valid,
    /// An expired token of the mailbox (profile `negative.expired_token`).
    Expired,
    /// A syntactically broken token made up by the harness.
    Malformed,
    /// A revoked (not expired) token of the mailbox (profile `negative.revoked_token`).
    Revoked,
    /// A valid token of another mailbox role.
    TokenOf(#[schemars(with = "String")] Pos<String>),
    /// A token the harness forges from a valid one (no operator material): `{ derived: { alter:
    /// signature } }`. Not applicable when the valid token is not a JWT (opaque).
    Derived(DerivedToken),
}

/// A forged token: the valid token of `from` (default: the mailbox logging in), altered.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DerivedToken {
    /// Mailbox role whose valid token is altered (default: the mailbox logging in).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub from: Option<Pos<String>>,
    pub alter: Alteration,
}

/// How a derived token differs from the valid one it comes from.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Alteration {
    /// Signature bytes altered (same length, still base64url).
    Signature,
    /// Signature segment removed (`header.payload.`), `alg` unchanged.
    NoSignature,
    /// `exp` pushed one year later, under the original signature.
    Expiry,
    /// `aud` replaced, under the original signature.
    Audience,
    /// `iss` replaced, under the original signature.
    Issuer,
    /// The identity claims (`sub` and all but iss/aud/exp/iat/nbf/jti) of the mailbox logging
    /// in put into `from`'s token, under `from`'s signature.
    Subject,
    /// Header `alg: none`, signature removed (RFC 7519 §6 unsecured JWT).
    AlgNone,
}

impl Alteration {
    /// What the forged token is, for dry runs, audit screens and notes.
    pub fn describe(self) -> &'static str {
        match self {
            Alteration::Signature => "signature altered",
            Alteration::NoSignature => "signature removed",
            Alteration::Expiry => "`exp` pushed one year later under the original signature",
            Alteration::Audience => "`aud` replaced under the original signature",
            Alteration::Issuer => "`iss` replaced under the original signature",
            Alteration::Subject => "identity of the mailbox logging in under another mailbox's signature",
            Alteration::AlgNone => "`alg: none`, unsigned",
        }
    }

    pub fn describe_fr(self) -> &'static str {
        match self {
            Alteration::Signature => "signature altérée",
            Alteration::NoSignature => "signature retirée",
            Alteration::Expiry => "« exp » repoussé d'un an sous la signature d'origine",
            Alteration::Audience => "« aud » remplacé sous la signature d'origine",
            Alteration::Issuer => "« iss » remplacé sous la signature d'origine",
            Alteration::Subject => "identité de la BAL qui se connecte sous la signature du jeton d'une autre BAL",
            Alteration::AlgNone => "« alg: none », sans signature",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpAddress {
    /// The address (interpolated), without angle brackets.
    pub address: String,
    /// ESMTP parameters (`NOTIFY=SUCCESS`, `SIZE=…`, `RET=HDRS`…).
    #[serde(default)]
    pub params: Vec<String>,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpData {
    pub message: MessageSpec,
    /// Expectations on the final reply after the message.
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

/// One submission attempt: `MAIL FROM`, one `RCPT TO` per recipient, then — when `message` is
/// given and every command so far was accepted — `DATA` and the message. It stops at the first
/// refusal (or when the server closes the connection); without a message, an attempt accepted up
/// to `RCPT TO` is ended by `RSET`. The outcome is judged as a whole, and the stage that refused
/// is recorded in the transcript and the check.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpTransaction {
    /// Envelope sender (interpolated), without angle brackets.
    pub from: String,
    /// ESMTP parameters of `MAIL FROM` (`RET=HDRS`, `ENVID=…`).
    #[serde(default)]
    pub from_params: Vec<String>,
    /// Envelope recipients (interpolated): declared addresses only.
    pub to: Vec<String>,
    /// ESMTP parameters of every `RCPT TO` (`NOTIFY=FAILURE`).
    #[serde(default)]
    pub rcpt_params: Vec<String>,
    /// The message, sent only if `MAIL FROM` and every `RCPT TO` were accepted.
    #[serde(default)]
    pub message: Option<MessageSpec>,
    /// Records the outcome as `${captured.<name>.outcome}` (`accepted` or `refused`) and
    /// `${captured.<name>.stage}` (`mail`, `rcpt`, `data`), for steps with `only_if_accepted`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub capture: Option<Pos<String>>,
    pub expect: TransactionExpect,
}

/// Expectations on a whole submission attempt.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionExpect {
    /// `refused`: nothing may be submitted; `accepted`: every command is accepted; `either`: both
    /// are conformant (a refusal must still come at one of `refused_at`), the outcome is recorded.
    #[schemars(with = "TransactionOutcome")]
    pub outcome: Pos<TransactionOutcome>,
    /// The stages at which a refusal is conformant (default: every stage the attempt reaches:
    /// `mail`, `rcpt`, and `data` when a message is given). The server closing the connection
    /// counts as a refusal at the stage it closed in.
    #[serde(default)]
    #[schemars(with = "Vec<SmtpStage>")]
    pub refused_at: Vec<Pos<SmtpStage>>,
    /// Reply class of the refusal (default `5xx`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub code: Option<Pos<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionOutcome {
    Refused,
    Accepted,
    Either,
}

/// The stages of a submission attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpStage {
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// The `DATA` command or the end of the message.
    Data,
}

impl SmtpStage {
    pub fn name(self) -> &'static str {
        match self {
            SmtpStage::Mail => "MAIL FROM",
            SmtpStage::Rcpt => "RCPT TO",
            SmtpStage::Data => "DATA",
        }
    }
}

impl SmtpTransaction {
    /// The stages at which a refusal passes (see [`TransactionExpect::refused_at`]).
    pub fn refusal_stages(&self) -> Vec<SmtpStage> {
        if !self.expect.refused_at.is_empty() {
            return self.expect.refused_at.iter().map(|s| s.value).collect();
        }
        let mut all = vec![SmtpStage::Mail, SmtpStage::Rcpt];
        if self.message.is_some() {
            all.push(SmtpStage::Data);
        }
        all
    }

    /// The refusal's reply class (default `5xx`).
    pub fn refusal_code(&self) -> &str {
        self.expect.code.as_ref().map(|c| c.value.as_str()).unwrap_or("5xx")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpCommand {
    pub line: String,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectClosed {
    /// How long to wait for the close (default 2000 ms).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// Expectations on an SMTP reply. Every field present must hold.
#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpExpect {
    /// Reply code or class: `250`, `5xx`, `4xx|5xx`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub code: Option<Pos<String>>,
    /// Enhanced status code prefix: `5.7`, `5.7.8`.
    #[serde(default)]
    pub enhanced: Option<String>,
    /// Substring of the reply text (case-insensitive).
    #[serde(default)]
    pub text_contains: Option<String>,
    /// EHLO keywords that must / must not be announced.
    #[serde(default)]
    pub capabilities: Option<CapabilityExpect>,
    /// SASL challenges (decoded) must contain this (e.g. `"status":"401"`).
    #[serde(default)]
    pub challenge_contains: Option<String>,
    /// The server closes the connection right after this reply.
    #[serde(default)]
    pub closes: Option<bool>,
    /// TLS facts after a handshake (STARTTLS or implicit).
    #[serde(default)]
    pub tls: Option<TlsExpect>,
    /// Expectations that are an observation or a préconisation, not a requirement (a behaviour
    /// seen on one operator, a recommended code): judged and reported, never a failure.
    #[serde(default)]
    pub observe: Option<Box<SmtpExpect>>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilityExpect {
    #[serde(default)]
    pub has: Vec<String>,
    #[serde(default)]
    pub lacks: Vec<String>,
    /// Values that must appear after the `AUTH` keyword (or `AUTH=` in IMAP).
    #[serde(default)]
    pub auth_has: Vec<String>,
}
