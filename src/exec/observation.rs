//! What the harness saw for one action: plain data, judged later by `verdict`.

use serde::{Deserialize, Serialize};

use super::tls::TlsFacts;

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
