//! What the harness saw for one action: plain data, judged later by `verdict`.

use serde::{Deserialize, Serialize};

use super::error::ExecError;
use super::tls::TlsFacts;
use crate::scenario::model::SmtpStage;

/// The server refused the TLS session with a fatal alert (during the handshake or on the first
/// command after it): an observation when the step accepts a refusal at the TLS level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRefused {
    /// The alert's name (`CertificateExpired`).
    pub alert: String,
    /// What the harness saw, as its error message says it.
    pub detail: String,
}

impl TlsRefused {
    /// The refusal `e` observed, when the server ended the exchange with a fatal alert.
    pub fn seen_in(e: &ExecError) -> Option<Self> {
        e.tls_alert().map(|alert| TlsRefused { alert, detail: e.message() })
    }
}

/// One SMTP exchange (a command and its reply or replies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmtpObservation {
    /// Final reply code (e.g. 250, 535).
    pub code: u16,
    pub enhanced: Option<String>,
    /// Reply text, lines joined with `\n`.
    pub text: String,
    /// EHLO keywords (upper-case, with parameters), when the action was EHLO.
    pub capabilities: Vec<String>,
    /// Decoded SASL challenges the server sent during AUTH.
    pub challenges: Vec<String>,
    /// The server closed the connection right after.
    pub closed: bool,
    pub tls: Option<TlsFacts>,
    /// A `transaction` action: every reply of the attempt and where it stopped.
    pub transaction: Option<TransactionObservation>,
}

/// A submission attempt (MAIL FROM, RCPT TO…, DATA) as the server answered it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransactionObservation {
    /// Each command's stage and reply (`250 2.1.0 Ok`), in order.
    pub replies: Vec<(SmtpStage, String)>,
    /// Where the attempt was refused; `None` when every command was accepted.
    pub refusal: Option<Refusal>,
}

/// The refusal that ended a submission attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub stage: SmtpStage,
    /// The refusing reply's code (0 when the server closed without a reply).
    pub code: u16,
    /// The reply's first line, or what the close looked like.
    pub reply: String,
    /// The server closed the connection at this stage.
    pub closed: bool,
}

impl TransactionObservation {
    /// `refused at RCPT TO: 554 5.7.1 Relay access denied` / `accepted (MAIL FROM 250, …)`
    pub fn describe(&self) -> String {
        match &self.refusal {
            Some(r) if r.closed && r.code == 0 => format!("refused at {}: the server closed the connection", r.stage.name()),
            Some(r) if r.closed => format!("refused at {}: {} (then the server closed the connection)", r.stage.name(), r.reply),
            Some(r) => format!("refused at {}: {}", r.stage.name(), r.reply),
            None => {
                let codes: Vec<String> = self.replies.iter().map(|(s, r)| format!("{} {}", s.name(), r.split(' ').next().unwrap_or(""))).collect();
                format!("accepted ({})", codes.join(", "))
            }
        }
    }
}

/// One IMAP exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImapObservation {
    /// `OK`, `NO`, `BAD`, `BYE`, or empty when no tagged status applies.
    pub status: String,
    pub code: Option<String>,
    pub text: String,
    pub untagged: Vec<String>,
    pub capabilities: Vec<String>,
    pub challenges: Vec<String>,
    /// `wait_for` / `search`: the UIDs found.
    pub found: Vec<u32>,
    /// `wait_for`: how the message was detected (`idle`, `polling`).
    pub wait_method: Option<String>,
    /// `fetch`: checks on the fetched message, computed by exec (hash comparisons need bytes).
    pub message: Option<FetchedMessage>,
    pub closed: bool,
    pub tls: Option<TlsFacts>,
}

/// Facts about a fetched message, extracted by exec so `verdict` judges data, not bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FetchedMessage {
    pub size: usize,
    pub sha256: String,
    /// (name, raw value) of every header, in order.
    pub headers: Vec<(String, String)>,
    /// Comparison with a sent message, when asked.
    pub comparison: Option<Comparison>,
    /// DSN / MDN fields when the message is a `multipart/report`.
    pub report: Option<ReportFields>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub sent_name: String,
    /// Headers compared: (name, sent value, received value).
    pub headers: Vec<(String, Option<String>, Option<String>)>,
    /// Parts compared: (part label, sent sha256, received sha256).
    pub parts: Vec<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportFields {
    /// `delivery-status` or `disposition-notification`.
    pub report_type: String,
    pub actions: Vec<String>,
    pub statuses: Vec<String>,
    pub envelope_id: Option<String>,
    pub original_message_id: Option<String>,
    pub disposition: Option<String>,
}

/// A TLS check's facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsObservation {
    /// Handshake: the facts; probes: one entry per offer.
    pub facts: Option<TlsFacts>,
    pub established: bool,
    /// Probe offers and what the server answered: (offer, answer, accepted).
    pub probes: Vec<ProbeResult>,
    /// The target's allow-list (to judge the negotiated suite).
    pub allow_list: Vec<String>,
    /// Key-exchange probes (`probe_key_exchange`), one per offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_exchange: Vec<KxProbe>,
    /// The leaf's revocation status, when the step asked for it (`not_revoked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<crate::exec::revocation::RevocationFacts>,
}

/// What a key-exchange probe offered, and what the server's flight showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KxProbe {
    pub purpose: KxPurpose,
    pub offer: String,
    pub answer: String,
    /// The server answered with a ServerHello.
    pub accepted: bool,
    /// The suite picked, by IANA name and code, when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    pub kx: crate::exec::probe::key_exchange::Kx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KxPurpose {
    /// DHE-only suites: the DH group size, if the server does DHE at all.
    Dhe,
    /// ECDHE suites with curves under 256 bits only: refused, or a curve of 256 bits or more.
    WeakCurves,
    /// ECDHE suites with this one group: is it accepted (reported).
    Group(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub offer: String,
    pub answer: String,
    /// The server answered with a ServerHello (it accepted the offer).
    pub accepted: bool,
    /// Family probes: every suite the server picked, by IANA name and code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_suites: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpObservation {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Domains of the whitelist, when the body parsed as one.
    pub whitelist: Option<Vec<String>>,
}
