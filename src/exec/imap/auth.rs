//! `AUTHENTICATE` (RFC 3501 §6.2.2) with or without SASL-IR (RFC 4959).
//!
//! The client response carries the token: it is written to the transcript only as
//! [`sasl::describe`] says. A server challenge after the response is an error report for the
//! OAuth mechanisms (RFC 7628 §3.2.2): it is recorded raw and decoded, then answered with the
//! mechanism's dummy response so the server can send its tagged `NO`.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::error::ImapError;
use super::response::Status;
use super::session::{ImapSession, Next};
use super::wire::{Deadline, Record};
use crate::exec::sasl::{self, Credentials};
use crate::scenario::model::Mechanism;

/// More challenges than this after the client response and the harness cancels (`*`).
const MAX_CHALLENGES: usize = 3;

/// What an AUTHENTICATE exchange showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthExchange {
    /// Challenges the server sent after the client response, decoded from base64 when they are
    /// base64 text (e.g. `{"status":"401","schemes":"bearer","scope":"mail"}`), else as sent.
    pub challenges: Vec<String>,
    /// Untagged responses received during the exchange (e.g. `CAPABILITY …`).
    pub untagged: Vec<String>,
    pub status: Status,
}

/// Where the client response stands.
#[derive(PartialEq)]
enum Progress {
    /// Not sent yet: the first `+` asks for it.
    Pending,
    Sent,
    /// The harness sent `*` (too many challenges).
    Cancelled,
}

impl ImapSession {
    /// `AUTHENTICATE mech`, with the initial response on the command line when `sasl_ir`, else
    /// after the server's first `+`. Refusals come back as an `Ok` with a `NO` status.
    pub async fn authenticate(
        &mut self,
        mech: Mechanism,
        creds: &Credentials,
        sasl_ir: bool,
    ) -> Result<AuthExchange, ImapError> {
        // The session knows whether TLS is up: a real credential never goes in clear.
        if let Some(note) = crate::exec::sasl::clear_text_login(self.wire.is_tls() || self.plaintext_auth_for_tests, creds, "AUTHENTICATE").map_err(ImapError::Harness)? {
            self.transcript().note(&note);
        }
        let tag = self.new_tag();
        let deadline = Deadline::after(self.timeouts.response);
        let response = Zeroizing::new(sasl::client_response_b64(
            mech,
            creds,
            &self.endpoint.host,
            self.endpoint.port,
        ));
        let description = sasl::describe(mech, creds);
        let mut progress = Progress::Pending;
        if sasl_ir {
            let line = Zeroizing::new(format!("{tag} AUTHENTICATE {} {}\r\n", mech.name(), response.as_str()));
            let shown = format!("{tag} AUTHENTICATE {} {description}", mech.name());
            self.wire
                .write(line.as_bytes(), Record::Secret(&shown), deadline)
                .await?;
            progress = Progress::Sent;
        } else {
            let line = format!("{tag} AUTHENTICATE {}\r\n", mech.name());
            self.wire.write(line.as_bytes(), Record::Wire, deadline).await?;
        }
        let mut exchange = AuthExchange {
            challenges: Vec::new(),
            untagged: Vec::new(),
            status: Status::bye(""),
        };
        loop {
            match self.next(&tag, deadline, "the AUTHENTICATE response").await? {
                Next::Tagged(status) => {
                    self.after_authentication(&status);
                    exchange.status = status;
                    return Ok(exchange);
                }
                Next::Untagged(msg) => exchange.untagged.push(msg.text()),
                Next::Continuation(text) => match progress {
                    Progress::Pending => {
                        self.note_challenge("challenge before the client response", &text);
                        // An empty response is an empty line here ("=" is SASL-IR only).
                        let wire = if response.as_str() == "=" {
                            ""
                        } else {
                            response.as_str()
                        };
                        let line = Zeroizing::new(format!("{wire}\r\n"));
                        self.wire
                            .write(line.as_bytes(), Record::Secret(&description), deadline)
                            .await?;
                        progress = Progress::Sent;
                    }
                    Progress::Sent => {
                        let decoded = self.note_challenge("challenge", &text);
                        exchange.challenges.push(decoded.unwrap_or(text));
                        let reply = if exchange.challenges.len() > MAX_CHALLENGES {
                            self.transcript()
                                .note("too many challenges: the harness cancels the exchange");
                            progress = Progress::Cancelled;
                            "*"
                        } else {
                            dummy_response(mech)
                        };
                        self.wire
                            .write(format!("{reply}\r\n").as_bytes(), Record::Wire, deadline)
                            .await?;
                    }
                    Progress::Cancelled => self.transcript().note("challenge after cancellation: ignored"),
                },
            }
        }
    }

    /// Notes a non-empty challenge decoded; returns the decoded text.
    fn note_challenge(&self, what: &str, text: &str) -> Option<String> {
        if text.trim().is_empty() {
            return None;
        }
        let decoded = sasl::decode_challenge(text);
        match &decoded {
            Some(d) => self.transcript().note(&format!("{what} decoded: {d}")),
            None => self.transcript().note(&format!("{what} is not base64 text")),
        }
        decoded
    }
}

/// The reply to an error challenge: RFC 7628 §3.2.3 wants `%x01` for OAUTHBEARER; XOAUTH2 and
/// the others take an empty response.
fn dummy_response(mech: Mechanism) -> &'static str {
    match mech {
        Mechanism::OAuthBearer => "AQ==",
        _ => "",
    }
}
