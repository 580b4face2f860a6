//! One scenario's state while it runs: variables, messages sent and received, transcript.

use std::collections::HashMap;

use serde_json::json;

use crate::exec::error::ExecError;
use crate::exec::message::{Built, MessageData};
use crate::util::digest::sha256_hex;
use crate::exec::transcript::Transcript;
use crate::record::MessageRecord;
use crate::scenario::interpolate::Vars;
use crate::scenario::spans::{Expectation, StepSpans};
use crate::verdict::Check;

pub struct ScenarioState {
    /// The scenario file, as its record names it, and where the running step's expectations are
    /// written: the checks carry `file:line:column`.
    pub file: String,
    pub spans: StepSpans,
    pub vars: Vars,
    pub sent: HashMap<String, Built>,
    pub transcript: Transcript,
    /// Messages in the order seen, with their bytes (written as `.eml` by the evidence layer;
    /// a sent message is kept as its segments, not as bytes).
    pub messages: Vec<(MessageRecord, MessageData)>,
    /// A RCPT TO the profile's `addresses.other_operator` is open in the current SMTP session
    /// (cleared by RSET and by a new connection): the send guard refuses DATA meanwhile.
    pub other_operator_rcpt: bool,
    connections: usize,
}

impl ScenarioState {
    pub fn new(vars: Vars, transcript: Transcript) -> Self {
        ScenarioState {
            file: String::new(),
            spans: StepSpans::default(),
            vars,
            sent: HashMap::new(),
            transcript,
            messages: Vec::new(),
            other_operator_rcpt: false,
            connections: 0,
        }
    }

    /// Renders `${…}` in `text`; an undefined variable is the harness's fault (validation
    /// should have caught it) and ends the step in error.
    pub fn render(&self, text: &str) -> Result<String, ExecError> {
        self.vars.render(text).map_err(|e| ExecError::harness(e.to_string()))
    }

    /// [`render`](Self::render) of each of `texts` (ESMTP parameters…).
    pub fn render_all(&self, texts: &[String]) -> Result<Vec<String>, ExecError> {
        texts.iter().map(|t| self.render(t)).collect()
    }

    /// Where expectation `e` of the running step is written, as `file:line:column`.
    pub fn expect_at(&self, e: Expectation) -> Option<String> {
        self.spans.of(e).map(|(line, column)| format!("{}:{line}:{column}", self.file))
    }

    /// A transcript handle for a new connection (`smtp#1`, `imap#2`…).
    pub fn connection(&mut self, protocol: &str) -> Transcript {
        self.connections += 1;
        self.transcript.for_conn(format!("{protocol}#{}", self.connections))
    }

    pub fn remember_sent(&mut self, built: Built) {
        self.vars.capture(
            &built.name,
            json!({"message_id": built.message_id, "subject": built.subject, "size": built.size}),
        );
        let record = MessageRecord {
            name: built.name.clone(),
            direction: "sent".into(),
            message_id: Some(built.message_id.clone()),
            subject: Some(built.subject.clone()),
            size: built.size as usize,
            sha256: built.sha256.clone(),
            file: None,
        };
        self.messages.push((record, MessageData::Composed(built.message.clone())));
        self.sent.insert(built.name.clone(), built);
    }

    pub fn remember_received(&mut self, name: &str, bytes: Vec<u8>) {
        let message_id = crate::exec::message::header_value(&bytes, "Message-ID");
        let subject = crate::exec::message::header_value(&bytes, "Subject");
        self.vars.capture(name, json!({"message_id": message_id, "subject": subject, "size": bytes.len()}));
        let record = MessageRecord {
            name: name.to_string(),
            direction: "received".into(),
            message_id,
            subject,
            size: bytes.len(),
            sha256: sha256_hex(&bytes),
            file: None,
        };
        self.messages.push((record, MessageData::Bytes(bytes)));
    }
}

/// What a step produced: its checks, and an error if the harness could not observe.
#[derive(Debug, Default)]
pub struct StepOutput {
    pub checks: Vec<Check>,
    pub error: Option<ExecError>,
    /// Why the rest of the scenario does not apply to this target (e.g. an optional mechanism
    /// the server does not offer): the scenario ends as skipped.
    pub not_applicable: Option<String>,
    /// What the step did not do and why (actions left after the server closed the session…).
    pub notes: Vec<String>,
}

impl StepOutput {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.fails())
    }

    /// Ends a step on `e`: when the step accepts a refusal at the TLS level and the server sent
    /// a fatal alert, that refusal is the observation (judged by `verdict`); otherwise `e` stands.
    pub fn tls_refusal(&mut self, accepted: bool, e: ExecError) -> Result<(), ExecError> {
        match crate::exec::observation::TlsRefused::seen_in(&e) {
            Some(refused) if accepted => {
                self.checks.push(crate::verdict::judge_refusal(&refused));
                Ok(())
            }
            _ => Err(e),
        }
    }

    /// Adds checks; returns true when the step must stop (a check failed).
    pub fn judge(&mut self, checks: Vec<Check>) -> bool {
        self.checks.extend(checks);
        self.failed()
    }

    /// [`judge`](Self::judge), the checks marked with where their expectation is written.
    pub fn judge_at(&mut self, checks: Vec<Check>, at: Option<String>) -> bool {
        self.judge(checks.into_iter().map(|c| Check { at: at.clone(), ..c }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::error::Category;

    /// The alert is read from the typed cause (an SMTP handshake alert, an IMAP read after a TLS
    /// 1.3 handshake): an error that only says so in its text is not a refusal.
    #[test]
    fn a_tls_alert_is_an_observed_refusal_only_when_the_step_accepts_it() {
        use crate::exec::imap::ImapError;
        use crate::exec::smtp::SmtpError;
        use crate::exec::tls::TlsError;
        let alert = TlsError::Alert("CertificateExpired".into());
        let alerted = || ExecError::from(SmtpError::Tls { during: "STARTTLS".into(), error: TlsError::Alert("CertificateExpired".into()), facts: Box::default() });
        let mut out = StepOutput::default();
        assert!(out.tls_refusal(true, alerted()).is_ok());
        assert!(out.checks.len() == 1 && out.checks[0].passed && out.checks[0].actual.contains("CertificateExpired"));
        let mut out = StepOutput::default();
        assert!(out.tls_refusal(false, alerted()).is_err() && out.checks.is_empty());
        let read = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired));
        let mut out = StepOutput::default();
        assert!(out.tls_refusal(true, ExecError::from(ImapError::Io(read))).is_ok(), "an alert on the first read after the handshake");
        assert!(out.checks[0].actual.contains("CertificateRequired"), "{:?}", out.checks);
        let flattened = ExecError::new(Category::Tls, format!("TLS failed (STARTTLS): {alert}"));
        assert!(StepOutput::default().tls_refusal(true, flattened).is_err(), "text is never parsed for an alert");
        let other = ExecError::new(Category::Tls, "unknown issuer");
        assert!(StepOutput::default().tls_refusal(true, other).is_err());
    }
}
