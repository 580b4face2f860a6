//! The scenario file format: one scenario per YAML file.
//!
//! A scenario is an ordered list of steps; each step drives one protocol (`smtp`, `imap`, `tls`,
//! `http`, `wait`) and carries its expectations. Strings may hold `${namespace.path}` variables
//! (`target.*`, `fixtures.*`, `captured.*`), resolved just before the step runs.
//! The JSON Schema in `scenarios/schema.json` is generated from these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::exec::sasl::Mechanism;

/// A value with the position it was read from (line/column, 1-based).
pub type Pos<T> = Spanned<T>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// REM-style id: `<requirement id>.<nn>`, e.g. `OPE/TLS.01.01`.
    #[schemars(with = "String")]
    pub id: Pos<String>,
    /// Title in French, as an auditor reads it.
    pub title: String,
    /// Title in English (reports with `--lang en`).
    #[serde(default)]
    pub title_en: Option<String>,
    /// What is checked and why, in French.
    #[serde(default)]
    pub description: Option<String>,
    /// Requirement ids from `scenarios/requirements.yaml`.
    #[schemars(with = "Vec<String>")]
    pub requirements: Vec<Pos<String>>,
    /// REM profile the scenario belongs to; skipped when the target does not claim it.
    pub profile: Profile,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the checked fact is inferred or uncertain in the reference, say so here.
    #[serde(default)]
    pub confidence: Option<String>,
    /// Proofs yielded by the scenario as a whole (e.g. a `screenshot` card).
    #[serde(default)]
    pub proofs: Vec<ProofDecl>,
    pub steps: Vec<Step>,
}

/// REM profiles: "Général", "Profil BAL PER/ORG", "Profil BAL APP".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    General,
    PerOrg,
    App,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::General => "general",
            Profile::PerOrg => "per-org",
            Profile::App => "app",
        }
    }
}

/// A proof, REM style: its id is `<scenario id>.<nn>`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofDecl {
    /// Two-digit proof number within the scenario (`01`…`99`).
    #[schemars(with = "String")]
    pub n: Pos<String>,
    pub kind: ProofKind,
    /// What the proof shows, in French ("Log de la session SMTP…").
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProofKind {
    Log,
    Screenshot,
    Eml,
    File,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step does, in French (shown before the step in audit mode).
    #[schemars(with = "String")]
    pub title: Pos<String>,
    #[serde(default)]
    pub proofs: Vec<ProofDecl>,
    /// Step timeout in milliseconds (default: the target's `timeouts.step`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    // Exactly one of the protocol keys below (checked by validation). Plain optional fields
    // rather than a flattened enum: serde-saphyr loses positions under `flatten`.
    #[serde(default)]
    pub smtp: Option<SmtpStep>,
    #[serde(default)]
    pub imap: Option<ImapStep>,
    #[serde(default)]
    pub tls: Option<TlsStep>,
    #[serde(default)]
    pub http: Option<HttpStep>,
    #[serde(default)]
    pub wait: Option<WaitStep>,
}

/// The protocol a step drives.
#[derive(Debug, Clone, Copy)]
pub enum StepAction<'a> {
    Smtp(&'a SmtpStep),
    Imap(&'a ImapStep),
    Tls(&'a TlsStep),
    Http(&'a HttpStep),
    Wait(&'a WaitStep),
}

/// The step keys that name a protocol.
pub const STEP_KINDS: [&str; 5] = ["smtp", "imap", "tls", "http", "wait"];

impl Step {
    /// The protocol keys present (validation requires exactly one).
    pub fn actions(&self) -> Vec<StepAction<'_>> {
        let mut out = Vec::new();
        if let Some(s) = &self.smtp {
            out.push(StepAction::Smtp(s));
        }
        if let Some(s) = &self.imap {
            out.push(StepAction::Imap(s));
        }
        if let Some(s) = &self.tls {
            out.push(StepAction::Tls(s));
        }
        if let Some(s) = &self.http {
            out.push(StepAction::Http(s));
        }
        if let Some(s) = &self.wait {
            out.push(StepAction::Wait(s));
        }
        out
    }

    /// The step's one action; `None` when validation would refuse the step.
    pub fn action(&self) -> Option<StepAction<'_>> {
        let actions = self.actions();
        if actions.len() == 1 { actions.into_iter().next() } else { None }
    }
}

impl StepAction<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            StepAction::Smtp(_) => "smtp",
            StepAction::Imap(_) => "imap",
            StepAction::Tls(_) => "tls",
            StepAction::Http(_) => "http",
            StepAction::Wait(_) => "wait",
        }
    }
}

/// Which client certificate a connection presents.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientCert {
    /// The certificate of this mailbox role (profile `mailboxes.<role>.certificate`).
    Mailbox(#[schemars(with = "String")] Pos<String>),
    /// The profile's `negative.expired_client_cert`.
    Expired,
    /// The profile's `negative.foreign_client_cert` (another CA).
    Foreign,
}

/// TLS versions the harness offers (`any` = 1.2 and 1.3).
pub use crate::exec::tls::TlsVersions;

// ---------------------------------------------------------------- SMTP

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpAction {
    Ehlo(SmtpEhlo),
    Starttls(SmtpPlain),
    Auth(SmtpAuth),
    MailFrom(SmtpAddress),
    RcptTo(SmtpAddress),
    Data(SmtpData),
    /// A raw command line, for checks that break the protocol order on purpose.
    Command(SmtpCommand),
    /// Checks that the server has closed the connection.
    ExpectClosed(ExpectClosed),
    Quit(SmtpPlain),
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpPlain {
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpEhlo {
    /// EHLO argument (default `mssconf.test`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Credential {
    /// A valid token of the mailbox (or nothing, for certificate-based mechanisms).
    #[default]
    Valid,
    /// An expired token of the mailbox (profile `negative.expired_token`).
    Expired,
    /// A syntactically broken token made up by the harness.
    Malformed,
    /// A valid token of another mailbox role.
    TokenOf(#[schemars(with = "String")] Pos<String>),
}

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpData {
    pub message: MessageSpec,
    /// Expectations on the final reply after the message.
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpCommand {
    pub line: String,
    #[serde(default)]
    pub expect: Option<SmtpExpect>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectClosed {
    /// How long to wait for the close (default 2000 ms).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// Expectations on an SMTP reply. Every field present must hold.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
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
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
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

// ---------------------------------------------------------------- messages

/// A message built by the harness from fictitious data only.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// Name under which the sent message is remembered (`${captured.<name>.message_id}`, and
    /// IMAP steps compare against it).
    #[schemars(with = "String")]
    pub name: Pos<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// Extra headers, e.g. `X-MSS-NIL`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Plain text body (UTF-8).
    #[serde(default)]
    pub body: Option<String>,
    /// Send the text body unencoded (`Content-Transfer-Encoding: 8bit`, CRLF line ends) rather
    /// than quoted-printable or base64, to check 8BITMIME transport (pair it with
    /// `BODY=8BITMIME` on MAIL FROM). Default false.
    #[serde(default)]
    pub body_8bit: bool,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Ask for a read receipt (RFC 8098) to this address.
    #[serde(default)]
    pub disposition_notification_to: Option<String>,
    /// Pad the message with a text attachment to reach this many bytes.
    #[serde(default)]
    pub pad_to_bytes: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Attachment {
    /// An `IHE_XDM.ZIP` built from a fixture patient's CDA documents.
    Xdm(XdmAttachment),
    /// A file from `fixtures/`.
    File(FileAttachment),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XdmAttachment {
    /// Fixture patient key (`patients.<key>` of `fixtures/fixtures.yaml`).
    pub patient: String,
    /// Fixture document keys (`documents.<key>`), one CDA R2 file each, in this order.
    pub documents: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAttachment {
    /// Path relative to `fixtures/`.
    pub path: String,
    pub content_type: String,
    #[serde(default)]
    pub filename: Option<String>,
}

// ---------------------------------------------------------------- IMAP

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapPlain {
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapLogin {
    pub user: String,
    /// A dummy password: LOGIN checks only look at the refusal.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapFolder {
    pub folder: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapList {
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSearch {
    pub criteria: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapStore {
    pub uid: String,
    /// e.g. `+FLAGS (\Seen \Flagged)`.
    pub flags: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapMove {
    pub uid: String,
    pub folder: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapCommand {
    pub line: String,
    #[serde(default)]
    pub expect: Option<ImapExpect>,
}

/// Expectations on an IMAP exchange. Every field present must hold.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
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
}

/// Compare a fetched message with one the scenario sent.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
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

// ---------------------------------------------------------------- TLS

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsHandshake {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub versions: Option<TlsVersions>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSuiteProbe {
    /// Candidate suites (IANA names); those in the allow-list are skipped.
    pub candidates: Vec<String>,
    #[serde(default)]
    pub expect: Option<TlsExpect>,
}

/// Expectations on TLS facts.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
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

// ---------------------------------------------------------------- HTTP, wait

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    #[serde(default = "get")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub expect: Option<HttpExpect>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body_contains: Vec<String>,
    #[serde(default)]
    pub header_contains: BTreeMap<String, String>,
    /// The body is an MSSanté whitelist (namespace `https://listeblanche.mssante.fr/schema`)
    /// listing these domains.
    #[serde(default)]
    pub whitelist_has: Vec<String>,
    /// …and not listing these.
    #[serde(default)]
    pub whitelist_lacks: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub ms: u64,
}

fn yes() -> bool {
    true
}

fn inbox() -> String {
    "INBOX".into()
}

fn get() -> String {
    "GET".into()
}
